/**
 * scratch-simd: the network of src/scratch/network.ts in AssemblyScript with 128-bit WebAssembly SIMD (and,
 * in the relaxed build, fused multiply-adds: see `madd`), for any list of dense layers. The equations are
 * those of the table in network.ts's header (computed in the same order by its `blockSums` and by
 * `blockSums` here); layers are 0-based here (layer 0 reads the image).
 * What is specific to this file is how they are laid out and computed:
 *
 * Memory: this file only computes; src/simd/layout.ts decides where everything lives in linear memory and
 * writes two descriptor tables that every function here reads (their word offsets are defined below and
 * exported; layout.ts reads them from the module):
 *
 *   net (shared by all workers): per layer l the sizes in/out (and inP/outP rounded up to 4 lanes), the
 *     parameters W_lᵀ (in×outP, f32: the master copy, laid out so that an input k reads one contiguous row
 *     of output units), W_l (out×inP, f32: a row-major copy, refreshed after each update, for W_lᵀ·dZ_l),
 *     b_l (outP), Adam's moments in the same layout, and the offsets of dW_lᵀ (in×outP) and db_l (outP) in a
 *     block of float64 gradient sums.
 *   ws (one per worker): the staged samples of the current block (x, y, masks), the per-sub-block
 *     intermediates Z_l, A_l, dZ_l (SUB×outP f32), the lists of nonzero inputs of every layer (and, for
 *     a wide layer, their transpose by input: outerCols; for spmm's wide tiles, their entries as pairs of
 *     the matrix row's offset and the value), the block's float64 sums, and on a worker thread its wide
 *     layers' float32 dW column sums (slots, added to the total by wideFold).
 *
 * Precision: parameters, activations and the per-sample dZ are float32 (products and sums over one
 * sample's inputs); the gradient sums over samples (dW, db, the loss) are float64, as 60,000 products
 * summed in float32 would lose ~4 digits. A wide layer's dW (outerCols) sums one sub-block's products in
 * float32 registers first, then adds that in float64; a narrow layer's (outer64) adds every product, exact
 * in float64, one by one. Measured at the full batch, both agree with float64 as well as summing every
 * product in float64 does (see outerCols).
 *
 * Sparsity: every layer's input is read through a per-sample list of its nonzero entries, built once by a
 * SIMD compaction (compare, bitmask, shuffle from a 16-entry table) and used for both Z_l = W_l·A_{l−1}
 * (vectorised over output units) and dW_l += dZ_l·A_{l−1}ᵀ: for the image, MNIST's ~80% zero pixels; for
 * hidden layers, ReLU's and dropout's zeros. W_lᵀ·dZ_l reads dZ_l through the same kind of list. A
 * skipped zero would only have added an exact ±0.
 *
 * Order: every sum adds its terms in a fixed order (a sample's inputs in list order, for narrow tiles as
 * two interleaved partial sums; samples ascending within a sub-block and a block), so results are
 * bit-identical run to run; src/simd adds the blocks in block order whatever the number of threads.
 *
 * Plain loops: each SIMD kernel (scanRows, spmm, outerCols, outer64) has its plain loop beside it (`…Naive`), as
 * llm.c keeps matmul_forward_naive beside matmul_forward. They are exported, with the kernels, only so
 * that test/simd/kernels.test.ts can hold one against the other; the network never calls them.
 */

// ---- sizes, also in src/simd/layout.ts (checked at load: see blockSamples/subSamples) ----
/** samples per gradient block (the unit of the float64 sums added in block order) */
const BLOCK: i32 = 128;
/**
 * samples per sub-block (intermediates of SUB samples stay in cache). One sub-block per block: each input's
 * column of dW sums then reaches the float64 sums once per block, and outerCols writes them in one pass
 * with no read (measured: the deep step 5–8% faster than with sub-blocks of 64).
 */
const SUB: i32 = 128;
const INPUT: i32 = 784;

export function blockSamples(): i32 {
  return BLOCK;
}
export function subSamples(): i32 {
  return SUB;
}
/** first byte after static data: src/simd/layout.ts places everything above it */
export function heapBase(): usize {
  return __heap_base;
}

// ---- the two descriptor tables: word offsets (i32 words), defined here only ----
// Exported as constant globals: src/simd/layout.ts reads them from the instantiated module, so the table
// it writes and the one read here cannot disagree. Here they are compile-time constants (inlined).
// net descriptor: N_L layers, N_SUMS_BYTES bytes per block of sums, N_LOSS the loss's byte offset in it;
// layer l's fields L_* start at word N_LAYER0 + l·N_STRIDE
export const N_L = 0, N_SUMS_BYTES = 1, N_LOSS = 2, N_LAYER0 = 4, N_STRIDE = 16;
export const L_IN = 0, L_OUT = 1, L_INP = 2, L_OUTP = 3, L_WT = 4, L_WR = 5, L_B = 6, L_DW = 7, L_DB = 8;
export const L_MW = 9, L_VW = 10, L_MB = 11, L_VB = 12;
// workspace descriptor (one per worker): layer l's fields WL_* start at word W_LAYER0 + l·W_STRIDE
export const W_X = 0, W_Y = 1, W_DZLIST = 2, W_DZSTART = 3, W_COLSTART = 4, W_COUNT = 5, W_DZ64 = 6, W_PAIRS = 7, W_LAYER0 = 8, W_STRIDE = 9;
export const WL_Z = 0, WL_A = 1, WL_DZ = 2, WL_LIST = 3, WL_START = 4, WL_MASK = 5, WL_CS = 6, WL_CE = 7, WL_SLOT = 8;

/**
 * a·b + c per lane. With relaxed SIMD (the `relaxed` builds, see src/simd/build.ts) one f32x4.relaxed_madd,
 * which V8 compiles to a fused multiply-add where the CPU has one (one rounding); otherwise a multiply
 * then an add (two roundings). Either way the same on every run of one build on one machine.
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// activations (the order of ACTIVATIONS in src/core/types.ts)
const RELU = 0, TANH = 1, SIGMOID = 2;

@inline function word(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
@inline function lw(net: usize, l: i32, f: i32): i32 {
  return word(net, N_LAYER0 + l * N_STRIDE + f);
}
@inline function lp(net: usize, l: i32, f: i32): usize {
  return <usize>lw(net, l, f);
}
@inline function wp(ws: usize, l: i32, f: i32): usize {
  return <usize>word(ws, W_LAYER0 + l * W_STRIDE + f);
}

/**
 * 16 shuffles of 16 bytes: entry k moves the i32 lanes whose bit is set in k to the front, in order (bytes
 * 0x80 give zeros). A data segment rather than code, because every worker's instantiation writes the
 * module's data segments into the shared memory again: the same bytes, so that is harmless.
 */
// prettier-ignore
const COMPACT: usize = memory.data<u8>([
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128,
  8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128,
  12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128,
  8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
], 16);

// ---- lists of nonzeros ----

/**
 * For each of the n rows of `rows` (row stride rs bytes, wP floats, a multiple of 4), the byte offsets
 * 4·k of its nonzero entries, ascending, into idx; row i's are idx[start[i] .. start[i+1]). Returns the
 * total count. idx needs 3 spare entries after the last (whole vectors are stored).
 */
export function scanRows(rows: usize, rs: usize, wP: i32, n: i32, idx: usize, start: usize): i32 {
  const zero = f32x4.splat(0);
  const step = i32x4.splat(16);
  let t: i32 = 0;
  const bytes = <usize>wP << 2;
  for (let i = 0; i < n; i++) {
    store<i32>(start + (<usize>i << 2), t);
    const row = rows + <usize>i * rs;
    let base = i32x4(0, 4, 8, 12);
    let g: usize = 0;
    // 16 entries at a time: one test skips four all-zero vectors (image borders, dead or dropped units)
    for (; g + 64 <= bytes; g += 64) {
      const v0 = v128.load(row + g), v1 = v128.load(row + g, 16), v2 = v128.load(row + g, 32), v3 = v128.load(row + g, 48);
      const n0 = f32x4.ne(v0, zero), n1 = f32x4.ne(v1, zero), n2 = f32x4.ne(v2, zero), n3 = f32x4.ne(v3, zero);
      if (!v128.any_true(v128.or(v128.or(n0, n1), v128.or(n2, n3)))) {
        base = i32x4.add(base, i32x4.splat(64));
        continue;
      }
      let k = i32x4.bitmask(n0);
      v128.store(idx + (<usize>t << 2), i8x16.swizzle(base, v128.load(COMPACT + (<usize>k << 4))));
      t += popcnt(k);
      base = i32x4.add(base, step);
      k = i32x4.bitmask(n1);
      v128.store(idx + (<usize>t << 2), i8x16.swizzle(base, v128.load(COMPACT + (<usize>k << 4))));
      t += popcnt(k);
      base = i32x4.add(base, step);
      k = i32x4.bitmask(n2);
      v128.store(idx + (<usize>t << 2), i8x16.swizzle(base, v128.load(COMPACT + (<usize>k << 4))));
      t += popcnt(k);
      base = i32x4.add(base, step);
      k = i32x4.bitmask(n3);
      v128.store(idx + (<usize>t << 2), i8x16.swizzle(base, v128.load(COMPACT + (<usize>k << 4))));
      t += popcnt(k);
      base = i32x4.add(base, step);
    }
    for (; g < bytes; g += 16) {
      const k = i32x4.bitmask(f32x4.ne(v128.load(row + g), zero));
      v128.store(idx + (<usize>t << 2), i8x16.swizzle(base, v128.load(COMPACT + (<usize>k << 4))));
      t += popcnt(k);
      base = i32x4.add(base, step);
    }
  }
  store<i32>(start + (<usize>n << 2), t);
  return t;
}

/** scanRows's plain loop: each entry tested on its own. */
export function scanRowsNaive(rows: usize, rs: usize, wP: i32, n: i32, idx: usize, start: usize): i32 {
  let t: i32 = 0;
  for (let i = 0; i < n; i++) {
    store<i32>(start + (<usize>i << 2), t);
    for (let k = 0; k < wP; k++) {
      if (load<f32>(rows + <usize>i * rs + (<usize>k << 2)) != 0) {
        store<i32>(idx + (<usize>t << 2), k << 2);
        t++;
      }
    }
  }
  store<i32>(start + (<usize>n << 2), t);
  return t;
}

// ---- out = rows (sparse, through their lists) × M, vectorised over the columns of M ----

/**
 * out[i]'s V vectors at o := a0..a6 (the first V of them) + the bias's V vectors at bc (0: no bias): the end
 * of every spmm tile.
 */
@inline function storeTile(V: i32, o: usize, bc: usize, a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128): void {
  if (bc) {
    a0 = f32x4.add(a0, v128.load(bc));
    if (V > 1) a1 = f32x4.add(a1, v128.load(bc, 16));
    if (V > 2) a2 = f32x4.add(a2, v128.load(bc, 32));
    if (V > 3) a3 = f32x4.add(a3, v128.load(bc, 48));
    if (V > 4) a4 = f32x4.add(a4, v128.load(bc, 64));
    if (V > 5) a5 = f32x4.add(a5, v128.load(bc, 80));
    if (V > 6) a6 = f32x4.add(a6, v128.load(bc, 96));
  }
  v128.store(o, a0);
  if (V > 1) v128.store(o, a1, 16);
  if (V > 2) v128.store(o, a2, 32);
  if (V > 3) v128.store(o, a3, 48);
  if (V > 4) v128.store(o, a4, 64);
  if (V > 5) v128.store(o, a5, 80);
  if (V > 6) v128.store(o, a6, 96);
}

/**
 * One narrow tile, V ≤ 4 vectors (4V columns starting at byte `col`), of out[i] = (Σ_t rows[i, k_t]·M[k_t])
 * + bias over row i's whole list, two entries per iteration into two sets of accumulators (a0..a3 even
 * entries, a4..a7 odd ones), which halves the chain of dependent adds; the sets are added at the end.
 * (Wider tiles have enough independent accumulators: spmmChunk, one term at a time.) M has mq floats per
 * row; out has row stride os bytes. Inlined with a constant V, so the accumulators are locals (registers).
 */
@inline function spmmTile(V: i32, rows: usize, rs: usize, idx: usize, start: usize, n: i32, M: usize, mq: usize, col: usize, bias: usize, out: usize, os: usize): void {
  const Mc = M + col;
  for (let i = 0; i < n; i++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    const row = rows + <usize>i * rs;
    const e = load<i32>(start + (<usize>i << 2), 4);
    let t = load<i32>(start + (<usize>i << 2));
    for (; t + 1 < e; t += 2) {
      const o0 = <usize>load<i32>(idx + (<usize>t << 2)), o1 = <usize>load<i32>(idx + (<usize>t << 2), 4);
      const v = v128.load32_splat(row + o0), u = v128.load32_splat(row + o1);
      const w = Mc + o0 * mq, x = Mc + o1 * mq;
      a0 = madd(v, v128.load(w), a0);
      a4 = madd(u, v128.load(x), a4);
      if (V > 1) a1 = madd(v, v128.load(w, 16), a1);
      if (V > 1) a5 = madd(u, v128.load(x, 16), a5);
      if (V > 2) a2 = madd(v, v128.load(w, 32), a2);
      if (V > 2) a6 = madd(u, v128.load(x, 32), a6);
      if (V > 3) a3 = madd(v, v128.load(w, 48), a3);
      if (V > 3) a7 = madd(u, v128.load(x, 48), a7);
    }
    if (t < e) {
      const o0 = <usize>load<i32>(idx + (<usize>t << 2));
      const v = v128.load32_splat(row + o0);
      const w = Mc + o0 * mq;
      a0 = madd(v, v128.load(w), a0);
      if (V > 1) a1 = madd(v, v128.load(w, 16), a1);
      if (V > 2) a2 = madd(v, v128.load(w, 32), a2);
      if (V > 3) a3 = madd(v, v128.load(w, 48), a3);
    }
    a0 = f32x4.add(a0, a4);
    if (V > 1) a1 = f32x4.add(a1, a5);
    if (V > 2) a2 = f32x4.add(a2, a6);
    if (V > 3) a3 = f32x4.add(a3, a7);
    storeTile(V, out + <usize>i * os + col, bias ? bias + col : 0, a0, a1, a2, a3, a4, a5, a6);
  }
}

/**
 * One tile of V ≤ MAX_V vectors over one chunk of M's rows: out[i] (4V columns at `out`, M's from `Mc`) +=
 * Σ_t rows[i, k_t]·M[k_t] over row i's entries [cst[i·cq], cst[i·cq + 1]) (the chunk's part of its list,
 * read as `pairs`), one term at a time into each accumulator, the accumulators starting from +0 (`first`
 * chunk) or from what the previous chunk stored; the last chunk adds the bias (bc ≠ 0). So every output
 * is the same float32 sequence of additions as without chunks: the list's terms in order, then the bias.
 * Also the whole-list tile of more than 4 vectors (one chunk: cst = the lists' starts, cq = 1).
 */
@inline function spmmChunk(V: i32, pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  for (let i = 0; i < n; i++) {
    const o = out + <usize>i * os;
    const z = f32x4.splat(0);
    let a0 = first ? z : v128.load(o);
    let a1 = V > 1 && !first ? v128.load(o, 16) : z;
    let a2 = V > 2 && !first ? v128.load(o, 32) : z;
    let a3 = V > 3 && !first ? v128.load(o, 48) : z;
    let a4 = V > 4 && !first ? v128.load(o, 64) : z;
    let a5 = V > 5 && !first ? v128.load(o, 80) : z;
    let a6 = V > 6 && !first ? v128.load(o, 96) : z;
    const c = cst + ((<usize>i * cq) << 2);
    const e = load<i32>(c, 4);
    for (let t = load<i32>(c); t < e; t++) {
      const p = pairs + (<usize>t << 3);
      const w = Mc + <usize>load<i32>(p);
      const v = v128.load32_splat(p, 4);
      a0 = madd(v, v128.load(w), a0);
      if (V > 1) a1 = madd(v, v128.load(w, 16), a1);
      if (V > 2) a2 = madd(v, v128.load(w, 32), a2);
      if (V > 3) a3 = madd(v, v128.load(w, 48), a3);
      if (V > 4) a4 = madd(v, v128.load(w, 64), a4);
      if (V > 5) a5 = madd(v, v128.load(w, 80), a5);
      if (V > 6) a6 = madd(v, v128.load(w, 96), a6);
    }
    storeTile(V, o, bc, a0, a1, a2, a3, a4, a5, a6);
  }
}
// one function per width, called (not inlined) from spmm: V8 allocates registers per function, and inside
// spmm's body, with all its cases, it kept more of the loop's integers on the stack (measured: the deep
// step 1.02–1.04× faster with these calls)
function spmmChunk7(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(7, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk6(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(6, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk5(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(5, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk4(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(4, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk3(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(3, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk2(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(2, pairs, cst, cq, n, Mc, out, os, bc, first);
}
function spmmChunk1(pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  spmmChunk(1, pairs, cst, cq, n, Mc, out, os, bc, first);
}
/** spmmChunk for a tile width known only at run time (1..MAX_V). */
@inline function spmmChunks(V: i32, pairs: usize, cst: usize, cq: usize, n: i32, Mc: usize, out: usize, os: usize, bc: usize, first: bool): void {
  switch (V) {
    case 7: spmmChunk7(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    case 6: spmmChunk6(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    case 5: spmmChunk5(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    case 4: spmmChunk4(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    case 3: spmmChunk3(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    case 2: spmmChunk2(pairs, cst, cq, n, Mc, out, os, bc, first); break;
    default: spmmChunk1(pairs, cst, cq, n, Mc, out, os, bc, first); break;
  }
}

/**
 * Bytes of a tile's slice of the matrix (the rows of one chunk × the tile's columns) that should stay in the
 * L1 cache while every row of the sub-block passes over it (measured: on 784 rows, a tile of 8 vectors over
 * all of them, a 100 KB slice, runs 1.5× slower than one of 3 vectors, whose slice fits).
 */
const L1_TILE_BYTES: i32 = 40 * 1024;
/**
 * The widest tile, in vectors, of spmm and of the dW column sums (colTile). V8 gives WebAssembly SIMD 15
 * vector registers on x64 (xmm0–xmm14), and it loads all of a term's V vectors of the matrix before their
 * multiply-adds, so a tile holds V accumulators, V loaded vectors and the broadcast value: 2V + 1 ≤ 15.
 * Tiles of 8 spilled an accumulator and a loaded vector to the stack on every term (seen in the machine
 * code V8 emits); tiles of at most 7 made the deep step 1.26–1.34× faster, and 6 was slower than 7
 * (measured in one process, interleaved).
 */
const MAX_V: i32 = 7;
/** The fewest rows of M a chunk has (a tile of MAX_V vectors); spmm's chunk table then has ⌈K/CHUNK_ROWS⌉ + 1 words per row. */
export const CHUNK_ROWS: i32 = L1_TILE_BYTES / (MAX_V << 4);

/**
 * out (n×wP, row stride 4·wP) = rows·M + bias over the lists: M is K×wP (wP a multiple of 4), bias wP
 * floats or 0 for none. Tiles of up to MAX_V vectors of columns, as even as can be (the accumulators of a
 * tile are registers); each tile's slice of M is reused by all n rows while it is in the L1 cache. Where the
 * slice of all K rows would not fit (L1_TILE_BYTES), the rows are cut into chunks whose slices do, each
 * row's list is cut at the chunk boundaries once (a table at `cst`, n·(chunks + 1) words), and a tile's
 * partial sums pass from chunk to chunk through `out`: the deep network's first layer (784 rows, 100
 * vectors) runs in tiles of 7 vectors over 3 chunks rather than tiles of 3 over all 784 rows, which loads
 * an entry's index and value once per 7 multiply-adds instead of once per 3.
 * The tiles that add one term at a time (chunked, or wider than 4 vectors) read the lists as pairs of
 * (byte offset of M's row, value), made once at `pairs` (8 bytes per entry) for every tile, so their loop
 * has no multiply and fewer live integers (measured: the deep step 1.09–1.10× faster than reading the
 * lists and the rows in every tile).
 */
export function spmm(rows: usize, rs: usize, idx: usize, start: usize, n: i32, M: usize, K: i32, wP: i32, bias: usize, out: usize, cst: usize, pairs: usize): void {
  const mq = <usize>wP;
  const os = <usize>wP << 2;
  const vecs = wP >> 2;
  const tiles = (vecs + MAX_V - 1) / MAX_V;
  const widest = (vecs + tiles - 1) / tiles;
  const chunkRows = max(1, L1_TILE_BYTES / (widest << 4));
  const chunks = (K + chunkRows - 1) / chunkRows;
  if (chunks > 1 || widest > 4) {
    // the lists' entries as (byte offset of M's row, value) pairs, for the tiles that add one term at a time
    for (let i = 0; i < n; i++) {
      const row = rows + <usize>i * rs;
      const e = load<i32>(start + (<usize>i << 2), 4);
      for (let t = load<i32>(start + (<usize>i << 2)); t < e; t++) {
        const off = <usize>load<i32>(idx + (<usize>t << 2));
        const p = pairs + (<usize>t << 3);
        store<i32>(p, <i32>(off * mq));
        store<f32>(p, load<f32>(row + off), 4);
      }
    }
  }
  if (chunks > 1) {
    const rowsPer = (K + chunks - 1) / chunks; // the chunks as even as can be
    // the chunk table: row i's first entry at or after chunk c's first row, c = 0 .. chunks (the end)
    const cq = <usize>chunks + 1;
    for (let i = 0; i < n; i++) {
      const c = cst + ((<usize>i * cq) << 2);
      let t = load<i32>(start + (<usize>i << 2));
      const e = load<i32>(start + (<usize>i << 2), 4);
      store<i32>(c, t);
      for (let q = 1; q < chunks; q++) {
        const lim = (q * rowsPer) << 2;
        while (t < e && load<i32>(idx + (<usize>t << 2)) < lim) t++;
        store<i32>(c + (<usize>q << 2), t);
      }
      store<i32>(c + (<usize>chunks << 2), e);
    }
  }
  let left = vecs;
  let col: usize = 0;
  for (let tl = tiles; tl > 0; tl--) {
    const V = (left + tl - 1) / tl;
    if (chunks == 1 && V <= 4) {
      switch (V) {
        case 4: spmmTile(4, rows, rs, idx, start, n, M, mq, col, bias, out, os); break;
        case 3: spmmTile(3, rows, rs, idx, start, n, M, mq, col, bias, out, os); break;
        case 2: spmmTile(2, rows, rs, idx, start, n, M, mq, col, bias, out, os); break;
        default: spmmTile(1, rows, rs, idx, start, n, M, mq, col, bias, out, os); break;
      }
    } else if (chunks == 1) {
      // one term at a time over the whole lists: the lists' starts are the chunk table
      spmmChunks(V, pairs, start, 1, n, M + col, out + col, os, bias ? bias + col : 0, true);
    } else {
      const cq = <usize>chunks + 1;
      for (let q = 0; q < chunks; q++) {
        const last = q == chunks - 1;
        spmmChunks(V, pairs, cst + (<usize>q << 2), cq, n, M + col, out + col, os, last && bias ? bias + col : 0, q == 0);
      }
    }
    left -= V;
    col += <usize>V << 4;
  }
}

/**
 * spmm's plain loop: out[i, c] = (Σ_k rows[i, k]·M[k, c]) + bias[c] in float32, every k < K ascending (zeros
 * too), for every c < wP. Bit-identical to spmm where a tile adds its terms one by one (tiles of more than
 * 4 vectors); within float32 rounding where it keeps two interleaved partial sums.
 */
export function spmmNaive(rows: usize, rs: usize, n: i32, M: usize, K: i32, wP: i32, bias: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < wP; c++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) s += load<f32>(rows + <usize>i * rs + (<usize>k << 2)) * load<f32>(M + (<usize>(k * wP + c) << 2));
      if (bias) s += load<f32>(bias + (<usize>c << 2));
      store<f32>(out + (<usize>(i * wP + c) << 2), s);
    }
  }
}

// ---- dWᵀ sums: S[k] += Σ_i rows[i, k]·dZ[i] over the columns of the lists ----

/**
 * One tile of V ≤ MAX_V vectors (4V units from byte `col` of a dZ row) of one input k: the float32 sum
 * acc = Σ_e value_e·dZ[row_e] over k's column entries [from, to) (samples ascending), kept in registers,
 * then added to S[k]'s float64 lanes (Sk: S's row k plus 2·col), or with `f32`, stored as float32 (Sk:
 * a float32 row k plus col).
 */
@inline function colTile(V: i32, ce: usize, from: i32, to: i32, dzc: usize, Sk: usize, first: bool, f32: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0);
  for (let e = from; e < to; e++) {
    const p = ce + (<usize>e << 3);
    const d = dzc + <usize>load<i32>(p);
    const v = v128.load32_splat(p, 4);
    a0 = madd(v, v128.load(d), a0);
    if (V > 1) a1 = madd(v, v128.load(d, 16), a1);
    if (V > 2) a2 = madd(v, v128.load(d, 32), a2);
    if (V > 3) a3 = madd(v, v128.load(d, 48), a3);
    if (V > 4) a4 = madd(v, v128.load(d, 64), a4);
    if (V > 5) a5 = madd(v, v128.load(d, 80), a5);
    if (V > 6) a6 = madd(v, v128.load(d, 96), a6);
  }
  if (f32) {
    v128.store(Sk, a0);
    if (V > 1) v128.store(Sk, a1, 16);
    if (V > 2) v128.store(Sk, a2, 32);
    if (V > 3) v128.store(Sk, a3, 48);
    if (V > 4) v128.store(Sk, a4, 64);
    if (V > 5) v128.store(Sk, a5, 80);
    if (V > 6) v128.store(Sk, a6, 96);
    return;
  }
  add64(Sk, a0, first);
  if (V > 1) add64(Sk + 32, a1, first);
  if (V > 2) add64(Sk + 64, a2, first);
  if (V > 3) add64(Sk + 96, a3, first);
  if (V > 4) add64(Sk + 128, a4, first);
  if (V > 5) add64(Sk + 160, a5, first);
  if (V > 6) add64(Sk + 192, a6, first);
}

/** V vectors' worth of float64 lanes (8V floats) at Sk set to +0 (an input with no entries in a first pass). */
@inline function zeroTile(V: i32, Sk: usize): void {
  const z = f64x2.splat(0);
  for (let o: usize = 0; o < (<usize>V << 5); o += 16) v128.store(Sk + o, z);
}

/**
 * s[0..3] (float64) += the four lanes of a (float32, exact in float64); when `first`, s = +0 + a instead,
 * without reading s (the same bits as adding to a zeroed s).
 */
@inline function add64(s: usize, a: v128, first: bool = false): void {
  const z = f64x2.splat(0);
  v128.store(s, f64x2.add(first ? z : v128.load(s), f64x2.promote_low_f32x4(a)));
  v128.store(s, f64x2.add(first ? z : v128.load(s, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1))), 16);
}

/**
 * The lists of rows' nonzeros (per sample) transposed into columns: per input k, the samples where
 * rows[i, k] ≠ 0, ascending, as (byte offset of sample i's dZ row, value) pairs of 8 bytes in ce, input k's
 * ending at entry cs[k] (and starting at cs[k − 1], or 0): a counting sort. Returns the number of entries.
 */
export function transposeCols(rows: usize, rs: usize, idx: usize, start: usize, n: i32, outP: i32, K: i32, cs: usize, ce: usize): i32 {
  memory.fill(cs, 0, (<usize>K + 1) << 2);
  const t0 = load<i32>(start), t1 = load<i32>(start + (<usize>n << 2));
  // counts per input k (idx holds byte offsets 4k), then exclusive prefix sums: cs[k] = k's first entry
  for (let t = t0; t < t1; t++) {
    const c = cs + <usize>load<i32>(idx + (<usize>t << 2));
    store<i32>(c, load<i32>(c) + 1);
  }
  let run: i32 = 0;
  for (let q = 0; q < K; q++) {
    const c = cs + (<usize>q << 2);
    const cnt = load<i32>(c);
    store<i32>(c, run);
    run += cnt;
  }
  // scatter (dZ row offset, value) by input, samples ascending; afterwards cs[k] is k's end = k+1's start
  const ds = <usize>outP << 2;
  for (let i = 0; i < n; i++) {
    const row = rows + <usize>i * rs;
    const e = load<i32>(start + (<usize>i << 2), 4);
    for (let t = load<i32>(start + (<usize>i << 2)); t < e; t++) {
      const off = <usize>load<i32>(idx + (<usize>t << 2));
      const c = cs + off;
      const pos = load<i32>(c);
      store<i32>(c, pos + 1);
      const p = ce + (<usize>pos << 3);
      store<i32>(p, <i32>(<usize>i * ds));
      store<f32>(p, load<f32>(row + off), 4);
    }
  }
  return t1 - t0;
}

/**
 * One tile of outerCols: every input k's column sums of the 4V units at dzc, into S's columns at Sc (row
 * stride sq bytes): added to float64 sums, or written (`first`), or with `f32` written as float32.
 */
@inline function colsTile(V: i32, ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  let from: i32 = 0;
  for (let q = 0; q < K; q++) {
    const to = load<i32>(cs + (<usize>q << 2));
    const Sk = Sc + <usize>q * sq;
    if (to > from) {
      colTile(V, ce, from, to, dzc, Sk, first, f32);
    } else if (f32) {
      memory.fill(Sk, 0, <usize>V << 4);
    } else if (first) {
      zeroTile(V, Sk);
    }
    from = to;
  }
}
// one function per width, called from outerCols, as spmmChunk1..7 from spmm (measured: the deep step
// 1.02–1.03× faster than with the tiles inlined into outerCols)
function colsTile7(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(7, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile6(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(6, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile5(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(5, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile4(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(4, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile3(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(3, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile2(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(2, ce, cs, K, dzc, Sc, sq, first, f32);
}
function colsTile1(ce: usize, cs: usize, K: i32, dzc: usize, Sc: usize, sq: usize, first: bool, f32: bool): void {
  colsTile(1, ce, cs, K, dzc, Sc, sq, first, f32);
}

/**
 * S (K×outP float64) += rowsᵀ·dZ (dZ: n×outP float32) over the lists of rows' nonzeros. The lists (per
 * sample) are first transposed into columns (per input k, the samples where rows[i, k] ≠ 0, ascending: a
 * counting sort into cs, K + 1 words, and ce, 8 bytes per entry); then, per tile of units and per input k,
 * the column's products are summed in float32 registers and added to S[k] once, in float64. So a float32
 * sum covers at most one sub-block (SUB samples) and the batch's sums stay float64: measured against
 * scratch (float64 throughout) at m = 60,000, about the same agreement as summing every product in float64
 * (relative L2 ≤ 5.2e-8 per tensor with sub-blocks of 128, against 3.7–4.1e-8 with every product in
 * float64; see test/simd/gradients.test.ts), at half the cost. Returns the
 * number of list entries (each costs `out` multiply-adds; padding lanes of dZ are 0 and add 0).
 * With `first` (a block's first sub-block), S's K rows are written rather than added to, from +0: the
 * block's sums need no zeroing pass (3 MB for the deep network's dW1). With `f32`, S is K×outP float32
 * and gets the float32 column sums themselves (+0 where a column is empty): a worker thread's block,
 * added to the total by wideFold.
 */
export function outerCols(rows: usize, rs: usize, idx: usize, start: usize, n: i32, dZ: usize, outP: i32, K: i32, S: usize, cs: usize, ce: usize, first: bool, f32: bool): i32 {
  const entries = transposeCols(rows, rs, idx, start, n, outP, K, cs, ce);
  const sq = <usize>outP << (f32 ? 2 : 3);
  let left = outP >> 2;
  let col: usize = 0;
  for (let tl = (left + MAX_V - 1) / MAX_V; tl > 0; tl--) {
    const V = (left + tl - 1) / tl;
    switch (V) {
      case 7: colsTile7(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      case 6: colsTile6(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      case 5: colsTile5(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      case 4: colsTile4(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      case 3: colsTile3(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      case 2: colsTile2(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
      default: colsTile1(ce, cs, K, dZ + col, S + (f32 ? col : col << 1), sq, first, f32); break;
    }
    left -= V;
    col += <usize>V << 4;
  }
  return entries;
}

/**
 * The wide layers' dW sums of a wave of `count` blocks added to the total, in block order: each block's
 * float32 column sums were stored by its worker in its workspace's slots (blockSums, WIDE_SLOT; `wsTable`:
 * the workspaces' descriptor addresses, i32, in block order), and every element of the total gets
 * (t + f64(s_0)) + f64(s_1) + …, from t = +0 in the batch's first wave (`first`): exactly the additions
 * outerCols makes on the calling thread. Only the elements whose sums lie in bytes [lo, hi) of the block
 * of sums (multiples of 32): each worker thread folds its own share, then updates the same parameters.
 */
export function wideFold(net: usize, wsTable: usize, count: i32, total: usize, first: bool, lo: i32, hi: i32): void {
  const L = word(net, N_L);
  const z = f64x2.splat(0);
  for (let l = 0; l < L; l++) {
    const outP = lw(net, l, L_OUTP);
    if (outP <= NARROW) continue;
    const s0 = lw(net, l, L_DW);
    const S = total + <usize>s0;
    const end = endOf(hi, s0, lw(net, l, L_IN) * outP);
    for (let i = firstOf(lo, s0); i < end; i += 4) {
      const t = S + (<usize>i << 3);
      let t0 = first ? z : v128.load(t), t1 = first ? z : v128.load(t, 16);
      for (let b = 0; b < count; b++) {
        const a = v128.load(wp(<usize>word(wsTable, b), l, WL_SLOT) + (<usize>i << 2));
        t0 = f64x2.add(t0, f64x2.promote_low_f32x4(a));
        t1 = f64x2.add(t1, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
      }
      v128.store(t, t0);
      v128.store(t, t1, 16);
    }
  }
}

/**
 * outerCols's plain loop: for every k < K and unit c < outP, the float32 sum over the samples ascending of
 * rows[i, k]·dZ[i, c] (zeros included: they add ±0), added to S[k, c] in float64.
 */
export function outerColsNaive(rows: usize, rs: usize, K: i32, n: i32, dZ: usize, outP: i32, S: usize): void {
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < outP; c++) {
      let a: f32 = 0;
      for (let i = 0; i < n; i++) a += load<f32>(rows + <usize>i * rs + (<usize>k << 2)) * load<f32>(dZ + (<usize>(i * outP + c) << 2));
      const s = S + (<usize>(k * outP + c) << 3);
      store<f64>(s, load<f64>(s) + <f64>a);
    }
  }
}

/** db (outP f64) += Σ_i dZ[i] (n×outP f32), samples ascending. */
function sumRows64(dZ: usize, n: i32, outP: i32, db: usize): void {
  const vecs = outP >> 2;
  for (let i = 0; i < n; i++) {
    const src = dZ + (<usize>(i * outP) << 2);
    for (let v = 0; v < vecs; v++) add64(db + (<usize>v << 5), v128.load(src + (<usize>v << 4)));
  }
}

// ---- dWᵀ sums of a narrow layer: S[k] += rows[i, k]·dz64[i] sample by sample, in float64 ----

/**
 * One tile of P ≤ 8 float64 pairs (2P units from byte `col` of a float64 row) of
 * S[k_t, ·] += f64(rows[i, k_t])·dZ64[i, ·], samples ascending, t ascending. S rows have sq·4 bytes
 * (sq = 2·outP: off = 4k → off·sq = 8k·outP).
 */
@inline function outerTile(P: i32, rows: usize, rs: usize, idx: usize, start: usize, n: i32, dz: usize, ds: usize, S: usize, sq: usize, col: usize): void {
  const Sc = S + col;
  for (let i = 0; i < n; i++) {
    const d = dz + <usize>i * ds + col;
    const d0 = v128.load(d);
    const d1 = P > 1 ? v128.load(d, 16) : d0;
    const d2 = P > 2 ? v128.load(d, 32) : d0;
    const d3 = P > 3 ? v128.load(d, 48) : d0;
    const d4 = P > 4 ? v128.load(d, 64) : d0;
    const d5 = P > 5 ? v128.load(d, 80) : d0;
    const d6 = P > 6 ? v128.load(d, 96) : d0;
    const d7 = P > 7 ? v128.load(d, 112) : d0;
    const row = rows + <usize>i * rs;
    const e = load<i32>(start + (<usize>i << 2), 4);
    for (let t = load<i32>(start + (<usize>i << 2)); t < e; t++) {
      const off = <usize>load<i32>(idx + (<usize>t << 2));
      const v = f64x2.splat(<f64>load<f32>(row + off));
      const s = Sc + off * sq;
      v128.store(s, f64x2.add(v128.load(s), f64x2.mul(v, d0)));
      if (P > 1) v128.store(s, f64x2.add(v128.load(s, 16), f64x2.mul(v, d1)), 16);
      if (P > 2) v128.store(s, f64x2.add(v128.load(s, 32), f64x2.mul(v, d2)), 32);
      if (P > 3) v128.store(s, f64x2.add(v128.load(s, 48), f64x2.mul(v, d3)), 48);
      if (P > 4) v128.store(s, f64x2.add(v128.load(s, 64), f64x2.mul(v, d4)), 64);
      if (P > 5) v128.store(s, f64x2.add(v128.load(s, 80), f64x2.mul(v, d5)), 80);
      if (P > 6) v128.store(s, f64x2.add(v128.load(s, 96), f64x2.mul(v, d6)), 96);
      if (P > 7) v128.store(s, f64x2.add(v128.load(s, 112), f64x2.mul(v, d7)), 112);
    }
  }
}

/**
 * S (K×outP float64) += rowsᵀ·dZ64 over the lists, for the first `out` units (ceil(out/2) pairs: the
 * padded pair of out ≡ 2 mod 4 is never touched and stays 0).
 */
export function outer64(rows: usize, rs: usize, idx: usize, start: usize, n: i32, dz: usize, outP: i32, out: i32, S: usize): void {
  const ds = <usize>outP << 3;
  const sq = <usize>outP << 1;
  // (no L1 rule here, unlike spmm: splitting 784-10-10's 5 pairs into 3 + 2 to fit L1 measured slower,
  // the second pass over the lists costing more than the L2 traffic it saves)
  let left = (out + 1) >> 1;
  let col: usize = 0;
  while (left > 0) {
    const P = min(left, 8);
    switch (P) {
      case 8: outerTile(8, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 7: outerTile(7, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 6: outerTile(6, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 5: outerTile(5, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 4: outerTile(4, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 3: outerTile(3, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      case 2: outerTile(2, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
      default: outerTile(1, rows, rs, idx, start, n, dz, ds, S, sq, col); break;
    }
    left -= P;
    col += <usize>P << 4;
  }
}

/** outer64's plain loop: S[k, c] += f64(rows[i, k])·dz64[i, c] for every k < K and c < out, samples ascending. */
export function outer64Naive(rows: usize, rs: usize, K: i32, n: i32, dz: usize, outP: i32, out: i32, S: usize): void {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const a = <f64>load<f32>(rows + <usize>i * rs + (<usize>k << 2));
      for (let c = 0; c < out; c++) {
        const s = S + (<usize>(k * outP + c) << 3);
        store<f64>(s, load<f64>(s) + a * load<f64>(dz + (<usize>(i * outP + c) << 3)));
      }
    }
  }
}

/** dz64 (n×outP f64) = dZ (n×outP f32), and db (outP f64) += Σ_i dz64[i], samples ascending. */
function promoteAndSum(dZ: usize, n: i32, outP: i32, dz64: usize, db: usize): void {
  const vecs = outP >> 2;
  for (let i = 0; i < n; i++) {
    const src = dZ + (<usize>(i * outP) << 2), dst = dz64 + (<usize>(i * outP) << 3);
    for (let v = 0; v < vecs; v++) {
      const z = v128.load(src + (<usize>v << 4));
      const lo = f64x2.promote_low_f32x4(z);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(z, z, 2, 3, 0, 1));
      const o = dst + (<usize>v << 5), b = db + (<usize>v << 5);
      v128.store(o, lo);
      v128.store(o, hi, 16);
      v128.store(b, f64x2.add(v128.load(b), lo));
      v128.store(b, f64x2.add(v128.load(b, 16), hi), 16);
    }
  }
}

// ---- elementwise functions on float32 lanes ----

/**
 * e^x per lane (Cephes expf: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial,
 * scaled by 2^n through the exponent bits; ~1 ULP). Below −87.3 the result is 0; above 88.7, +∞.
 */
@inline function exp4(x: v128): v128 {
  const hiMask = f32x4.gt(x, f32x4.splat(88.7228391));
  const loMask = f32x4.lt(x, f32x4.splat(-87.3365447));
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3365447)), f32x4.splat(88.7228391));
  const fx = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(xc, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), f32x4.splat(1));
  // 2^n, n in −126..128: n = 128 (only at the top of the range) is done as 2·2^127
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const n1 = i32x4.shr_s(n, 1);
  const p1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const p2 = i32x4.shl(i32x4.add(i32x4.sub(n, n1), i32x4.splat(127)), 23);
  y = f32x4.mul(f32x4.mul(y, p1), p2);
  y = v128.andnot(y, loMask);
  return v128.bitselect(f32x4.splat(Infinity), y, hiMask);
}

/** tanh per lane: sign(x)·(1 − e)/(1 + e) with e = e^(−2|x|) ≤ 1 (no overflow). */
@inline function tanh4(x: v128): v128 {
  const e = exp4(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(f32x4.splat(1), e), f32x4.add(f32x4.splat(1), e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000))); // t ≥ 0: copy x's sign
}

@inline function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(x))));
}

/** lanes 0 .. valid−1 all ones, the rest zero (valid ≥ 4: all ones) */
@inline function laneMask(valid: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(valid));
}

/**
 * A = g(Z) ∘ M and, when `keep` (training), Z := g′(Z) ∘ M in place (what backward multiplies dA by), for
 * n rows of out units (outP lanes; lanes ≥ out are set to 0). M (row stride 4·out, float32) may be 0: no
 * dropout.
 */
@inline function activateWith(act: i32, Z: usize, A: usize, n: i32, out: i32, outP: i32, M: usize, keep: bool): void {
  const vecs = outP >> 2;
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const zr = Z + (<usize>(i * outP) << 2), ar = A + (<usize>(i * outP) << 2);
    const mr = M + (<usize>(i * out) << 2);
    for (let v = 0; v < vecs; v++) {
      const o = <usize>v << 4;
      const z = v128.load(zr + o);
      let g: v128, d: v128;
      if (act == RELU) {
        g = f32x4.pmax(zero, z);
        d = v128.and(f32x4.gt(z, zero), one);
      } else if (act == TANH) {
        g = tanh4(z);
        d = f32x4.sub(one, f32x4.mul(g, g));
      } else {
        g = sigmoid4(z);
        d = f32x4.mul(g, f32x4.sub(one, g));
      }
      const valid = laneMask(out - (v << 2));
      if (M) {
        const mk = v128.load(mr + o);
        g = f32x4.mul(g, mk);
        d = f32x4.mul(d, mk);
      }
      v128.store(ar + o, v128.and(g, valid));
      if (keep) v128.store(zr + o, v128.and(d, valid));
    }
  }
}

function activate(act: i32, Z: usize, A: usize, n: i32, out: i32, outP: i32, M: usize, keep: bool): void {
  if (act == RELU) activateWith(RELU, Z, A, n, out, outP, M, keep);
  else if (act == TANH) activateWith(TANH, Z, A, n, out, outP, M, keep);
  else activateWith(SIGMOID, Z, A, n, out, outP, M, keep);
}

/** a ∘= b over n rows of outP floats (dZ_{l−1} = (W_lᵀ·dZ_l) ∘ (M ∘ g′)). */
function multiplyRows(a: usize, b: usize, n: i32, outP: i32): void {
  const count = <usize>(n * outP) << 2;
  for (let o: usize = 0; o < count; o += 16) v128.store(a + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
}

@inline function hmax(v: v128): f32 {
  let m = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}
@inline function hsum(v: v128): f32 {
  let s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  s = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(s, 0);
}

/**
 * The output layer of n samples (10 classes in 12 lanes, rows of 48 bytes): Z_L → dZ_L = softmax(Z_L) − Y
 * in place. Returns Σ_i (log Σ_c e^{Z[i,c]} − Z[i, y_i]) in float64 (max-subtracted).
 */
function softmaxLoss(Z: usize, y: usize, n: i32): f64 {
  const tail = laneMask(2);
  const negInf = f32x4.splat(-Infinity);
  const lane = i32x4(0, 1, 2, 3);
  const one = f32x4.splat(1);
  let loss: f64 = 0;
  for (let i = 0; i < n; i++) {
    const r = Z + <usize>i * 48;
    const z0 = v128.load(r), z1 = v128.load(r, 16), z2 = v128.bitselect(v128.load(r, 32), negInf, tail);
    const mx = hmax(f32x4.pmax(f32x4.pmax(z0, z1), z2));
    const ms = f32x4.splat(mx);
    const e0 = exp4(f32x4.sub(z0, ms)), e1 = exp4(f32x4.sub(z1, ms));
    const e2 = v128.and(exp4(f32x4.sub(z2, ms)), tail);
    const sum = hsum(f32x4.add(f32x4.add(e0, e1), e2));
    const yi = <i32>load<u8>(y + <usize>i);
    const zy = load<f32>(r + (<usize>yi << 2));
    loss += <f64>mx + Math.log(<f64>sum) - <f64>zy;
    const s = f32x4.splat(sum);
    const ys = i32x4.splat(yi);
    v128.store(r, f32x4.sub(f32x4.div(e0, s), v128.and(i32x4.eq(lane, ys), one)));
    v128.store(r, f32x4.sub(f32x4.div(e1, s), v128.and(i32x4.eq(i32x4.add(lane, i32x4.splat(4)), ys), one)), 16);
    v128.store(r, f32x4.sub(f32x4.div(e2, s), v128.and(i32x4.eq(i32x4.add(lane, i32x4.splat(8)), ys), one)), 32);
  }
  return loss;
}

// ---- one block: forward and backward, float64 sums ----

/**
 * The widest layer (outP) whose dW sums are made sample by sample (outer64) rather than by columns
 * (outerCols): for a row of a few units the column pass's counting sort costs more than it saves
 * (measured: 784-10-10 steps 25–30% slower by columns), for the deep network's 400 and 100 units it
 * saves the read-modify-write of the float64 sums per sample (the deep step 1.3× faster).
 */
const NARROW: i32 = 16;
/** NARROW for src/simd/layout.ts (which layers get columns in the workspace) */
export const NARROW_UNITS = NARROW;

/** counters of executed multiply-adds (useful lanes only), float64 words in the workspace */
@inline function count(ws: usize, macs: f64): void {
  const p = <usize>word(ws, W_COUNT);
  store<f64>(p, load<f64>(p) + macs);
}

/**
 * Forward pass of the n ≤ SUB samples at `x` (n×784): the lists of every layer's input, Z_l, A_l (and, when
 * training, M_l ∘ g′(Z_l) in Z_l's place) in the workspace; Z_L in layer L's Z. `m0` is the first sample's
 * row in the block's staged masks (masked = 0: no dropout).
 */
function forward(net: usize, ws: usize, x: usize, n: i32, act: i32, masked: i32, m0: i32, train: bool): void {
  const L = word(net, N_L);
  let rows = x;
  let rs: usize = <usize>INPUT << 2;
  let macs: f64 = 0;
  for (let l = 0; l < L; l++) {
    const inP = lw(net, l, L_INP), out = lw(net, l, L_OUT), outP = lw(net, l, L_OUTP);
    const list = wp(ws, l, WL_LIST), start = wp(ws, l, WL_START), Z = wp(ws, l, WL_Z);
    // A_{l−1}'s nonzeros, listed once for Z_l = W_l·A_{l−1} here and dW_l = dZ_l·A_{l−1}ᵀ in backward
    const nz = scanRows(rows, rs, inP, n, list, start);
    // Z_l = W_l·A_{l−1} + b_l
    spmm(rows, rs, list, start, n, lp(net, l, L_WT), lw(net, l, L_IN), outP, lp(net, l, L_B), Z, <usize>word(ws, W_COLSTART), <usize>word(ws, W_PAIRS));
    macs += <f64>nz * <f64>out;
    if (l == L - 1) break;
    // A_l = g(Z_l) ∘ M_l
    const A = wp(ws, l, WL_A);
    const M = masked ? wp(ws, l, WL_MASK) + (<usize>(m0 * out) << 2) : 0;
    activate(act, Z, A, n, out, outP, M, train);
    rows = A;
    rs = <usize>outP << 2;
  }
  count(ws, macs);
}

/**
 * The float64 gradient sums of the n ≤ BLOCK samples staged in the workspace (x, y, masks), written to
 * `sums` (zeroed first): per layer db_l (outP), the narrow layers' dW_lᵀ (in×outP), and Σ loss. The wide
 * layers' dW (outP > NARROW) go to the batch total at `total` rather than to `sums`, by `wide`:
 *   WIDE_WRITE (the batch's first block) and WIDE_ADD (the others, in block order): summed by columns
 *     (outerCols) as each layer's dZ is made, the total's rows written, or added to;
 *   WIDE_SLOT (worker threads): the float32 column sums of this block stored in the workspace's slots
 *     (WL_SLOT, in×outP float32), for wideFold to add a wave of blocks, each worker its share of them.
 * Both add the same float32 column sums, as float64, in the same block order, so the totals are the
 * same bits.
 * A block is one sub-block (SUB = BLOCK), whose columns cover all its samples.
 */
export const WIDE_WRITE = 1, WIDE_ADD = 2, WIDE_SLOT = 0; // (read by src/simd/layout.ts, like the descriptor offsets)
export function blockSums(net: usize, ws: usize, n: i32, act: i32, masked: i32, sums: usize, total: usize, wide: i32): void {
  const L = word(net, N_L);
  // db is summed into, so it starts at 0 (a narrow layer's dW too: see below; a wide one's is outerCols's)
  for (let l = 0; l < L; l++) memory.fill(sums + lp(net, l, L_DB), 0, <usize>lw(net, l, L_OUTP) << 3);
  const x = <usize>word(ws, W_X), y = <usize>word(ws, W_Y);
  const colStart = <usize>word(ws, W_COLSTART), dz64 = <usize>word(ws, W_DZ64), dzList = <usize>word(ws, W_DZLIST), dzStart = <usize>word(ws, W_DZSTART);
  let loss: f64 = 0;
  let macs: f64 = 0;
  for (let s0 = 0; s0 < n; s0 += SUB) {
    const ns = min(SUB, n - s0);
    const xs = x + (<usize>(s0 * INPUT) << 2);
    forward(net, ws, xs, ns, act, masked, s0, true);
    // dZ_L = softmax(Z_L) − Y, in place; loss += log Σ exp Z_L − Z_L[y]
    loss += softmaxLoss(wp(ws, L - 1, WL_Z), y + <usize>s0, ns);
    for (let l = L - 1; l >= 0; l--) {
      const inp = lw(net, l, L_IN), out = lw(net, l, L_OUT), outP = lw(net, l, L_OUTP), inP = lw(net, l, L_INP);
      const dZ = l == L - 1 ? wp(ws, l, WL_Z) : wp(ws, l, WL_DZ);
      const rows = l == 0 ? xs : wp(ws, l - 1, WL_A);
      const rs: usize = l == 0 ? <usize>INPUT << 2 : <usize>inP << 2;
      const dW = sums + lp(net, l, L_DW), db = sums + lp(net, l, L_DB);
      const list = wp(ws, l, WL_LIST), start = wp(ws, l, WL_START);
      if (outP > NARROW) {
        // db_l += Σ dZ_l (per unit; fix 1)
        sumRows64(dZ, ns, outP, db);
        // dW_lᵀ += A_{l−1}ᵀ·dZ_l over A_{l−1}'s lists (from forward) as columns, into the total or the slot
        const cs = wp(ws, l, WL_CS), ce = wp(ws, l, WL_CE);
        const entries = wide == WIDE_SLOT
          ? outerCols(rows, rs, list, start, ns, dZ, outP, inp, wp(ws, l, WL_SLOT), cs, ce, true, true)
          : outerCols(rows, rs, list, start, ns, dZ, outP, inp, total + lp(net, l, L_DW), cs, ce, wide == WIDE_WRITE && s0 == 0, false);
        macs += <f64>entries * <f64>out;
      } else {
        // a narrow layer (784-10-10's both, the deep network's last): dZ_l in float64, db_l += Σ dZ_l, and
        // dW_lᵀ += A_{l−1}ᵀ·dZ_l sample by sample over the lists, into rows of at most NARROW sums
        promoteAndSum(dZ, ns, outP, dz64, db);
        if (s0 == 0) memory.fill(dW, 0, <usize>(inp * outP) << 3);
        outer64(rows, rs, list, start, ns, dz64, outP, out, dW);
        macs += <f64>load<i32>(start + (<usize>ns << 2)) * <f64>out;
      }
      if (l == 0) break;
      // dZ_{l−1} = W_lᵀ·dZ_l ∘ (M_{l−1} ∘ g′(Z_{l−1})), over dZ_l's nonzeros
      const nz = scanRows(dZ, <usize>outP << 2, outP, ns, dzList, dzStart);
      const dA = wp(ws, l - 1, WL_DZ);
      spmm(dZ, <usize>outP << 2, dzList, dzStart, ns, lp(net, l, L_WR), out, inP, 0, dA, colStart, <usize>word(ws, W_PAIRS));
      multiplyRows(dA, wp(ws, l - 1, WL_Z), ns, inP);
      macs += <f64>nz * <f64>inp;
    }
  }
  store<f64>(sums + <usize>word(net, N_LOSS), loss);
  count(ws, macs);
}

/** Class predictions (argmax of Z_L, first maximum) of the n ≤ BLOCK samples staged in the workspace. */
export function predict(net: usize, ws: usize, n: i32, act: i32, out: usize): void {
  const L = word(net, N_L);
  const x = <usize>word(ws, W_X);
  for (let s0 = 0; s0 < n; s0 += SUB) {
    const ns = min(SUB, n - s0);
    forward(net, ws, x + (<usize>(s0 * INPUT) << 2), ns, act, 0, 0, false);
    const Z = wp(ws, L - 1, WL_Z);
    for (let i = 0; i < ns; i++) {
      const r = Z + <usize>i * 48;
      let best = 0;
      let bv = load<f32>(r);
      for (let c = 1; c < 10; c++) {
        const v = load<f32>(r + (<usize>c << 2));
        if (v > bv) {
          bv = v;
          best = c;
        }
      }
      store<u8>(out + <usize>(s0 + i), <u8>best);
    }
  }
}

/**
 * dst += the blocks at src, src + stride, … (`count` of them, block order), restricted to the bytes [lo, hi)
 * of the sums (multiples of 16): worker threads split the elements between them, and each element gets
 * exactly the additions, in the same order, that the calling thread makes (blockSums's WIDE_ADD, then
 * this with count 1 over the rest of the sums, block after block).
 */
export function foldSlots(dst: usize, src: usize, stride: usize, count: i32, lo: usize, hi: usize): void {
  for (let o = lo; o < hi; o += 16) {
    let t = v128.load(dst + o);
    for (let b = 0; b < count; b++) t = f64x2.add(t, v128.load(src + <usize>b * stride + o));
    v128.store(dst + o, t);
  }
}

/** float32 round(sum·inv) of four consecutive float64 sums, as one f32x4 */
@inline function grad4(s: usize, inv: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(s), inv));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(v128.load(s, 16), inv));
  return v128.shuffle<i64>(lo, hi, 0, 2);
}

/** W_l (row-major out×inP copy) from W_lᵀ, for layers 1.. (layer 0's is never needed). */
function refreshRowMajor(net: usize): void {
  const L = word(net, N_L);
  for (let l = 1; l < L; l++) {
    const inp = lw(net, l, L_IN), out = lw(net, l, L_OUT), inP = lw(net, l, L_INP), outP = lw(net, l, L_OUTP);
    const WT = lp(net, l, L_WT), Wr = lp(net, l, L_WR);
    for (let j = 0; j < out; j++) {
      for (let k = 0; k < inp; k++) store<f32>(Wr + (<usize>(j * inP + k) << 2), load<f32>(WT + (<usize>(k * outP + j) << 2)));
    }
  }
}

/** Copies W_lᵀ to the row-major W_l after the caller wrote new parameters. */
export function paramsChanged(net: usize): void {
  refreshRowMajor(net);
}

/** Elements [lo, hi) of a tensor of `count` elements whose sums start at byte s0, for the sums' bytes [lo, hi). */
@inline function firstOf(lo: i32, s0: i32): i32 {
  return max(0, (lo - s0) >> 3);
}
@inline function endOf(hi: i32, s0: i32, count: i32): i32 {
  return min(count, max(0, (hi - s0) >> 3));
}

/**
 * Gradient descent from the sums of m samples: w := w − lr·round32(sum/m), each step in double and the
 * result rounded to float32 — the same operations as scratch-gd's `w[i] -= lr * Math.fround(sum[i] * inv)`.
 * Only the parameters whose sums lie in bytes [lo, hi) of the block of sums (multiples of 32: worker
 * threads split the elements between them); the caller then refreshes the row-major copies
 * (paramsChanged).
 */
export function sgd(net: usize, sums: usize, m: i32, lr: f64, lo: i32, hi: i32): void {
  const L = word(net, N_L);
  const inv = f64x2.splat(1.0 / <f64>m);
  const rate = f64x2.splat(lr);
  for (let l = 0; l < L; l++) {
    const outP = lw(net, l, L_OUTP);
    for (let t = 0; t < 2; t++) {
      const w = t == 0 ? lp(net, l, L_WT) : lp(net, l, L_B);
      const s0 = t == 0 ? lw(net, l, L_DW) : lw(net, l, L_DB);
      const s = sums + <usize>s0;
      const count = t == 0 ? lw(net, l, L_IN) * outP : outP;
      const end = endOf(hi, s0, count);
      for (let i = firstOf(lo, s0); i < end; i += 4) {
        const g = grad4(s + (<usize>i << 3), inv);
        const w4 = v128.load(w + (<usize>i << 2));
        const g0 = f64x2.promote_low_f32x4(g), g1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1));
        const w0 = f64x2.promote_low_f32x4(w4), w1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(w4, w4, 2, 3, 0, 1));
        const n0 = f32x4.demote_f64x2_zero(f64x2.sub(w0, f64x2.mul(rate, g0)));
        const n1 = f32x4.demote_f64x2_zero(f64x2.sub(w1, f64x2.mul(rate, g1)));
        v128.store(w + (<usize>i << 2), v128.shuffle<i64>(n0, n1, 0, 2));
      }
    }
  }
}

/**
 * Adam from the sums of m samples, TensorFlow.js 4.22's operation sequence with every operation rounded to
 * float32 (f32x4 arithmetic is IEEE-754 single precision, correctly rounded, like Math.fround of the
 * double result in src/scratch/adam.ts):
 *   m = m·β1 + g·(1−β1);  v = v·β2 + g²·(1−β2);  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  θ = (m̂/(√v̂ + ε))·(−α) + θ
 * Only the parameters whose sums lie in bytes [lo, hi), as in `sgd`; the caller then calls paramsChanged.
 */
export function adam(net: usize, sums: usize, m: i32, negLr: f32, b1: f32, b2: f32, c1: f32, c2: f32, eps: f32, oma1: f32, oma2: f32, lo: i32, hi: i32): void {
  const L = word(net, N_L);
  const inv = f64x2.splat(1.0 / <f64>m);
  const B1 = f32x4.splat(b1), B2 = f32x4.splat(b2), C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  const E = f32x4.splat(eps), A1 = f32x4.splat(oma1), A2 = f32x4.splat(oma2), R = f32x4.splat(negLr);
  for (let l = 0; l < L; l++) {
    const outP = lw(net, l, L_OUTP);
    for (let t = 0; t < 2; t++) {
      const w = t == 0 ? lp(net, l, L_WT) : lp(net, l, L_B);
      const mm = t == 0 ? lp(net, l, L_MW) : lp(net, l, L_MB);
      const vv = t == 0 ? lp(net, l, L_VW) : lp(net, l, L_VB);
      const s0 = t == 0 ? lw(net, l, L_DW) : lw(net, l, L_DB);
      const s = sums + <usize>s0;
      const count = t == 0 ? lw(net, l, L_IN) * outP : outP;
      const end = endOf(hi, s0, count);
      for (let i = firstOf(lo, s0); i < end; i += 4) {
        const o = <usize>i << 2;
        const g = grad4(s + (<usize>i << 3), inv);
        const mi = f32x4.add(f32x4.mul(v128.load(mm + o), B1), f32x4.mul(g, C1));
        const vi = f32x4.add(f32x4.mul(v128.load(vv + o), B2), f32x4.mul(f32x4.mul(g, g), C2));
        v128.store(mm + o, mi);
        v128.store(vv + o, vi);
        const mHat = f32x4.div(mi, A1);
        const vHat = f32x4.div(vi, A2);
        const step = f32x4.mul(f32x4.div(mHat, f32x4.add(f32x4.sqrt(vHat), E)), R);
        v128.store(w + o, f32x4.add(step, v128.load(w + o)));
      }
    }
  }
}

/** The batch-mean gradients round32(sum/m), row-major out×in then out per layer, at `out`. */
export function gradients(net: usize, sums: usize, m: i32, out: usize): void {
  const L = word(net, N_L);
  const inv: f64 = 1.0 / <f64>m;
  let o = out;
  for (let l = 0; l < L; l++) {
    const inp = lw(net, l, L_IN), nOut = lw(net, l, L_OUT), outP = lw(net, l, L_OUTP);
    const dW = sums + lp(net, l, L_DW), db = sums + lp(net, l, L_DB);
    for (let j = 0; j < nOut; j++) {
      for (let k = 0; k < inp; k++) store<f32>(o + (<usize>(j * inp + k) << 2), <f32>(load<f64>(dW + (<usize>(k * outP + j) << 3)) * inv));
    }
    o += <usize>(nOut * inp) << 2;
    for (let j = 0; j < nOut; j++) store<f32>(o + (<usize>j << 2), <f32>(load<f64>(db + (<usize>j << 3)) * inv));
    o += <usize>nOut << 2;
  }
}

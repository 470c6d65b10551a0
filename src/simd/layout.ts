/**
 * Where everything lives in the wasm linear memory of scratch-simd, and the two descriptor tables the
 * kernels in assembly/net.ts read. The tables' word offsets are defined in assembly/net.ts only: it exports
 * them as constant globals, and readDescriptor takes them from the module, so the tables written here are
 * the ones read there (an old build without them is refused with a clear line).
 *
 * Memory is planned once per network (layer sizes) and number of workspaces, and never grows: parameters,
 * Adam's moments, the batch's float64 gradient sums, the gradients' float32 output, and per worker a
 * workspace that holds one block (SIMD_BLOCK samples) of staged input plus the intermediates of one sub-block
 * (SUB samples). A batch of any size streams through the workspaces block by block, so the memory a
 * network needs does not depend on the batch size. The plan is refused with a clear error if it would
 * exceed MAX_MEMORY_BYTES.
 *
 * Matrices are padded to whole 4-lane vectors: a layer of `out` units uses outP = ⌈out/4⌉·4 lanes per row
 * (the padding lanes hold zeros and stay zero). W_lᵀ is stored in×outP (input k's weights to every unit
 * contiguous) and, for layers after the first, W_l also row-major out×inP.
 */
import { INPUT, sizesOf, type Params } from '../core/types.ts';
import { loadModule } from './build.ts';

/** Samples per gradient block: the unit of the float64 sums, added in block order (threads split blocks). */
export const SIMD_BLOCK = 128;
/** Samples per sub-block (their intermediates stay in cache): one sub-block per block, see assembly/net.ts. */
export const SUB = 128;
/** The bound on one network's wasm memory (parameters, sums, workspaces): 1 GiB. */
export const MAX_MEMORY_BYTES = 1024 * 1024 * 1024;
const PAGE = 65536;

/** The word offsets assembly/net.ts exports for its two descriptor tables (their meanings are there). */
const DESCRIPTOR_FIELDS = [
  'N_L', 'N_SUMS_BYTES', 'N_LOSS', 'N_LAYER0', 'N_STRIDE',
  'L_IN', 'L_OUT', 'L_INP', 'L_OUTP', 'L_WT', 'L_WR', 'L_B', 'L_DW', 'L_DB', 'L_MW', 'L_VW', 'L_MB', 'L_VB',
  'W_X', 'W_Y', 'W_DZLIST', 'W_DZSTART', 'W_COLSTART', 'W_DZ64', 'W_PAIRS', 'W_COUNT', 'W_LAYER0', 'W_STRIDE',
  'WL_Z', 'WL_A', 'WL_DZ', 'WL_LIST', 'WL_START', 'WL_MASK', 'WL_CS', 'WL_CE', 'WL_SLOT', 'CHUNK_ROWS', 'NARROW_UNITS',
  'WIDE_WRITE', 'WIDE_ADD', 'WIDE_SLOT',
] as const;
export type Descriptor = Record<(typeof DESCRIPTOR_FIELDS)[number], number>;

/** The descriptor offsets from an instance's exports (WebAssembly.Global objects of those names). */
export function readDescriptor(exports: Record<string, unknown>): Descriptor {
  const d = {} as Descriptor;
  for (const f of DESCRIPTOR_FIELDS) {
    const v = (exports[f] as { value?: unknown } | undefined)?.value;
    if (typeof v !== 'number') throw new Error(`scratch-simd: build/ is out of date (the module does not export ${f}); run \`npm run build:simd\``);
    d[f] = v;
  }
  return d;
}

let builtDescriptor: Descriptor | null = null;

/** The descriptor offsets of the built module (read once, from an instance over a throwaway page). */
export function builtDescriptorOffsets(): Descriptor {
  if (!builtDescriptor) {
    const probe = new WebAssembly.Instance(loadModule('plain'), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }) } });
    builtDescriptor = readDescriptor(probe.exports);
  }
  return builtDescriptor;
}

export const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

export interface LayerLayout {
  in: number;
  out: number;
  inP: number;
  outP: number;
  WT: number; // byte address of W_lᵀ, in×outP f32
  Wr: number; // W_l row-major out×inP f32 (0 for the first layer)
  b: number; // outP f32
  mW: number; // Adam: first and second moments, W_lᵀ's and b_l's layout (0 without Adam)
  vW: number;
  mb: number;
  vb: number;
  dW: number; // byte offset of dW_lᵀ (in×outP f64) in a block of sums
  db: number; // byte offset of db_l (outP f64) in a block of sums
}

export interface WorkspaceLayout {
  desc: number; // the workspace descriptor
  x: number; // SIMD_BLOCK×784 f32: the block's images
  y: number; // SIMD_BLOCK u8: its labels
  masks: number[]; // per hidden layer: SIMD_BLOCK×out f32 (the caller's row layout, not padded)
  preds: number; // SIMD_BLOCK u8: predictions
  sums: number; // one block's float64 sums
  counter: number; // f64: multiply-adds executed
  /** the intermediates, which only the kernels touch (their addresses go into the descriptor) */
  parts: { dzList: number; dzStart: number; colStart: number; dz64: number; pairs: number; layers: { Z: number; A: number; dZ: number; list: number; start: number; cs: number; ce: number; slot: number }[] };
}

export interface Layout {
  sizes: number[];
  desc: Descriptor; // the descriptor tables' word offsets, from the module
  layers: LayerLayout[];
  net: number; // the net descriptor
  sumsBytes: number; // one block of sums
  lossOffset: number; // Σ loss, in a block of sums
  total: number; // the batch's sums
  grads: number; // the gradients, f32, row-major per layer: W_l (out×in) then b_l (out)
  args: number; // 16 f64: the arguments of the update the worker threads apply (engine.ts writeUpdate)
  gradFloats: number;
  workspaces: WorkspaceLayout[];
  /** the workspaces' descriptor addresses, one i32 each in order: the table wideFold reads */
  wsTable: number;
  /** whether some layer is wide (on worker threads, its dW column sums kept per block and added by wideFold, a wave of blocks at a time; assembly/net.ts) */
  wide: boolean;
  /** the byte ranges of a block of sums that blockSums writes (all but the wide layers' dW), in order, adjacent ones merged */
  rest: [number, number][];
  partials: number; // worker threads: `slots` blocks of sums, sumsBytes apart (0 if none)
  slots: number;
  bytes: number; // memory needed
  pages: number;
}

/** Bytes of one block of float64 sums for these layer sizes (dW_lᵀ, db_l per layer, then the loss). */
export function sumsBytesOf(sizes: readonly number[]): number {
  let n = 16;
  for (let l = 1; l < sizes.length; l++) n += (sizes[l - 1] + 1) * pad4(sizes[l]) * 8;
  return n;
}

const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

/**
 * The memory plan for a network of these layer sizes with `workers` workspaces, above `base` (the first
 * free byte after the module's static data). `desc`: the descriptor offsets of the module that will run
 * (default: the built module's). Throws if it needs more than `maxBytes`.
 */
export function planLayout(sizes: readonly number[], workers: number, base: number, opts: { adam: boolean; slots?: number; maxBytes?: number; desc?: Descriptor }): Layout {
  const maxBytes = opts.maxBytes ?? MAX_MEMORY_BYTES;
  const desc = opts.desc ?? builtDescriptorOffsets();
  const { N_LAYER0, N_STRIDE, W_LAYER0, W_STRIDE, CHUNK_ROWS, NARROW_UNITS } = desc;
  const L = sizes.length - 1;
  let top = Math.ceil(base / 64) * 64;
  const alloc = (bytes: number): number => {
    const at = top;
    top = Math.ceil((top + bytes + 16) / 64) * 64; // 16 spare bytes: whole vectors may be read past an end
    return at;
  };
  const net = alloc((N_LAYER0 + N_STRIDE * L) * 4);
  const layers: LayerLayout[] = [];
  let sumsBytes = 0;
  for (let l = 1; l <= L; l++) {
    const inp = sizes[l - 1], out = sizes[l], inP = pad4(inp), outP = pad4(out);
    const wBytes = inp * outP * 4, bBytes = outP * 4;
    const layer: LayerLayout = {
      in: inp, out, inP, outP,
      WT: alloc(wBytes),
      Wr: l > 1 ? alloc(out * inP * 4) : 0,
      b: alloc(bBytes),
      mW: opts.adam ? alloc(wBytes) : 0,
      vW: opts.adam ? alloc(wBytes) : 0,
      mb: opts.adam ? alloc(bBytes) : 0,
      vb: opts.adam ? alloc(bBytes) : 0,
      dW: sumsBytes,
      db: sumsBytes + inp * outP * 8,
    };
    sumsBytes += inp * outP * 8 + outP * 8;
    layers.push(layer);
  }
  const lossOffset = sumsBytes;
  sumsBytes += 16;
  const total = alloc(sumsBytes);
  const gradFloats = layers.reduce((n, g) => n + g.out * g.in + g.out, 0);
  const grads = alloc(gradFloats * 4);
  const args = alloc(16 * 8);
  const maxOutP = Math.max(...layers.map((g) => g.outP));
  const maxIn = Math.max(...layers.map((g) => g.inP)); // the columns of a layer's input (784 for the image)
  const maxK = Math.max(...sizes); // the most rows of a matrix spmm multiplies: W_lᵀ (in) or W_l (out)
  const workspaces: WorkspaceLayout[] = [];
  for (let w = 0; w < workers; w++) {
    const desc = alloc((W_LAYER0 + W_STRIDE * L) * 4);
    workspaces.push({
      desc,
      x: alloc(SIMD_BLOCK * INPUT * 4),
      y: alloc(SIMD_BLOCK),
      masks: layers.slice(0, -1).map((g) => alloc(SIMD_BLOCK * g.out * 4)),
      preds: alloc(SIMD_BLOCK),
      sums: alloc(sumsBytes),
      counter: alloc(16),
      parts: {
        dzList: alloc(SUB * maxOutP * 4),
        dzStart: alloc((SUB + 1) * 4),
        // outerCols's column starts, and spmm's table of where each row's list crosses a chunk of rows
        colStart: alloc(Math.max(maxIn + 1, SUB * (Math.ceil(maxK / CHUNK_ROWS) + 1)) * 4),
        dz64: alloc(SUB * maxOutP * 8),
        // spmm's lists as (matrix row, value) pairs: at most every entry of a sub-block's input or dZ
        pairs: alloc(SUB * Math.max(maxIn, maxOutP) * 8),
        layers: layers.map((g, l) => ({
          Z: alloc(SUB * g.outP * 4),
          A: l < L - 1 ? alloc(SUB * g.outP * 4) : 0,
          dZ: l < L - 1 ? alloc(SUB * g.outP * 4) : 0,
          list: alloc(SUB * g.inP * 4),
          start: alloc((SUB + 1) * 4),
          // a wide layer's input lists as columns (assembly/net.ts transposeCols)
          cs: g.outP > NARROW_UNITS ? alloc((g.in + 1) * 4) : 0,
          ce: g.outP > NARROW_UNITS ? alloc(SUB * g.in * 8) : 0,
          // on worker threads, a wide layer's float32 dW column sums of the block, for wideFold
          slot: g.outP > NARROW_UNITS && opts.slots !== undefined ? alloc(g.in * g.outP * 4) : 0,
        })),
      },
    });
  }
  const wsTable = alloc(workers * 4);
  const wide = layers.some((g) => g.outP > NARROW_UNITS);
  const rest: [number, number][] = [];
  const keep = (lo: number, hi: number) => {
    const last = rest[rest.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else rest.push([lo, hi]);
  };
  for (const g of layers) {
    if (g.outP <= NARROW_UNITS) keep(g.dW, g.dW + g.in * g.outP * 8);
    keep(g.db, g.db + g.outP * 8);
  }
  keep(lossOffset, lossOffset + 16);
  const slots = opts.slots ?? 0;
  const partials = slots > 0 ? alloc(slots * sumsBytes) : 0;
  const bytes = top;
  if (bytes > maxBytes) {
    throw new Error(
      `scratch-simd: a [${sizes.join(', ')}] network${workers > 1 ? ` on ${workers} threads` : ''} needs ${MiB(bytes)} of wasm memory, over the bound of ${MiB(maxBytes)}`,
    );
  }
  return { sizes: [...sizes], desc, layers, net, sumsBytes, lossOffset, total, grads, args, gradFloats, workspaces, wsTable, wide, rest, partials, slots, bytes, pages: Math.ceil(bytes / PAGE) };
}

/** Writes the net descriptor and every workspace descriptor into memory (an Int32Array over it). */
export function writeDescriptors(lay: Layout, i32: Int32Array): void {
  const { N_L, N_SUMS_BYTES, N_LOSS, N_LAYER0, N_STRIDE, L_IN, L_OUT, L_INP, L_OUTP, L_WT, L_WR, L_B, L_DW, L_DB, L_MW, L_VW, L_MB, L_VB } = lay.desc;
  const { W_X, W_Y, W_DZLIST, W_DZSTART, W_COLSTART, W_DZ64, W_PAIRS, W_COUNT, W_LAYER0, W_STRIDE, WL_Z, WL_A, WL_DZ, WL_LIST, WL_START, WL_MASK, WL_CS, WL_CE, WL_SLOT } = lay.desc;
  const L = lay.layers.length;
  const n = lay.net >> 2;
  i32[n + N_L] = L;
  i32[n + N_SUMS_BYTES] = lay.sumsBytes;
  i32[n + N_LOSS] = lay.lossOffset;
  lay.layers.forEach((g, l) => {
    const o = n + N_LAYER0 + N_STRIDE * l;
    i32[o + L_IN] = g.in;
    i32[o + L_OUT] = g.out;
    i32[o + L_INP] = g.inP;
    i32[o + L_OUTP] = g.outP;
    i32[o + L_WT] = g.WT;
    i32[o + L_WR] = g.Wr;
    i32[o + L_B] = g.b;
    i32[o + L_DW] = g.dW;
    i32[o + L_DB] = g.db;
    i32[o + L_MW] = g.mW;
    i32[o + L_VW] = g.vW;
    i32[o + L_MB] = g.mb;
    i32[o + L_VB] = g.vb;
  });
  lay.workspaces.forEach((ws, w) => (i32[(lay.wsTable >> 2) + w] = ws.desc));
  for (const ws of lay.workspaces) {
    const d = ws.desc >> 2;
    i32[d + W_X] = ws.x;
    i32[d + W_Y] = ws.y;
    i32[d + W_DZLIST] = ws.parts.dzList;
    i32[d + W_DZSTART] = ws.parts.dzStart;
    i32[d + W_COLSTART] = ws.parts.colStart;
    i32[d + W_DZ64] = ws.parts.dz64;
    i32[d + W_PAIRS] = ws.parts.pairs;
    i32[d + W_COUNT] = ws.counter;
    ws.parts.layers.forEach((p, l) => {
      const o = d + W_LAYER0 + W_STRIDE * l;
      i32[o + WL_Z] = p.Z;
      i32[o + WL_A] = p.A;
      i32[o + WL_DZ] = p.dZ;
      i32[o + WL_LIST] = p.list;
      i32[o + WL_START] = p.start;
      i32[o + WL_MASK] = l < L - 1 ? ws.masks[l] : 0;
      i32[o + WL_CS] = p.cs;
      i32[o + WL_CE] = p.ce;
      i32[o + WL_SLOT] = p.slot;
    });
  }
}

/** Params → W_lᵀ (padded) and b_l in memory. The caller then lets the kernels refresh the row-major copies. */
export function writeParams(lay: Layout, f32: Float32Array, p: Params): void {
  const sizes = sizesOf(p);
  if (sizes.length !== lay.sizes.length || sizes.some((s, i) => s !== lay.sizes[i])) {
    throw new Error(`scratch-simd: parameters of sizes [${sizes.join(', ')}], expected [${lay.sizes.join(', ')}]`);
  }
  lay.layers.forEach((g, l) => {
    const { W, b } = p.layers[l];
    const wt = g.WT >> 2, outP = g.outP, inp = g.in;
    f32.fill(0, wt, wt + inp * outP);
    for (let j = 0; j < g.out; j++) {
      const row = j * inp;
      for (let k = 0; k < inp; k++) f32[wt + k * outP + j] = W[row + k];
    }
    f32.fill(0, g.b >> 2, (g.b >> 2) + outP);
    f32.set(b, g.b >> 2);
  });
}

/** W_lᵀ and b_l in memory → `p` (same sizes), row-major. */
export function readParams(lay: Layout, f32: Float32Array, p: Params): Params {
  lay.layers.forEach((g, l) => {
    const { W, b } = p.layers[l];
    const wt = g.WT >> 2, outP = g.outP, inp = g.in;
    for (let j = 0; j < g.out; j++) {
      const row = j * inp;
      for (let k = 0; k < inp; k++) W[row + k] = f32[wt + k * outP + j];
    }
    b.set(f32.subarray(g.b >> 2, (g.b >> 2) + g.out));
  });
  return p;
}

/** The gradients the kernels wrote at lay.grads (row-major per layer) → `g`. */
export function readGrads(lay: Layout, f32: Float32Array, g: Params): Params {
  let o = lay.grads >> 2;
  lay.layers.forEach((s, l) => {
    g.layers[l].W.set(f32.subarray(o, o + s.out * s.in));
    o += s.out * s.in;
    g.layers[l].b.set(f32.subarray(o, o + s.out));
    o += s.out;
  });
  return g;
}

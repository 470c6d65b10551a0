/**
 * The SIMD ceilings of `npm run bench` (bench/ceiling.ts): how fast this machine runs 128-bit WebAssembly
 * SIMD in the tightest loop of each shape, on data in the L1 cache. Two FLOPs per multiply-add lane.
 *
 * - simdDot: an f32x4 dot product of two 1,024-float arrays, four accumulators (throughput-bound).
 * - simdSparse: shaped like scratch-simd's hot loop (assembly/net.ts spmmTile with 3 vectors): a list of
 *   150 nonzero inputs, each splat and multiplied into one 12-float row of Wᵀ (10 units padded to 12),
 *   two sets of 3 accumulators over alternate entries. Every lane counts, padding included: the real
 *   kernel's padding lanes are then a visible loss against this ceiling.
 *
 * The relaxed build (ceiling-relaxed.wasm) uses fused multiply-adds, as scratch-simd's relaxed build does:
 * the bench measures the one that matches the network's kernels.
 *
 * The memory is this module's own: one page, enough for all of it, and never grown (growing a memory
 * detaches its old buffer, which would switch off V8's typed-array fast path in the thread that runs the
 * bench's JavaScript tasks too). The caller fills it through `setup`.
 */
/** a·b + c per lane, as assembly/net.ts's `madd`: fused (relaxed SIMD) in the relaxed build. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

const N: i32 = 1024;
const NNZ: i32 = 150;
const ROW: i32 = 12; // floats per row of Wᵀ
const A: usize = 0; // N floats
const B: usize = A + (<usize>N << 2); // N floats
const W: usize = B + (<usize>N << 2); // 784 rows × ROW floats = 37,632 bytes
const IDX: usize = W + 784 * (<usize>ROW << 2); // NNZ byte offsets into W
const X: usize = IDX + (<usize>NNZ << 2); // NNZ floats
export const END: usize = X + (<usize>NNZ << 2);

/** Fills the arrays with fixed, finite values. */
export function setup(): void {
  if (END > (<usize>memory.size() << 16)) unreachable(); // the layout fits the one initial page
  for (let i = 0; i < N; i++) {
    store<f32>(A + (<usize>i << 2), <f32>((i * 37) % 101) / 101.0 - 0.5);
    store<f32>(B + (<usize>i << 2), <f32>((i * 53) % 97) / 97.0 - 0.5);
  }
  for (let i = 0; i < 784 * ROW; i++) store<f32>(W + (<usize>i << 2), <f32>((i * 37) % 101) / 101.0 - 0.5);
  for (let t = 0; t < NNZ; t++) {
    store<i32>(IDX + (<usize>t << 2), (200 + ((t * 7) % 380)) * ROW * 4);
    store<f32>(X + (<usize>t << 2), <f32>((t * 53) % 97) / 97.0);
  }
}

export function dotFlopsPerPass(): i32 {
  return 2 * N;
}

export function sparseFlopsPerPass(): i32 {
  return 2 * ROW * NNZ;
}

export function simdDot(passes: i32): f32 {
  let total: f32 = 0;
  for (let p = 0; p < passes; p++) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let i: usize = 0; i < (<usize>N << 2); i += 64) {
      s0 = madd(v128.load(A + i), v128.load(B + i), s0);
      s1 = madd(v128.load(A + i, 16), v128.load(B + i, 16), s1);
      s2 = madd(v128.load(A + i, 32), v128.load(B + i, 32), s2);
      s3 = madd(v128.load(A + i, 48), v128.load(B + i, 48), s3);
    }
    const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
    total += f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  }
  return total;
}

export function simdSparse(passes: i32): f32 {
  let total: f32 = 0;
  for (let p = 0; p < passes; p++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0);
    for (let t: usize = 0; t < <usize>NNZ; t += 2) {
      const o0 = <usize>load<i32>(IDX + (t << 2)), o1 = <usize>load<i32>(IDX + (t << 2), 4);
      const v = v128.load32_splat(X + (t << 2)), u = v128.load32_splat(X + (t << 2), 4);
      const w = W + o0, x = W + o1;
      a0 = madd(v, v128.load(w), a0);
      a4 = madd(u, v128.load(x), a4);
      a1 = madd(v, v128.load(w, 16), a1);
      a5 = madd(u, v128.load(x, 16), a5);
      a2 = madd(v, v128.load(w, 32), a2);
      a6 = madd(u, v128.load(x, 32), a6);
    }
    const s = f32x4.add(f32x4.add(f32x4.add(a0, a4), f32x4.add(a1, a5)), f32x4.add(a2, a6));
    total += f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
  }
  return total;
}

/**
 * Ceilings the bench measures itself: how many floating-point operations per second one JavaScript thread
 * sustains in the tightest loops the network's kernels could hope to be, on data in the L1 cache.
 *
 * - `scalar dot`: a multiply-add over Float32Array operands (loaded, widened to double, multiplied,
 *   accumulated), four independent accumulators so the loop is bound by throughput, not by the latency
 *   of one add chain. Both operands (2 × 4 KiB) stay in L1.
 * - `scalar sparse 10-row`: the scratch network's real hot loop itself (kernels.ts forwardSparse for 10
 *   units) on a sub-block of 64 samples with 150 nonzero pixels each (MNIST's typical count), ten
 *   784-wide float32 rows of W: the real kernel at its best (L1-resident, warm); a training step, with its
 *   list building, softmax and backward pass, reaches a fraction of it.
 *
 * - `simd dot` and `simd sparse 3-vector`: the same two shapes in 128-bit WebAssembly SIMD
 *   (assembly/ceiling.ts, built with the rest of scratch-simd): the yardsticks of the scratch-simd rows.
 *   The sparse one is shaped like scratch-simd's layer-1 loop (a 12-float row of Wᵀ per nonzero pixel,
 *   three vectors, two accumulator sets); its padding lanes count, so the real kernel's do not come free.
 *
 * Two FLOPs per multiply-add. They are timed in the bench's rounds on a worker thread of their own (the
 * isolate, bench/isolate.ts), where the hand-written rows run too; the scalar sparse one also on the
 * calling thread, where tfjs's heap growth has switched off V8's typed-array fast path (see the README).
 */
import { createLists, forwardSparse } from '../src/scratch/kernels.ts';
import { loadModule } from '../src/simd/build.ts';
import { requireSimd } from '../src/simd/engine.ts';

const N = 1024; // elements per pass
const PASSES = 256; // passes per call: ~0.5 M multiply-adds, ~0.1–0.5 ms

export const CEILING_FLOPS_PER_CALL = 2 * N * PASSES;

export function makeCeilingKernel(): () => number {
  const a = new Float32Array(N), b = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    a[i] = ((i * 37) % 101) / 101 - 0.5;
    b[i] = ((i * 53) % 97) / 97 - 0.5;
  }
  let sink = 0;
  return () => {
    let total = 0;
    for (let p = 0; p < PASSES; p++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < N; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
      }
      total += s0 + s1 + s2 + s3;
    }
    sink += total; // keeps the loop from being optimised away
    return sink;
  };
}

const NNZ = 150; // nonzero pixels per image: MNIST's mean is ~150 of 784
const SPARSE_SAMPLES = 64; // one sub-block
const SPARSE_PASSES = 4;
export const SPARSE_CEILING_FLOPS_PER_CALL = 2 * 10 * NNZ * SPARSE_SAMPLES * SPARSE_PASSES;

/**
 * The scratch network's own kernel (kernels.ts forwardSparse) on 10 rows of a 784-wide W, for a sub-block
 * of 64 samples whose lists each hold 150 nonzero pixels spread over the middle of the image: the real
 * loop, at its best (W in L1, lists in L1/L2, warm).
 */
export function makeSparseCeilingKernel(): () => number {
  const nIn = 784;
  const W = new Float32Array(10 * nIn);
  for (let i = 0; i < W.length; i++) W[i] = ((i * 37) % 101) / 101 - 0.5;
  const b = new Float32Array(10);
  const L = createLists(SPARSE_SAMPLES, nIn);
  for (let i = 0; i < SPARSE_SAMPLES; i++) {
    L.start[i] = i * NNZ;
    for (let t = 0; t < NNZ; t++) {
      L.idx[i * NNZ + t] = 200 + ((t * 7 + i) % 380); // as real strokes: the middle of the image
      L.val[i * NNZ + t] = ((t * 53 + i) % 97) / 97;
    }
  }
  L.start[SPARSE_SAMPLES] = SPARSE_SAMPLES * NNZ;
  const Z = new Float64Array(SPARSE_SAMPLES * 10);
  let sink = 0;
  return () => {
    for (let p = 0; p < SPARSE_PASSES; p++) forwardSparse(W, b, nIn, 10, L, SPARSE_SAMPLES, Z);
    sink += Z[0];
    return sink;
  };
}

interface CeilingExports {
  setup(): void;
  simdDot(passes: number): number;
  simdSparse(passes: number): number;
  dotFlopsPerPass(): number;
  sparseFlopsPerPass(): number;
}

let ceilingModule: WebAssembly.Module | null = null;
function simdCeiling(): CeilingExports {
  requireSimd();
  ceilingModule ??= loadModule('ceiling'); // relaxed where scratch-simd's own kernels are
  const e = new WebAssembly.Instance(ceilingModule).exports as unknown as CeilingExports;
  e.setup();
  return e;
}

const SIMD_DOT_PASSES = 1024;
const SIMD_SPARSE_PASSES = 512;
export const SIMD_DOT_FLOPS_PER_CALL = 2 * N * SIMD_DOT_PASSES;
export const SIMD_SPARSE_FLOPS_PER_CALL = 2 * 12 * NNZ * SIMD_SPARSE_PASSES;

export function makeSimdDotKernel(): () => number {
  const e = simdCeiling();
  if (e.dotFlopsPerPass() * SIMD_DOT_PASSES !== SIMD_DOT_FLOPS_PER_CALL) throw new Error('simd dot ceiling: FLOP count mismatch');
  return () => e.simdDot(SIMD_DOT_PASSES);
}

export function makeSimdSparseKernel(): () => number {
  const e = simdCeiling();
  if (e.sparseFlopsPerPass() * SIMD_SPARSE_PASSES !== SIMD_SPARSE_FLOPS_PER_CALL) throw new Error('simd sparse ceiling: FLOP count mismatch');
  return () => e.simdSparse(SIMD_SPARSE_PASSES);
}

export const CEILING_KERNELS = {
  'scalar dot': { make: makeCeilingKernel, flops: CEILING_FLOPS_PER_CALL },
  'scalar sparse 10-row': { make: makeSparseCeilingKernel, flops: SPARSE_CEILING_FLOPS_PER_CALL },
  'simd dot': { make: makeSimdDotKernel, flops: SIMD_DOT_FLOPS_PER_CALL },
  'simd sparse 3-vector': { make: makeSimdSparseKernel, flops: SIMD_SPARSE_FLOPS_PER_CALL },
} as const;
export type CeilingKernel = keyof typeof CEILING_KERNELS;

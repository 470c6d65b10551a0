/**
 * The single-core scalar ceiling the suite measures itself: how many floating-point operations per second
 * one JavaScript thread sustains in the tightest loop the network's inner loops could hope to be, a
 * multiply-add over Float32Array operands (loaded, widened to double, multiplied, accumulated), with
 * four independent accumulators so the loop is bound by throughput, not by the latency of one add chain.
 * Both operands (2 × 4 KiB) stay in L1. Two FLOPs per element (one multiply, one add).
 */

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

/**
 * The batch schedule: which training rows each step sees. Either the full batch every step (the seed
 * notebook), or mini-batches over a fresh permutation every epoch, drawn from the seed's `batches` stream.
 * The harness builds one schedule per seed and feeds the same batches to every trainer.
 */
import type { Batch } from './types.ts';
import { INPUT } from './types.ts';
import { permutation, rng } from './rng.ts';

export interface ScheduleSpec {
  /** samples per step, or 'full' for the whole training set every step */
  batch: number | 'full';
  /** number of steps (full batch: iterations; mini-batch: derived from epochs if not given) */
  steps: number;
  /**
   * gather the batches into shared memory: worker threads (src/core/pool.ts) then read them in place
   * instead of copying each one into a staging buffer (the same bytes either way)
   */
  shared?: boolean;
}

export interface Schedule {
  readonly steps: number;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** The batch for step s (0-based). Returned batches reuse one buffer: copy if you keep them. */
  batch(s: number): Batch;
}

/** Number of steps for `epochs` passes over n samples at batch size b (last partial batch dropped). */
export function stepsForEpochs(n: number, batch: number | 'full', epochs: number): number {
  if (batch === 'full') return epochs;
  return Math.floor(n / batch) * epochs;
}

/** Copy the rows `idx[from..from+m)` of `src` into `out`. */
export function gather(src: Batch, idx: ArrayLike<number>, from: number, m: number, out: Batch): Batch {
  for (let i = 0; i < m; i++) {
    const r = idx[from + i];
    out.x.set(src.x.subarray(r * INPUT, (r + 1) * INPUT), i * INPUT);
    out.y[i] = src.y[r];
  }
  out.m = m;
  return out;
}

export function makeSchedule(train: Batch, seed: number, spec: ScheduleSpec): Schedule {
  const n = train.m;
  if (spec.batch === 'full') {
    return { steps: spec.steps, batchSize: n, stepsPerEpoch: 1, batch: () => train };
  }
  const b = spec.batch;
  if (!(Number.isInteger(b) && b >= 1 && b <= n)) throw new Error(`batch size ${b} must be in 1..${n}`);
  const stepsPerEpoch = Math.floor(n / b);
  const r = rng(seed, 'batches');
  const perm = new Uint32Array(n);
  let epoch = -1;
  const bytes = (n: number) => (spec.shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  const buf: Batch = { x: new Float32Array(bytes(b * INPUT * 4)), y: new Uint8Array(bytes(b)), m: b };
  return {
    steps: spec.steps,
    batchSize: b,
    stepsPerEpoch,
    batch(s: number): Batch {
      const e = Math.floor(s / stepsPerEpoch);
      if (e < epoch) throw new Error('schedule: steps must be visited in increasing order');
      // Advance the permutation stream epoch by epoch, so batch s is the same however it is reached.
      while (epoch < e) {
        permutation(r, n, perm);
        epoch++;
      }
      return gather(train, perm, (s % stepsPerEpoch) * b, b, buf);
    },
  };
}

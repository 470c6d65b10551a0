/** Shared bits for the tfjs tests: the agreement checks (test/helpers/params.ts) and batches. */
import { rng } from '../../src/core/rng.ts';
import type { Batch } from '../../src/core/types.ts';
import { mnistData } from '../helpers/params.ts';

export { COS, expectAgree, MAX_ABS_REL, REL_L2, Worst } from '../helpers/params.ts';

/** m samples of uniform [0, 1) pixels and uniform labels, from a seeded stream. */
export function randomBatch(m: number, seed: number): Batch {
  const r = rng(seed, 'test');
  const x = new Float32Array(m * 784);
  for (let i = 0; i < x.length; i++) x[i] = r.float();
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) y[i] = r.int(0, 9);
  return { x, y, m };
}

/** Rows [from, from+m) of the MNIST training set (copies). */
export function mnistBatch(from: number, m: number): Batch {
  const t = mnistData().train;
  return { x: t.x.slice(from * 784, (from + m) * 784), y: t.y.slice(from, from + m), m };
}

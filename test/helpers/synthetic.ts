/** Seeded synthetic batches that look like MNIST to the code: ~80% zero pixels, the rest in (0, 1]. */
import { rng } from '../../src/core/rng.ts';
import type { Batch } from '../../src/core/types.ts';

export function syntheticBatch(m: number, seed = 7): Batch {
  const r = rng(seed, 'test');
  const x = new Float32Array(m * 784);
  for (let i = 0; i < x.length; i++) x[i] = r.float() < 0.8 ? 0 : r.int(1, 255) / 255;
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) y[i] = r.int(0, 9);
  return { x, y, m };
}

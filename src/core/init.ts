/** Initial weights, drawn from the seed's `init` stream. */
import { allocParams, CLASSES, INPUT, type Params } from './types.ts';
import { rng } from './rng.ts';

export type InitKind = 'uniform' | 'he';
export const INIT_KINDS: readonly InitKind[] = ['uniform', 'he'];

/**
 * `uniform`: every weight and bias from uniform(−0.5, 0.5), as the seed notebook's
 * `np.random.rand(...) - 0.5`. `he`: weights from N(0, 2/fan_in) (He et al. 2015, as in the deeper seed),
 * biases zero.
 * Draw order is fixed: W1, b1, W2, b2, each row-major.
 */
export function initParams(seed: number, hidden: number, kind: InitKind = 'uniform'): Params {
  const p = allocParams(hidden);
  const r = rng(seed, 'init');
  if (kind === 'uniform') {
    for (const a of [p.W1, p.b1, p.W2, p.b2]) for (let i = 0; i < a.length; i++) a[i] = r.float() - 0.5;
  } else {
    const s1 = Math.sqrt(2 / INPUT);
    const s2 = Math.sqrt(2 / hidden);
    for (let i = 0; i < hidden * INPUT; i++) p.W1[i] = r.normal() * s1;
    for (let i = 0; i < CLASSES * hidden; i++) p.W2[i] = r.normal() * s2;
  }
  return p;
}

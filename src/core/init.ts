/** Initial weights, drawn from the seed's `init` stream. */
import { allocParams, type Params } from './types.ts';
import { rng } from './rng.ts';

export type InitKind = 'uniform' | 'he';
export const INIT_KINDS: readonly InitKind[] = ['uniform', 'he'];

/**
 * `uniform`: every weight and bias from uniform(−0.5, 0.5), as the notebook's `np.random.rand(...) - 0.5`.
 * `he`: weights from N(0, 2/fan_in) (He et al. 2015, as in the deep notebook), biases zero.
 * Draw order is fixed: W1, b1, W2, b2, …, each row-major (He draws no biases).
 */
export function initParams(seed: number, sizes: readonly number[], kind: InitKind = 'uniform'): Params {
  const p = allocParams(sizes);
  const r = rng(seed, 'init');
  p.layers.forEach((layer, l) => {
    if (kind === 'uniform') {
      for (const a of [layer.W, layer.b]) for (let i = 0; i < a.length; i++) a[i] = r.float() - 0.5;
    } else {
      const s = Math.sqrt(2 / sizes[l]); // fan_in of layer l+1
      for (let i = 0; i < layer.W.length; i++) layer.W[i] = r.normal() * s;
    }
  });
  return p;
}

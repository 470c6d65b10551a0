/**
 * Test-only float64 references for the tfjs tests: Adam exactly as published (Kingma & Ba 2015,
 * Algorithm 1). Gradients and logits come from the shared float64 reference, src/scratch/reference64.ts
 * (checked against finite differences in test/scratch/reference.test.ts).
 */
export { gradients64 as ref64, logits64, to64 as p64, type Params64 as P64 } from '../../src/scratch/reference64.ts';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/**
 * Adam as published, one parameter tensor: state (m, v, t) in float64. With t the step number (1-based):
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  θ ← θ − lr·m̂/(√v̂ + ε)
 * Returns the update Δθ (to be added to θ).
 */
export function adamStep(
  state: { m: Float64Array; v: Float64Array },
  g: ArrayLike<number>,
  t: number,
  hp: AdamHyper,
  /** deliberately wrong variants, to show the comparison can fail */
  variant: 'published' | 'no-bias-correction' | 'eps-inside-sqrt' = 'published',
): Float64Array {
  const { lr, beta1, beta2, eps } = hp;
  const d = new Float64Array(g.length);
  const nb = variant === 'no-bias-correction';
  const c1 = nb ? 1 : 1 - beta1 ** t, c2 = nb ? 1 : 1 - beta2 ** t;
  for (let i = 0; i < g.length; i++) {
    state.m[i] = beta1 * state.m[i] + (1 - beta1) * g[i];
    state.v[i] = beta2 * state.v[i] + (1 - beta2) * g[i] * g[i];
    const mh = state.m[i] / c1, vh = state.v[i] / c2;
    d[i] = variant === 'eps-inside-sqrt' ? (-lr * mh) / Math.sqrt(vh + eps) : (-lr * mh) / (Math.sqrt(vh) + eps);
  }
  return d;
}

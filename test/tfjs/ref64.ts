/**
 * Test-only float64 references for the tfjs tests: Adam exactly as published (Kingma & Ba 2015,
 * Algorithm 1) and plain logits. Gradients come from the shared float64 reference,
 * src/harness/reference64.ts (checked against finite differences in test/scratch/reference.test.ts).
 */
import type { Activation, Batch, Params } from '../../src/core/types.ts';

import { gradients64, to64, type Params64 } from '../../src/harness/reference64.ts';

export type P64 = Params64;
export const KEYS = ['W1', 'b1', 'W2', 'b2'] as const;
export const p64 = (p: Params): P64 => to64(p);
export const ref64 = (p: P64, batch: Batch, act: Activation = 'relu'): { loss: number; grads: P64 } => gradients64(p, batch, act);

function f(a: Activation, z: number): number {
  if (a === 'relu') return z > 0 ? z : 0;
  if (a === 'tanh') return Math.tanh(z);
  return 1 / (1 + Math.exp(-z));
}

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

/** Logits (m×10, row-major) in float64, for checking predictions. */
export function logits64(p: P64, x: Float32Array, m: number, act: Activation = 'relu'): Float64Array {
  const h = p.b1.length, D = 784, C = 10;
  const out = new Float64Array(m * C), a1 = new Float64Array(h);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < h; j++) {
      let s = p.b1[j];
      for (let k = 0; k < D; k++) s += p.W1[j * D + k] * x[i * D + k];
      a1[j] = f(act, s);
    }
    for (let c = 0; c < C; c++) {
      let s = p.b2[c];
      for (let j = 0; j < h; j++) s += p.W2[c * h + j] * a1[j];
      out[i * C + c] = s;
    }
  }
  return out;
}

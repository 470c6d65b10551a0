/**
 * Test-only float64 references for the tfjs tests, written independently of src/ (and of
 * test/helpers/reference64.ts): per-sample loops straight from the chain rule, in the seed layout
 * (W1 hidden×784, W2 10×hidden), plus Adam exactly as published (Kingma & Ba 2015, Algorithm 1).
 */
import type { Activation, Batch, Params } from '../../src/core/types.ts';

export interface P64 {
  W1: Float64Array;
  b1: Float64Array;
  W2: Float64Array;
  b2: Float64Array;
}
export const KEYS = ['W1', 'b1', 'W2', 'b2'] as const;

export function p64(p: Params): P64 {
  return { W1: Float64Array.from(p.W1), b1: Float64Array.from(p.b1), W2: Float64Array.from(p.W2), b2: Float64Array.from(p.b2) };
}

function f(a: Activation, z: number): number {
  if (a === 'relu') return z > 0 ? z : 0;
  if (a === 'tanh') return Math.tanh(z);
  return 1 / (1 + Math.exp(-z));
}

/** derivative of the activation, given z */
function df(a: Activation, z: number): number {
  if (a === 'relu') return z > 0 ? 1 : 0;
  if (a === 'tanh') {
    const t = Math.tanh(z);
    return 1 - t * t;
  }
  const s = 1 / (1 + Math.exp(-z));
  return s * (1 - s);
}

/**
 * Mean over the batch of −log softmax(z2)[y], and its gradients, in float64.
 * For each sample: z1 = W1·x + b1, a1 = f(z1), z2 = W2·a1 + b2; ∂ℓ/∂z2 = softmax(z2) − onehot(y);
 * ∂ℓ/∂a1 = W2ᵀ·∂ℓ/∂z2; ∂ℓ/∂z1 = f'(z1)⊙∂ℓ/∂a1; weight gradients are outer products with the layer input.
 */
export function ref64(p: P64, batch: Batch, act: Activation = 'relu'): { loss: number; grads: P64 } {
  const h = p.b1.length, m = batch.m, D = 784, C = 10;
  const g: P64 = { W1: new Float64Array(h * D), b1: new Float64Array(h), W2: new Float64Array(C * h), b2: new Float64Array(C) };
  const z1 = new Float64Array(h), a1 = new Float64Array(h), z2 = new Float64Array(C), d2 = new Float64Array(C), d1 = new Float64Array(h);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    const x = batch.x.subarray(i * D, (i + 1) * D);
    for (let j = 0; j < h; j++) {
      let s = p.b1[j];
      for (let k = 0; k < D; k++) s += p.W1[j * D + k] * x[k];
      z1[j] = s;
      a1[j] = f(act, s);
    }
    let mx = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = p.b2[c];
      for (let j = 0; j < h; j++) s += p.W2[c * h + j] * a1[j];
      z2[c] = s;
      if (s > mx) mx = s;
    }
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(z2[c] - mx);
    const lse = mx + Math.log(se);
    const y = batch.y[i];
    loss += lse - z2[y];
    for (let c = 0; c < C; c++) d2[c] = Math.exp(z2[c] - lse) - (c === y ? 1 : 0);
    for (let j = 0; j < h; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += p.W2[c * h + j] * d2[c];
      d1[j] = s * df(act, z1[j]);
    }
    for (let c = 0; c < C; c++) {
      g.b2[c] += d2[c];
      for (let j = 0; j < h; j++) g.W2[c * h + j] += d2[c] * a1[j];
    }
    for (let j = 0; j < h; j++) {
      g.b1[j] += d1[j];
      if (d1[j] !== 0) for (let k = 0; k < D; k++) g.W1[j * D + k] += d1[j] * x[k];
    }
  }
  for (const k of KEYS) for (let i = 0; i < g[k].length; i++) g[k][i] /= m;
  return { loss: loss / m, grads: g };
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

/**
 * The float64 twin of the equations in src/scratch/network.ts (the table in its header, computed by its
 * `blockSums`), for any list of layers: the yardstick of src/scratch, scratch-simd and src/tfjs in the
 * tests and in the harness's agreement report.
 *
 * How it differs from network.ts: it is written as the notebooks write it, in float64 throughout, with
 * column-major "features × samples" matrices (X is 784×m), a generic matmul, explicit transposes, a
 * one-hot Y and dropout masks as full out×m matrices, and none of network.ts's layout tricks, workspaces
 * or zero-skipping. It is itself checked against central finite differences
 * (test/scratch/reference.test.ts), so agreement with it means agreement with the calculus.
 */
import type { Activation, Batch, Params } from '../core/types.ts';

export interface Layer64 {
  W: Float64Array; // out×in, row-major
  b: Float64Array; // out
}
export interface Params64 {
  layers: Layer64[];
}

export const to64 = (p: Params): Params64 => ({ layers: p.layers.map((l) => ({ W: Float64Array.from(l.W), b: Float64Array.from(l.b) })) });

/** C (r×c) = A (r×k) · B (k×c), all row-major. */
function matmul(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += A[i * k + t] * B[t * c + j];
      C[i * c + j] = s;
    }
  return C;
}

function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j];
  return T;
}

const g = {
  relu: (z: number) => Math.max(0, z),
  tanh: (z: number) => Math.tanh(z),
  sigmoid: (z: number) => 1 / (1 + Math.exp(-z)),
};
const dg = {
  relu: (z: number) => (z > 0 ? 1 : 0),
  tanh: (z: number) => 1 - Math.tanh(z) ** 2,
  sigmoid: (z: number) => {
    const s = 1 / (1 + Math.exp(-z));
    return s * (1 - s);
  },
};

/** Batch (sample-major) → X (784×m) and one-hot Y (10×m). */
export function columns(batch: Batch): { X: Float64Array; Y: Float64Array; m: number } {
  const m = batch.m;
  const X = transpose(Float64Array.from(batch.x.subarray(0, m * 784)), m, 784);
  const Y = new Float64Array(10 * m);
  for (let i = 0; i < m; i++) Y[batch.y[i] * m + i] = 1;
  return { X, Y, m };
}

export interface Options64 {
  activation?: Activation;
  /** per hidden layer, m×width sample-major (as GradientOptions.masks) */
  masks?: ArrayLike<number>[];
}

export function loss64(p: Params64, batch: Batch, opts: Options64 = {}): number {
  return run(p, batch, opts, false).loss;
}

export function gradients64(p: Params64, batch: Batch, opts: Options64 = {}): { loss: number; grads: Params64 } {
  const r = run(p, batch, opts, true);
  return { loss: r.loss, grads: r.grads! };
}

/** Class scores Z_L (10×m, column-major as the rest of this file) without dropout. */
export function logits64(p: Params64, batch: Batch, act: Activation = 'relu'): Float64Array {
  const { X, m } = columns(batch);
  let A = X;
  p.layers.forEach((layer, l) => {
    const out = layer.b.length, inp = A.length / m;
    const Z = matmul(layer.W, A, out, inp, m);
    for (let j = 0; j < out; j++) for (let i = 0; i < m; i++) Z[j * m + i] += layer.b[j];
    A = l === p.layers.length - 1 ? Z : Z.map(g[act]);
  });
  return A;
}

function run(p: Params64, batch: Batch, opts: Options64, backward: boolean): { loss: number; grads?: Params64 } {
  const act = opts.activation ?? 'relu';
  const L = p.layers.length;
  const { X, Y, m } = columns(batch);
  // the masks as out×m matrices, like every other matrix here
  const M = (opts.masks ?? []).map((mk, l) => transpose(Float64Array.from(mk), m, p.layers[l].b.length));

  // forward: the left column of the table in network.ts, one matrix per line
  const As: Float64Array[] = [X];
  const Zs: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const { W, b } = p.layers[l];
    const out = b.length, inp = As[l].length / m;
    const Z = matmul(W, As[l], out, inp, m);
    for (let j = 0; j < out; j++) for (let i = 0; i < m; i++) Z[j * m + i] += b[j];
    Zs.push(Z);
    if (l < L - 1) {
      const A = Z.map(g[act]);
      if (M[l]) for (let i = 0; i < A.length; i++) A[i] *= M[l][i];
      As.push(A);
    }
  }
  const ZL = Zs[L - 1];
  const AL = new Float64Array(10 * m);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < 10; c++) mx = Math.max(mx, ZL[c * m + i]);
    let s = 0;
    for (let c = 0; c < 10; c++) s += Math.exp(ZL[c * m + i] - mx);
    const lse = mx + Math.log(s);
    for (let c = 0; c < 10; c++) {
      AL[c * m + i] = Math.exp(ZL[c * m + i] - lse);
      loss -= Y[c * m + i] * (ZL[c * m + i] - lse);
    }
  }
  loss /= m;
  if (!backward) return { loss };

  // backward: the middle column of the table in network.ts
  const grads: Layer64[] = new Array(L);
  let dZ = AL.map((a, i) => a - Y[i]);
  for (let l = L - 1; l >= 0; l--) {
    const { W, b } = p.layers[l];
    const out = b.length, inp = As[l].length / m;
    const dW = matmul(dZ, transpose(As[l], inp, m), out, m, inp).map((v) => v / m);
    const db = new Float64Array(out);
    for (let j = 0; j < out; j++) for (let i = 0; i < m; i++) db[j] += dZ[j * m + i] / m;
    grads[l] = { W: dW, b: db };
    if (l > 0) {
      const dA = matmul(transpose(W, out, inp), dZ, inp, out, m);
      const Zp = Zs[l - 1];
      dZ = dA.map((v, i) => v * (M[l - 1] ? M[l - 1][i] : 1) * dg[act](Zp[i]));
    }
  }
  return { loss, grads: { layers: grads } };
}

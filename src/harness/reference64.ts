/**
 * An independent float64 reference for the 784→h→10 network: the third implementation, used by the
 * tests (as the yardstick for both src/scratch and src/tfjs) and by the harness (agreement report).
 *
 * It follows the seed notebook literally: column-major "features × samples" matrices (X is 784×m),
 * a generic matmul, explicit transposes and a one-hot Y, with none of src/scratch's layout tricks,
 * workspaces or zero-skipping. It is itself checked against central finite differences
 * (test/scratch/reference.test.ts), so agreement with it means agreement with the calculus.
 */
import type { Activation, Batch, Params } from '../core/types.ts';

export interface Params64 {
  W1: Float64Array;
  b1: Float64Array;
  W2: Float64Array;
  b2: Float64Array;
}

export const to64 = (p: Params): Params64 => ({
  W1: Float64Array.from(p.W1),
  b1: Float64Array.from(p.b1),
  W2: Float64Array.from(p.W2),
  b2: Float64Array.from(p.b2),
});

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

export function loss64(p: Params64, batch: Batch, act: Activation = 'relu'): number {
  return run(p, batch, act, false).loss;
}

export function gradients64(p: Params64, batch: Batch, act: Activation = 'relu'): { loss: number; grads: Params64 } {
  const r = run(p, batch, act, true);
  return { loss: r.loss, grads: r.grads! };
}

function run(p: Params64, batch: Batch, act: Activation, backward: boolean): { loss: number; grads?: Params64 } {
  const h = p.b1.length;
  const { X, Y, m } = columns(batch);
  // forward
  const Z1 = matmul(p.W1, X, h, 784, m);
  for (let j = 0; j < h; j++) for (let i = 0; i < m; i++) Z1[j * m + i] += p.b1[j];
  const A1 = Z1.map(g[act]);
  const Z2 = matmul(p.W2, A1, 10, h, m);
  for (let c = 0; c < 10; c++) for (let i = 0; i < m; i++) Z2[c * m + i] += p.b2[c];
  const A2 = new Float64Array(10 * m);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < 10; c++) mx = Math.max(mx, Z2[c * m + i]);
    let s = 0;
    for (let c = 0; c < 10; c++) s += Math.exp(Z2[c * m + i] - mx);
    const lse = mx + Math.log(s);
    for (let c = 0; c < 10; c++) {
      A2[c * m + i] = Math.exp(Z2[c * m + i] - lse);
      loss -= Y[c * m + i] * (Z2[c * m + i] - lse);
    }
  }
  loss /= m;
  if (!backward) return { loss };
  // backward
  const dZ2 = A2.map((a, i) => a - Y[i]);
  const dW2 = matmul(dZ2, transpose(A1, h, m), 10, m, h).map((v) => v / m);
  const db2 = new Float64Array(10);
  for (let c = 0; c < 10; c++) for (let i = 0; i < m; i++) db2[c] += dZ2[c * m + i] / m;
  const dZ1 = matmul(transpose(p.W2, 10, h), dZ2, h, 10, m).map((v, i) => v * dg[act](Z1[i]));
  const dW1 = matmul(dZ1, transpose(X, 784, m), h, m, 784).map((v) => v / m);
  const db1 = new Float64Array(h);
  for (let j = 0; j < h; j++) for (let i = 0; i < m; i++) db1[j] += dZ1[j * m + i] / m;
  return { loss, grads: { W1: dW1, b1: db1, W2: dW2, b2: db2 } };
}

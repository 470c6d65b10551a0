/**
 * The 784 → hidden → 10 network by hand, on Float32Array, in the order of the seed notebook's equations.
 *
 *   forward                          backward                              update
 *   Z1 = W1·X + b1                   dZ2 = A2 − Y                          W1 := W1 − α·dW1
 *   A1 = g(Z1)        (ReLU)         dW2 = dZ2·A1ᵀ / m                     b1 := b1 − α·db1
 *   Z2 = W2·A1 + b2                  db2 = Σ dZ2 / m                       W2 := W2 − α·dW2
 *   A2 = softmax(Z2)                 dZ1 = W2ᵀ·dZ2 ∘ g′(Z1)                b2 := b2 − α·db2
 *                                    dW1 = dZ1·Xᵀ / m
 *                                    db1 = Σ dZ1 / m
 *
 * Shapes in the comments are the seed's (features × samples). In memory, X is sample-major (m×784, one
 * image per row), so "column i of X" is row i of `batch.x`.
 *
 * How it runs: one sample (one column of the seed's matrices) at a time, forward and backward fused, so
 * each image is read from memory once. Its nonzero pixels (~20% of MNIST's) are listed once and that list
 * serves both products that touch X, W1·X and dZ1·Xᵀ; zero pixels would only add zeros. The sums over the
 * samples (dW1, db1, dW2, db2, the loss) accumulate in float64, block by block (BLOCK), which is also how
 * worker threads split a batch (threads.ts). The inner loops are small kernels below, each with a general
 * path and an unrolled one for the default hidden = 10. A step allocates nothing.
 *
 * Deliberate fixes of the notebook's slips:
 *  1. db1, db2 are summed per unit over the samples (the notebook's `np.sum(dZ)` sums to one scalar);
 *  2. m is taken from the batch (the notebook uses a global m, wrong for any other batch size);
 *  3. softmax subtracts each column's max before exponentiating (the notebook's `exp(Z)/sum(exp(Z))`
 *     overflows to NaN once a logit passes ~709 in double / ~88 in float32).
 *
 * Parameters, gradients and data are Float32Array. Per-batch intermediates and the gradient sums are kept
 * in Float64Array: JavaScript arithmetic is double anyway, and summing 60,000 products into a float32
 * accumulator would lose ~4 digits. Gradients are rounded to float32 once, at the end.
 */
import { CLASSES as CLASSES_, INPUT as INPUT_, type Activation, type Batch, type GradientResult, type Params, type Trainer, allocParams, checkParams, cloneParams, copyParams } from '../core/types.ts';
import { UserError } from '../core/errors.ts';
import { createThreadPool, type ThreadPool } from './threads.ts';

// Module-local copies of the shape constants: TypeScript loaders (tsx/esbuild) may turn every use of an
// imported binding into a getter call, which costs 5× in the inner loops below (measured).
const INPUT: number = INPUT_;
const CLASSES: number = CLASSES_;

/**
 * Samples per gradient block. A batch's gradient sums are built block by block: each block's sums start
 * from zero and are added to the batch totals in block order. Worker threads (threads.ts) compute whole
 * blocks and the totals are added up in the same order, so the result does not depend on the number of
 * threads.
 */
export const BLOCK = 512;

/** Float64 sums of a block's (or a batch's) gradient contributions, before the 1/m: views of one buffer. */
export interface GradSums {
  dW1: Float64Array; // hidden×784
  db1: Float64Array; // hidden
  dW2: Float64Array; // 10×hidden
  db2: Float64Array; // 10
  loss: Float64Array; // 1: Σ −log A2[y_i]
}

/** Length of the flat Float64Array behind a GradSums. */
export function sumsLength(hidden: number): number {
  return INPUT * hidden + hidden + CLASSES * hidden + CLASSES + 1;
}

/** GradSums as views of `buf` (length sumsLength(hidden)), in the order dW1, db1, dW2, db2, loss. */
export function sumsView(buf: Float64Array, hidden: number): GradSums {
  let o = 0;
  const take = (n: number) => buf.subarray(o, (o += n));
  return { dW1: take(INPUT * hidden), db1: take(hidden), dW2: take(CLASSES * hidden), db2: take(CLASSES), loss: take(1) };
}

/** Reusable buffers, so a training step allocates nothing. Only A2 depends on the batch size. */
export interface Workspace {
  hidden: number;
  capacity: number; // max m of a forward pass (A2's rows)
  A2: Float64Array; // 10×m (stored m×10): softmax output of the last forwardInto
  nzIdx: Int32Array; // 784: the indices of the current image's nonzero pixels
  z1: Float64Array; // hidden: the current sample's column of Z1,
  a1: Float64Array; // hidden: of A1,
  dz1: Float64Array; // hidden: of dZ1,
  a2: Float64Array; // 10: of A2, then dZ2
  z2: Float64Array; // 10: of Z2 (the logits, kept for the loss)
  logZ: number; // log Σ_c exp(Z2[c]) of the current sample
  bits: Int32Array | null; // the last batch's buffer as int32 (see nonzeros)
  total: Float64Array; // sumsLength(hidden): the batch's gradient sums…
  totalSums: GradSums; // …as views
  block: Float64Array; // sumsLength(hidden): one block's sums (batches of more than BLOCK samples)
  blockSums: GradSums;
}

export function createWorkspace(hidden: number, capacity: number): Workspace {
  const total = new Float64Array(sumsLength(hidden));
  const block = new Float64Array(sumsLength(hidden));
  return {
    hidden,
    capacity,
    A2: new Float64Array(capacity * CLASSES),
    nzIdx: new Int32Array(INPUT),
    z1: new Float64Array(hidden),
    a1: new Float64Array(hidden),
    dz1: new Float64Array(hidden),
    a2: new Float64Array(CLASSES),
    z2: new Float64Array(CLASSES),
    logZ: 0,
    bits: null,
    total,
    totalSums: sumsView(total, hidden),
    block,
    blockSums: sumsView(block, hidden),
  };
}

function ensureWorkspace(ws: Workspace | undefined, hidden: number, m: number): Workspace {
  return ws && ws.hidden === hidden && ws.capacity >= m ? ws : createWorkspace(hidden, m);
}

/** g(Z) in place over n values of Z into A. */
function activate(act: Activation, Z: Float64Array, A: Float64Array, n: number): void {
  if (act === 'relu') for (let i = 0; i < n; i++) A[i] = Z[i] > 0 ? Z[i] : 0;
  else if (act === 'tanh') for (let i = 0; i < n; i++) A[i] = Math.tanh(Z[i]);
  else for (let i = 0; i < n; i++) A[i] = 1 / (1 + Math.exp(-Z[i]));
}

/** dZ ∘= g′(Z), with g′ written from Z (ReLU) or from A = g(Z) (tanh, sigmoid). */
function activateBackward(act: Activation, Z: Float64Array, A: Float64Array, dZ: Float64Array, n: number): void {
  if (act === 'relu') for (let i = 0; i < n; i++) dZ[i] = Z[i] > 0 ? dZ[i] : 0; // ReLU′(z) = [z > 0]
  else if (act === 'tanh') for (let i = 0; i < n; i++) dZ[i] *= 1 - A[i] * A[i];
  else for (let i = 0; i < n; i++) dZ[i] *= A[i] * (1 - A[i]);
}

// ---- the kernels: the inner loops, each with a general path and one unrolled for hidden = 10 ----

/**
 * The indices of an image's nonzero pixels, into idx, ascending; returns their count. `bits` is the
 * image's buffer read as int32 and `bo` the image's offset in it. Branch-light, because strokes make
 * the zero/nonzero pattern unpredictable: four pixels whose bits are all 0 are skipped with one test;
 * otherwise each pixel's index is written at idx[n] and n advances by 1 exactly when its bits are nonzero,
 * ((b | −b) >>> 31). A −0 pixel (bits 0x80000000) is kept; it adds −0, which changes nothing.
 */
function nonzeros(bits: Int32Array, bo: number, idx: Int32Array): number {
  let n = 0;
  for (let k = 0; k < INPUT; k += 4) { // 784 = 4·196
    const o = bo + k;
    const b0 = bits[o], b1 = bits[o + 1], b2 = bits[o + 2], b3 = bits[o + 3];
    if ((b0 | b1 | b2 | b3) === 0) continue;
    idx[n] = k;
    n += (b0 | -b0) >>> 31;
    idx[n] = k + 1;
    n += (b1 | -b1) >>> 31;
    idx[n] = k + 2;
    n += (b2 | -b2) >>> 31;
    idx[n] = k + 3;
    n += (b3 | -b3) >>> 31;
  }
  return n;
}

/** x's whole buffer as int32, cached in the workspace; the int32 offset of x[0] is x.byteOffset / 4. */
function bitsOf(x: Float32Array, ws: Workspace): Int32Array {
  const buf = x.buffer;
  if (ws.bits === null || ws.bits.buffer !== buf) ws.bits = new Int32Array(buf, 0, buf.byteLength >> 2);
  return ws.bits;
}

/**
 * z = W1·x over x's n nonzero pixels: z[j] = Σ_k W1[j, k]·x[k], k ascending. For hidden = 10 in one pass
 * over the pixels with the ten sums in locals (registers); otherwise row by row.
 */
function hiddenSums(W1: Float32Array, h: number, x: Float32Array, xo: number, idx: Int32Array, n: number, z: Float64Array): void {
  if (h !== 10) {
    for (let j = 0; j < h; j++) {
      const wo = j * INPUT;
      let s = 0;
      for (let t = 0; t < n; t++) s += W1[wo + idx[t]] * x[xo + idx[t]];
      z[j] = s;
    }
    return;
  }
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0, z8 = 0, z9 = 0;
  for (let t = 0; t < n; t++) {
    const k = idx[t], v = x[xo + k]; // row j of W1 starts at j·784
    z0 += W1[k] * v;
    z1 += W1[k + 784] * v;
    z2 += W1[k + 1568] * v;
    z3 += W1[k + 2352] * v;
    z4 += W1[k + 3136] * v;
    z5 += W1[k + 3920] * v;
    z6 += W1[k + 4704] * v;
    z7 += W1[k + 5488] * v;
    z8 += W1[k + 6272] * v;
    z9 += W1[k + 7056] * v;
  }
  z[0] = z0; z[1] = z1; z[2] = z2; z[3] = z3; z[4] = z4; z[5] = z5; z[6] = z6; z[7] = z7; z[8] = z8; z[9] = z9;
}

/**
 * dW1 += dz·xᵀ over x's n nonzero pixels. For hidden = 10 in one pass over the pixels with the ten dz in
 * locals; otherwise row by row, skipping units with dz = 0 (a dead ReLU unit for this sample).
 */
function addOuterX(dW1: Float64Array, h: number, x: Float32Array, xo: number, idx: Int32Array, n: number, dz: Float64Array): void {
  if (h !== 10) {
    for (let j = 0; j < h; j++) {
      const d = dz[j];
      if (d === 0) continue;
      const wo = j * INPUT;
      for (let t = 0; t < n; t++) dW1[wo + idx[t]] += d * x[xo + idx[t]];
    }
    return;
  }
  const d0 = dz[0], d1 = dz[1], d2 = dz[2], d3 = dz[3], d4 = dz[4], d5 = dz[5], d6 = dz[6], d7 = dz[7], d8 = dz[8], d9 = dz[9];
  for (let t = 0; t < n; t++) {
    const k = idx[t], v = x[xo + k];
    dW1[k] += d0 * v;
    dW1[k + 784] += d1 * v;
    dW1[k + 1568] += d2 * v;
    dW1[k + 2352] += d3 * v;
    dW1[k + 3136] += d4 * v;
    dW1[k + 3920] += d5 * v;
    dW1[k + 4704] += d6 * v;
    dW1[k + 5488] += d7 * v;
    dW1[k + 6272] += d8 * v;
    dW1[k + 7056] += d9 * v;
  }
}

// The three 10×hidden products of one sample. Small, but per sample: for hidden = 10, unrolled over j with
// A1 (or dZ2) in locals (~10% of a step); the sums run in the same order either way.

/** out[oo + c] = b2[c] + Σ_j W2[c, j]·a[j]   (Z2 = W2·A1 + b2) */
function outputSums(W2: Float32Array, b2: Float32Array, h: number, a: Float64Array, out: Float64Array, oo: number): void {
  if (h !== 10) {
    for (let c = 0; c < CLASSES; c++) {
      const wo = c * h;
      let s = b2[c];
      for (let j = 0; j < h; j++) s += W2[wo + j] * a[j];
      out[oo + c] = s;
    }
    return;
  }
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9];
  for (let c = 0; c < CLASSES; c++) {
    const wo = c * 10;
    out[oo + c] = b2[c] + W2[wo] * a0 + W2[wo + 1] * a1 + W2[wo + 2] * a2 + W2[wo + 3] * a3 + W2[wo + 4] * a4 +
      W2[wo + 5] * a5 + W2[wo + 6] * a6 + W2[wo + 7] * a7 + W2[wo + 8] * a8 + W2[wo + 9] * a9;
  }
}

/** dW2[c, j] += d[c]·a[j]   (dW2 += dZ2·A1ᵀ) */
function addOuterA(dW2: Float64Array, h: number, d: Float64Array, a: Float64Array): void {
  if (h !== 10) {
    for (let c = 0; c < CLASSES; c++) {
      const wo = c * h, dc = d[c];
      for (let j = 0; j < h; j++) dW2[wo + j] += dc * a[j];
    }
    return;
  }
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9];
  for (let c = 0; c < CLASSES; c++) {
    const wo = c * 10, dc = d[c];
    dW2[wo] += dc * a0;
    dW2[wo + 1] += dc * a1;
    dW2[wo + 2] += dc * a2;
    dW2[wo + 3] += dc * a3;
    dW2[wo + 4] += dc * a4;
    dW2[wo + 5] += dc * a5;
    dW2[wo + 6] += dc * a6;
    dW2[wo + 7] += dc * a7;
    dW2[wo + 8] += dc * a8;
    dW2[wo + 9] += dc * a9;
  }
}

/** dz[j] = Σ_c W2[c, j]·d[c]   (W2ᵀ·dZ2) */
function backSums(W2: Float32Array, h: number, d: Float64Array, dz: Float64Array): void {
  if (h !== 10) {
    for (let j = 0; j < h; j++) {
      let t = 0;
      for (let c = 0; c < CLASSES; c++) t += W2[c * h + j] * d[c];
      dz[j] = t;
    }
    return;
  }
  const d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5], d6 = d[6], d7 = d[7], d8 = d[8], d9 = d[9];
  for (let j = 0; j < 10; j++) {
    dz[j] = W2[j] * d0 + W2[10 + j] * d1 + W2[20 + j] * d2 + W2[30 + j] * d3 + W2[40 + j] * d4 +
      W2[50 + j] * d5 + W2[60 + j] * d6 + W2[70 + j] * d7 + W2[80 + j] * d8 + W2[90 + j] * d9;
  }
}

// ---- the network, one sample (one column of the seed's matrices) at a time ----

/**
 * Forward pass of one sample, the image at x[xo ..] (column i of X): fills ws.z1, ws.a1 and the softmax
 * column out[oo .. oo+9], and leaves the indices of the image's nonzero pixels in ws.nzIdx. Returns their count.
 */
function forwardSample(p: Params, bits: Int32Array, x: Float32Array, xo: number, act: Activation, ws: Workspace, out: Float64Array, oo: number): number {
  const h = ws.hidden;
  const { W1, b1, W2, b2 } = p;
  const { nzIdx, z1, a1 } = ws;

  // Zero pixels (~80% of MNIST) add nothing to W1·X nor, later, to dZ1·Xᵀ: list the others once.
  const n = nonzeros(bits, (x.byteOffset >> 2) + xo, nzIdx);

  // Z1 = W1·X + b1      (hidden×784)·(784×1) + (hidden×1) → hidden×1
  hiddenSums(W1, h, x, xo, nzIdx, n, z1);
  for (let j = 0; j < h; j++) z1[j] += b1[j];

  // A1 = g(Z1)           hidden×1   (ReLU by default; tanh and sigmoid are the seed's alternatives)
  activate(act, z1, a1, h);

  // Z2 = W2·A1 + b2      (10×hidden)·(hidden×1) + (10×1) → 10×1
  outputSums(W2, b2, h, a1, out, oo);

  // A2 = softmax(Z2)     10×1, max-subtracted (fix 3)
  const z2 = ws.z2;
  let max = -Infinity;
  for (let c = 0; c < CLASSES; c++) if (out[oo + c] > max) max = out[oo + c];
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    z2[c] = out[oo + c];
    const e = Math.exp(out[oo + c] - max);
    out[oo + c] = e;
    sum += e;
  }
  for (let c = 0; c < CLASSES; c++) out[oo + c] /= sum;
  ws.logZ = max + Math.log(sum);
  return n;
}

/**
 * Forward and backward pass of samples [from, to) of the batch, their gradient contributions and losses
 * added to `s` (the caller zeroes it). The fused loop reads each image once.
 */
export function blockSums(p: Params, batch: Batch, from: number, to: number, act: Activation, ws: Workspace, s: GradSums): void {
  const h = ws.hidden;
  const { x, y } = batch;
  const { W2 } = p;
  const { nzIdx, z1, a1, dz1, a2 } = ws;
  const bits = bitsOf(x, ws);
  const { dW1, db1, dW2, db2, loss } = s;

  for (let i = from; i < to; i++) {
    const n = forwardSample(p, bits, x, i * INPUT, act, ws, a2, 0);
    const label = y[i];

    // loss += −log A2[y_i] = log Σ_c exp(Z2[c]) − Z2[y_i]   (summed here, divided by m at the end: the
    // batch-mean cross-entropy; in this log-sum-exp form it stays exact where A2[y_i] underflows to 0)
    loss[0] += ws.logZ - ws.z2[label];

    // dZ2 = A2 − Y         10×1    (Y one-hot; done in place in a2)
    const dZ2 = a2;
    dZ2[label] -= 1;

    // dW2 = dZ2·A1ᵀ / m    (10×1)·(1×hidden) → 10×hidden, summed over the samples
    addOuterA(dW2, h, dZ2, a1);
    // db2 = Σ dZ2 / m      10×1, summed over samples per unit (fix 1)
    for (let c = 0; c < CLASSES; c++) db2[c] += dZ2[c];

    // dZ1 = W2ᵀ·dZ2 ∘ g′(Z1)   (hidden×10)·(10×1) ∘ (hidden×1) → hidden×1
    backSums(W2, h, dZ2, dz1);
    activateBackward(act, z1, a1, dz1, h);

    // dW1 = dZ1·Xᵀ / m     (hidden×1)·(1×784) → hidden×784, summed over the samples; only the image's
    // nonzero pixels contribute
    addOuterX(dW1, h, x, i * INPUT, nzIdx, n, dz1);
    // db1 = Σ dZ1 / m      hidden×1 (fix 1)
    for (let j = 0; j < h; j++) db1[j] += dz1[j];
  }
}

/** a += b, element by element (block sums into batch totals). */
export function addSums(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

/** The batch-mean gradients from the totals: the 1/m of every gradient (fix 2: m is this batch's size), rounded to float32 once. */
export function finishGradients(s: GradSums, grads: Params, h: number, m: number): number {
  const inv = 1 / m;
  const { dW1, db1, dW2, db2 } = s;
  for (let i = 0; i < dW1.length; i++) grads.W1[i] = dW1[i] * inv;
  for (let j = 0; j < h; j++) grads.b1[j] = db1[j] * inv;
  for (let i = 0; i < dW2.length; i++) grads.W2[i] = dW2[i] * inv;
  for (let c = 0; c < CLASSES; c++) grads.b2[c] = db2[c] * inv;
  return s.loss[0] / m;
}

/** Forward pass of m samples: fills ws.A2 (softmax probabilities, m×10). */
function forwardInto(p: Params, x: Float32Array, m: number, act: Activation, ws: Workspace): void {
  const bits = bitsOf(x, ws);
  for (let i = 0; i < m; i++) forwardSample(p, bits, x, i * INPUT, act, ws, ws.A2, i * CLASSES);
}

/**
 * Forward and backward pass on one batch: the batch-mean cross-entropy and its gradients, written into
 * `grads` (same shapes as `p`). Allocates nothing when `ws` was made for this hidden width.
 */
export function gradientsInto(p: Params, batch: Batch, grads: Params, act: Activation, ws: Workspace): number {
  batchSums(p, batch, act, ws);
  return finishGradients(ws.totalSums, grads, ws.hidden, batch.m);
}

/** The gradient sums of a whole batch into ws.totalSums, block by block (see BLOCK). */
function batchSums(p: Params, batch: Batch, act: Activation, ws: Workspace): void {
  const { m } = batch;
  if (m < 1) throw new Error('gradients: empty batch');
  ws.total.fill(0);
  if (m <= BLOCK) {
    blockSums(p, batch, 0, m, act, ws, ws.totalSums);
  } else {
    for (let from = 0; from < m; from += BLOCK) {
      ws.block.fill(0);
      blockSums(p, batch, from, Math.min(m, from + BLOCK), act, ws, ws.blockSums);
      addSums(ws.total, ws.block);
    }
  }
}

/**
 * One gradient-descent step from the batch's sums: W := W − α·dW with dW = sums / m rounded to float32,
 * exactly as gradientsInto followed by sgdUpdate, without writing dW out. Returns the batch-mean loss.
 */
function sgdStep(p: Params, batch: Batch, act: Activation, ws: Workspace, lr: number): number {
  batchSums(p, batch, act, ws);
  const inv = 1 / batch.m;
  const s = ws.totalSums;
  updateFromSums(p.W1, s.dW1, inv, lr);
  updateFromSums(p.b1, s.db1, inv, lr);
  updateFromSums(p.W2, s.dW2, inv, lr);
  updateFromSums(p.b2, s.db2, inv, lr);
  return s.loss[0] / batch.m;
}

function updateFromSums(w: Float32Array, sum: Float64Array, inv: number, lr: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * Math.fround(sum[i] * inv);
}

export interface NetOptions {
  activation?: Activation;
}

/** The batch-mean cross-entropy loss and its gradients (the pair compared against tfjs). */
export function gradients(p: Params, batch: Batch, opts: NetOptions = {}): GradientResult {
  const h = checkParams(p);
  const grads = allocParams(h);
  const loss = gradientsInto(p, batch, grads, opts.activation ?? 'relu', createWorkspace(h, 0));
  return { loss, grads };
}

/** Softmax probabilities, m×10 row-major. */
export function probabilities(p: Params, x: Float32Array, m: number, opts: NetOptions = {}, ws?: Workspace): Float32Array {
  const h = checkParams(p);
  const w = ensureWorkspace(ws, h, m);
  forwardInto(p, x, m, opts.activation ?? 'relu', w);
  return Float32Array.from(w.A2.subarray(0, m * CLASSES));
}

/** argmax of A2 per sample (get_predictions in the notebook). */
export function predict(p: Params, x: Float32Array, m: number, opts: NetOptions = {}, ws?: Workspace): Uint8Array {
  const h = checkParams(p);
  const w = ensureWorkspace(ws, h, m);
  forwardInto(p, x, m, opts.activation ?? 'relu', w);
  const out = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (w.A2[i * CLASSES + c] > w.A2[i * CLASSES + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** W := W − α·dW for every parameter, in float32. */
export function sgdUpdate(p: Params, g: Params, lr: number): void {
  update(p.W1, g.W1, lr);
  update(p.b1, g.b1, lr);
  update(p.W2, g.W2, lr);
  update(p.b2, g.b2, lr);
}

function update(w: Float32Array, d: Float32Array, lr: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * d[i];
}

export interface ScratchTrainerOptions extends NetOptions {
  lr: number;
  hidden?: number;
  /**
   * Worker threads that compute each step (gradients and update; see threads.ts), with results
   * bit-identical to the default, 0: everything on the calling thread.
   */
  threads?: number;
}

export function checkLearningRate(lr: number, what = 'learning rate'): void {
  if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) {
    throw new UserError(`${what} must be a finite number > 0, got ${lr}`);
  }
}

/** What tells the scratch trainers apart: where the parameters live and how one step changes them. */
export interface ScratchOptimizer {
  /** storage for the parameters of a network of this width (called again if the width changes) */
  alloc(hidden: number): Params;
  /** forget any state (Adam's moments): called by every load() */
  reset(hidden: number): void;
  /** one update on one batch; returns the batch loss before it */
  step(p: Params, batch: Batch, ws: Workspace): number;
  dispose(): void;
}

/** A Trainer around a ScratchOptimizer: loading, reading, predicting and workspaces are the same for all. */
export function scratchTrainer(name: string, act: Activation, opt: ScratchOptimizer): Trainer {
  let params: Params | null = null;
  let ws: Workspace | undefined;
  const need = (): Params => {
    if (!params) throw new Error(`${name}: load(params) first`);
    return params;
  };
  const fit = (m: number): Workspace => (ws = ensureWorkspace(ws, need().b1.length, m));
  return {
    name,
    load(p: Params) {
      const h = checkParams(p);
      if (!params || params.b1.length !== h) params = opt.alloc(h);
      copyParams(p, params);
      opt.reset(h);
    },
    step: (batch: Batch): number => opt.step(need(), batch, fit(batch.m)),
    read: () => cloneParams(need()),
    predict: (x: Float32Array, m: number): Uint8Array => predict(need(), x, m, { activation: act }, fit(m)),
    dispose() {
      opt.dispose();
      params = null;
      ws = undefined;
    },
  };
}

/** Plain gradient descent, as in the notebook's `gradient_descent`. */
export function createScratchTrainer(opts: ScratchTrainerOptions): Trainer {
  checkLearningRate(opts.lr);
  const threads = opts.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 256) throw new UserError(`threads must be an integer in 0..256, got ${threads}`);
  const act = opts.activation ?? 'relu';
  let pool: ThreadPool | null = null; // threads > 0: the pool owns the parameters, in shared memory
  return scratchTrainer('scratch-gd', act, {
    alloc(h) {
      if (threads === 0) return allocParams(h);
      pool?.dispose();
      pool = createThreadPool(threads, h);
      return pool.params;
    },
    reset() {},
    // gradientsInto + sgdUpdate, bit for bit, on this thread or the pool's
    step: (p, batch, ws) => (pool ? pool.run(batch, act, opts.lr) : sgdStep(p, batch, act, ws, opts.lr)),
    dispose() {
      pool?.dispose();
      pool = null;
    },
  });
}

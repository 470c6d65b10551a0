/**
 * The maths of this project on one page: the equations of the notebook (784 → 10 → 10, L = 2) and the
 * deep notebook (784 → 400 → 100 → 10, L = 3), in their order, for any list of dense layers l = 1..L.
 * The float64 twin (reference64.ts), scratch-simd (assembly/net.ts) and the README point here rather than
 * restate them; `blockSums` below computes them in this order, each line under its equation.
 * Shapes are the notebooks' (features × samples); n is the number of samples in hand.
 *
 *   forward                              backward                                  update
 *   A0 = X                               dZ_L = A_L − Y                            W_l := W_l − α·dW_l
 *   Z_l = W_l·A_{l−1} + b_l              dW_l = dZ_l·A_{l−1}ᵀ / m                  b_l := b_l − α·db_l
 *   A_l = g(Z_l) ∘ M_l     (l < L)       db_l = Σ dZ_l / m
 *   A_L = softmax(Z_L)                   dZ_{l−1} = W_lᵀ·dZ_l ∘ M_{l−1} ∘ g′(Z_{l−1})
 *
 * g is ReLU by default (tanh and sigmoid are the notebooks' alternatives); M_l is the inverted-dropout mask
 * of hidden layer l (0 or 1/keep per unit and sample; absent = all ones, and always absent in prediction).
 * The loss is the batch-mean cross-entropy, −Σ log A_L[y_i] / m. (Adam's update is in adam.ts.)
 *
 * How it runs: SCRATCH_BLOCK samples at a time (the unit of the gradient sums, see below), each block in
 * sub-blocks of SUB samples whose intermediates stay in cache; the loops are in kernels.ts. In memory X is
 * sample-major (m×784, one image per row), and so is every intermediate (n×width).
 *
 * Deliberate fixes of the notebook's slips:
 *  1. db_l is summed per unit over the samples (the notebook's `np.sum(dZ)` sums to one scalar);
 *  2. m is taken from the batch (the notebook uses a global m, wrong for any other batch size);
 *  3. softmax subtracts each column's max before exponentiating (the notebook's `exp(Z)/sum(exp(Z))`
 *     overflows to NaN once a logit passes ~709 in double / ~88 in float32), and the loss is taken as
 *     log Σ exp(Z_L) − Z_L[y], exact where A_L[y] underflows to 0.
 *
 * Parameters, gradients, masks and data are Float32Array. Intermediates and the gradient sums are kept in
 * Float64Array: JavaScript arithmetic is double anyway, and summing 60,000 products into a float32
 * accumulator would lose ~4 digits. Gradients are rounded to float32 once, at the end.
 */
import { checkBatch } from '../core/checks.ts';
import { CLASSES as CLASSES_, INPUT as INPUT_, type Activation, type Batch, type GradientOptions, type GradientResult, type Params, allocParams, checkMasks, hiddenOf, sameSizes, sizesOf } from '../core/types.ts';
import { activateBackward, activateForward, addRows, backDense, createLists, forwardSparse, listNonzeros, listPixels, outerSparse, softmaxRows, type Lists } from './kernels.ts';

const INPUT: number = INPUT_; // module-local copies (see kernels.ts)
const CLASSES: number = CLASSES_;

/**
 * Samples per gradient block. A batch's gradient sums are built block by block: each block's sums start
 * from zero and are added to the batch totals in block order. Worker threads (threads.ts) compute whole
 * blocks and the totals are added up in the same order, so the result does not depend on the number of
 * threads.
 */
export const SCRATCH_BLOCK = 128;
/** Samples per sub-block: the intermediates of SUB samples (n×width doubles per layer) stay in cache. */
export const SUB = 64;

/** Float64 sums of a block's (or a batch's) gradient contributions, before the 1/m: views of one buffer. */
export interface GradSums {
  dW: Float64Array[]; // per layer, out×in
  db: Float64Array[]; // per layer, out
  loss: Float64Array; // 1: Σ −log A_L[y_i]
}

/** Length of the flat Float64Array behind a GradSums. */
export function sumsLength(sizes: readonly number[]): number {
  let n = 1;
  for (let l = 1; l < sizes.length; l++) n += sizes[l] * sizes[l - 1] + sizes[l];
  return n;
}

/** GradSums as views of `buf` (length sumsLength(sizes)), in the order dW1, db1, dW2, db2, …, loss. */
export function sumsView(buf: Float64Array, sizes: readonly number[]): GradSums {
  let o = 0;
  const take = (n: number) => buf.subarray(o, (o += n));
  const dW: Float64Array[] = [], db: Float64Array[] = [];
  for (let l = 1; l < sizes.length; l++) {
    dW.push(take(sizes[l] * sizes[l - 1]));
    db.push(take(sizes[l]));
  }
  return { dW, db, loss: take(1) };
}

/** Reusable buffers, so a training step allocates nothing. */
export interface Workspace {
  sizes: number[]; // [784, h1, …, 10]
  lists: Lists[]; // per layer l = 1..L: the nonzero entries of its input A_{l−1}, per sample
  Z: Float64Array[]; // per layer: Z_l, SUB×out (the last one becomes A_L = softmax, then dZ_L)
  A: Float64Array[]; // per hidden layer: A_l, SUB×out
  dA: Float64Array[]; // per hidden layer: dA_l, then dZ_l in place
  logZ: Float64Array; // SUB: log Σ exp(Z_L) per sample
  zy: Float64Array; // SUB: Z_L[y] per sample
  /** multiply-adds executed by the product kernels since the workspace was made (zeros skipped) */
  madds: number;
  bits: Int32Array | null; // the last batch's buffer as int32 (see listPixels)
  total: Float64Array; // sumsLength: the batch's gradient sums…
  totalSums: GradSums; // …as views
  block: Float64Array; // sumsLength: one block's sums (batches of more than SCRATCH_BLOCK samples)
  blockSums: GradSums;
}

export function createWorkspace(sizes: readonly number[]): Workspace {
  const L = sizes.length - 1;
  const total = new Float64Array(sumsLength(sizes));
  const block = new Float64Array(sumsLength(sizes));
  return {
    sizes: [...sizes],
    lists: Array.from({ length: L }, (_, l) => createLists(SUB, sizes[l])),
    Z: Array.from({ length: L }, (_, l) => new Float64Array(SUB * sizes[l + 1])),
    A: Array.from({ length: L - 1 }, (_, l) => new Float64Array(SUB * sizes[l + 1])),
    dA: Array.from({ length: L - 1 }, (_, l) => new Float64Array(SUB * sizes[l + 1])),
    logZ: new Float64Array(SUB),
    zy: new Float64Array(SUB),
    madds: 0,
    bits: null,
    total,
    totalSums: sumsView(total, sizes),
    block,
    blockSums: sumsView(block, sizes),
  };
}

/** `ws` if it was made for these layer sizes, else a new workspace. */
export function ensureWorkspace(ws: Workspace | undefined, sizes: readonly number[]): Workspace {
  return ws && sameSizes(ws.sizes, sizes) ? ws : createWorkspace(sizes);
}

/** x's whole buffer as int32, cached in the workspace; the int32 offset of x[0] is x.byteOffset / 4. */
function bitsOf(x: Float32Array, ws: Workspace): Int32Array {
  const buf = x.buffer;
  if (ws.bits === null || ws.bits.buffer !== buf) ws.bits = new Int32Array(buf, 0, buf.byteLength >> 2);
  return ws.bits;
}

/**
 * Forward pass of samples i0 .. i0+n−1 (n ≤ SUB) up to the logits: leaves Z_l, A_l and the input lists of
 * every layer in the workspace, and Z_L (n×10) in ws.Z[L−1]. Softmax is the caller's (it needs Z_L[y] first).
 */
function forward(p: Params, x: Float32Array, i0: number, n: number, act: Activation, masks: Float32Array[] | undefined, ws: Workspace): void {
  const { sizes, lists, Z, A } = ws;
  const L = p.layers.length;

  // A0 = X                   784×n: the images' nonzero pixels (~20% of MNIST's), listed once for
  //                          W1·X here and for dW1 = dZ1·Xᵀ in backward
  listPixels(bitsOf(x, ws), x.byteOffset >> 2, x, i0, n, lists[0]);

  for (let l = 1; l <= L; l++) {
    const { W, b } = p.layers[l - 1];
    const nIn = sizes[l - 1], nOut = sizes[l];
    // Z_l = W_l·A_{l−1} + b_l   (out×in)·(in×n) + (out×1) → out×n
    ws.madds += forwardSparse(W, b, nIn, nOut, lists[l - 1], n, Z[l - 1]);
    if (l === L) break;
    // A_l = g(Z_l) ∘ M_l        out×n   (M_l: dropout mask, rows i0.. of the batch's m×out mask)
    activateForward(act, Z[l - 1], A[l - 1], n * nOut, masks?.[l - 1], i0 * nOut);
    listNonzeros(A[l - 1], n, nOut, lists[l]);
  }
}

/**
 * Forward and backward pass of samples [from, to) of the batch, their gradient contributions and losses
 * added to `s` (the caller zeroes it).
 */
export function blockSums(p: Params, batch: Batch, from: number, to: number, act: Activation, masks: Float32Array[] | undefined, ws: Workspace, s: GradSums): void {
  const { sizes, lists, Z, dA, logZ, zy } = ws;
  const { x, y } = batch;
  const L = p.layers.length;
  for (let i0 = from; i0 < to; i0 += SUB) {
    const n = Math.min(SUB, to - i0);
    forward(p, x, i0, n, act, masks, ws);
    const ZL = Z[L - 1];
    for (let i = 0; i < n; i++) zy[i] = ZL[i * CLASSES + y[i0 + i]]; // Z_L[y_i], for the loss
    // A_L = softmax(Z_L)         10×n, each column max-subtracted (fix 3); in place over Z_L
    softmaxRows(ZL, n, logZ);

    // loss += Σ −log A_L[y_i] = Σ (log Σ_c exp(Z_L[c]) − Z_L[y_i])   (÷m at the end: the batch mean)
    for (let i = 0; i < n; i++) s.loss[0] += logZ[i] - zy[i];

    // dZ_L = A_L − Y             10×n   (Y one-hot; in place over A_L)
    for (let i = 0; i < n; i++) ZL[i * CLASSES + y[i0 + i]] -= 1;

    for (let l = L; l >= 1; l--) {
      const nIn = sizes[l - 1], nOut = sizes[l];
      const dZ = l === L ? ZL : dA[l - 1];
      // dW_l += dZ_l·A_{l−1}ᵀ      (out×n)·(n×in) → out×in, summed over the samples (÷m at the end)
      ws.madds += outerSparse(s.dW[l - 1], nIn, nOut, dZ, lists[l - 1], n);
      // db_l += Σ dZ_l             out×1, summed over the samples per unit (fix 1)
      addRows(s.db[l - 1], dZ, n, nOut);
      if (l === 1) break;
      // dZ_{l−1} = W_lᵀ·dZ_l ∘ M_{l−1} ∘ g′(Z_{l−1})   (in×out)·(out×n) ∘ (in×n) → in×n
      ws.madds += backDense(p.layers[l - 1].W, nIn, nOut, dZ, n, dA[l - 2]);
      activateBackward(act, Z[l - 2], dA[l - 2], n * nIn, masks?.[l - 2], i0 * nIn);
    }
  }
}

/** a += b, element by element (block sums into batch totals). */
export function addSums(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

/** The gradient sums of a whole batch into ws.total, block by block (see SCRATCH_BLOCK). */
export function batchSums(p: Params, batch: Batch, act: Activation, masks: Float32Array[] | undefined, ws: Workspace): void {
  const { m } = batch;
  if (m < 1) throw new Error('gradients: empty batch');
  ws.total.fill(0);
  if (m <= SCRATCH_BLOCK) {
    blockSums(p, batch, 0, m, act, masks, ws, ws.totalSums);
  } else {
    for (let from = 0; from < m; from += SCRATCH_BLOCK) {
      ws.block.fill(0);
      blockSums(p, batch, from, Math.min(m, from + SCRATCH_BLOCK), act, masks, ws, ws.blockSums);
      addSums(ws.total, ws.block);
    }
  }
}

/** The batch-mean gradients from the totals: the 1/m of every gradient (fix 2: m is this batch's size), rounded to float32 once. */
export function finishGradients(s: GradSums, grads: Params, m: number): number {
  const inv = 1 / m;
  grads.layers.forEach((g, l) => {
    const dW = s.dW[l], db = s.db[l];
    for (let i = 0; i < dW.length; i++) g.W[i] = dW[i] * inv;
    for (let j = 0; j < db.length; j++) g.b[j] = db[j] * inv;
  });
  return s.loss[0] / m;
}

/**
 * Forward and backward pass on one batch: the batch-mean cross-entropy and its gradients, written into
 * `grads` (same shapes as `p`). Allocates nothing when `ws` was made for these sizes.
 */
export function gradientsInto(p: Params, batch: Batch, grads: Params, act: Activation, masks: Float32Array[] | undefined, ws: Workspace): number {
  batchSums(p, batch, act, masks, ws);
  return finishGradients(ws.totalSums, grads, batch.m);
}

/** W := W − α·dW with dW = sums/m rounded to float32: gradientsInto + sgdUpdate, without writing dW out. */
export function updateFromSums(p: Params, s: GradSums, m: number, lr: number): void {
  const inv = 1 / m;
  p.layers.forEach((layer, l) => {
    descend(layer.W, s.dW[l], inv, lr);
    descend(layer.b, s.db[l], inv, lr);
  });
}

function descend(w: Float32Array, sum: Float64Array, inv: number, lr: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * Math.fround(sum[i] * inv);
}

/** W := W − α·dW for every parameter, in float32. */
export function sgdUpdate(p: Params, g: Params, lr: number): void {
  p.layers.forEach((layer, l) => {
    const gl = g.layers[l];
    for (let i = 0; i < layer.W.length; i++) layer.W[i] -= lr * gl.W[i];
    for (let i = 0; i < layer.b.length; i++) layer.b[i] -= lr * gl.b[i];
  });
}

/** The batch-mean cross-entropy loss and its gradients (the pair compared against tfjs and float64). */
export function gradients(p: Params, batch: Batch, opts: GradientOptions = {}): GradientResult {
  const sizes = sizesOf(p);
  checkBatch(batch);
  const masks = checkMasks(opts.masks, hiddenOf(sizes), batch.m);
  const grads = allocParams(sizes);
  const loss = gradientsInto(p, batch, grads, opts.activation ?? 'relu', masks, createWorkspace(sizes));
  return { loss, grads };
}

/** Softmax probabilities A_L of m samples into `out` (m×10), no dropout. */
export function probabilitiesInto(p: Params, x: Float32Array, m: number, act: Activation, ws: Workspace, out: Float64Array | Float32Array): void {
  const L = p.layers.length;
  for (let i0 = 0; i0 < m; i0 += SUB) {
    const n = Math.min(SUB, m - i0);
    forward(p, x, i0, n, act, undefined, ws);
    softmaxRows(ws.Z[L - 1], n, ws.logZ);
    out.set(ws.Z[L - 1].subarray(0, n * CLASSES), i0 * CLASSES);
  }
}

/** Softmax probabilities, m×10 row-major. */
export function probabilities(p: Params, x: Float32Array, m: number, opts: { activation?: Activation } = {}, ws?: Workspace): Float32Array {
  const w = ensureWorkspace(ws, sizesOf(p));
  const out = new Float32Array(m * CLASSES);
  probabilitiesInto(p, x, m, opts.activation ?? 'relu', w, out);
  return out;
}

/** argmax of A_L per sample (get_predictions in the notebook), no dropout; taken on Z_L, whose order softmax keeps. */
export function predict(p: Params, x: Float32Array, m: number, opts: { activation?: Activation } = {}, ws?: Workspace): Uint8Array {
  if (x.length < m * INPUT) throw new Error(`predict: x has ${x.length} values, expected ${m}×${INPUT}`);
  const w = ensureWorkspace(ws, sizesOf(p));
  const L = p.layers.length;
  const pred = new Uint8Array(m);
  for (let i0 = 0; i0 < m; i0 += SUB) {
    const n = Math.min(SUB, m - i0);
    forward(p, x, i0, n, opts.activation ?? 'relu', undefined, w);
    const Z = w.Z[L - 1];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < CLASSES; c++) if (Z[i * CLASSES + c] > Z[i * CLASSES + best]) best = c;
      pred[i0 + i] = best;
    }
  }
  return pred;
}

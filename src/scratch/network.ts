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
 * image per row), so "column i of X" is row i of `batch.x`, and Z1, A1 (hidden×m) and Z2, A2, dZ2 (10×m)
 * are stored as m×hidden and m×10: column i of the seed's matrix is row i here.
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

// Module-local copies of the shape constants: TypeScript loaders (tsx/esbuild) may turn every use of an
// imported binding into a getter call, which costs 5× in the inner loops below (measured).
const INPUT: number = INPUT_;
const CLASSES: number = CLASSES_;

/** Reusable buffers for one batch size, so a training step allocates nothing. */
export interface Workspace {
  hidden: number;
  capacity: number; // max m
  Z1: Float64Array; // hidden×m (stored m×hidden)
  A1: Float64Array; // hidden×m (stored m×hidden)
  A2: Float64Array; // 10×m     (stored m×10), softmax output; becomes dZ2 in place
  dZ1: Float64Array; // hidden×m (stored m×hidden)
  dW1: Float64Array; // hidden×784 accumulator
  dW2: Float64Array; // 10×hidden accumulator
  db1: Float64Array; // hidden
  db2: Float64Array; // 10
}

export function createWorkspace(hidden: number, capacity: number): Workspace {
  return {
    hidden,
    capacity,
    Z1: new Float64Array(capacity * hidden),
    A1: new Float64Array(capacity * hidden),
    A2: new Float64Array(capacity * CLASSES),
    dZ1: new Float64Array(capacity * hidden),
    dW1: new Float64Array(hidden * INPUT),
    dW2: new Float64Array(CLASSES * hidden),
    db1: new Float64Array(hidden),
    db2: new Float64Array(CLASSES),
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

/**
 * Forward pass: fills ws.Z1, ws.A1 and ws.A2 (softmax probabilities) for the m samples of x.
 * Returns nothing; the caller reads the workspace.
 */
function forwardInto(p: Params, x: Float32Array, m: number, act: Activation, ws: Workspace): void {
  const h = ws.hidden;
  const { W1, b1, W2, b2 } = p;
  const { Z1, A1, A2 } = ws;

  // Z1 = W1·X + b1      (hidden×784)·(784×m) + (hidden×1) → hidden×m
  // One dot product of W1's row j with image i; both are contiguous. Zero pixels (~80% of MNIST)
  // contribute nothing, so the inner loop skips them.
  for (let i = 0; i < m; i++) {
    const xo = i * INPUT;
    for (let j = 0; j < h; j++) {
      const wo = j * INPUT;
      let s = 0;
      for (let k = 0; k < INPUT; k++) {
        const v = x[xo + k];
        if (v !== 0) s += W1[wo + k] * v;
      }
      Z1[i * h + j] = s + b1[j];
    }
  }

  // A1 = g(Z1)           hidden×m   (ReLU by default; tanh and sigmoid are the seed's alternatives)
  activate(act, Z1, A1, m * h);

  // Z2 = W2·A1 + b2      (10×hidden)·(hidden×m) + (10×1) → 10×m
  // A2 = softmax(Z2)     10×m, column-wise, max-subtracted (fix 3)
  for (let i = 0; i < m; i++) {
    const ao = i * h, zo = i * CLASSES;
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = b2[c];
      const wo = c * h;
      for (let j = 0; j < h; j++) s += W2[wo + j] * A1[ao + j];
      A2[zo + c] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) {
      const e = Math.exp(A2[zo + c] - max);
      A2[zo + c] = e;
      sum += e;
    }
    for (let c = 0; c < CLASSES; c++) A2[zo + c] /= sum;
  }
}

/**
 * Forward and backward pass on one batch: the batch-mean cross-entropy and its gradients, written into
 * `grads` (same shapes as `p`). Allocates nothing when `ws` fits the batch.
 */
export function gradientsInto(p: Params, batch: Batch, grads: Params, act: Activation, ws: Workspace): number {
  const h = ws.hidden;
  const { x, y, m } = batch;
  if (m < 1) throw new Error('gradients: empty batch');
  const { W2 } = p;
  const { Z1, A1, A2, dZ1, dW1, dW2, db1, db2 } = ws;

  forwardInto(p, x, m, act, ws);

  // loss = −(1/m) Σ_i log A2[y_i, i]   (batch-mean cross-entropy; A2 is in double precision, and the
  // clamp only keeps log(0) finite for a probability that underflowed)
  let loss = 0;
  for (let i = 0; i < m; i++) loss -= Math.log(Math.max(A2[i * CLASSES + y[i]], 1e-300));
  loss /= m;

  // dZ2 = A2 − Y         10×m    (Y one-hot; done in place in A2)
  const dZ2 = A2;
  for (let i = 0; i < m; i++) dZ2[i * CLASSES + y[i]] -= 1;

  // dW2 = dZ2·A1ᵀ / m    (10×m)·(m×hidden) → 10×hidden
  // db2 = Σ dZ2 / m      10×1, summed over samples per unit (fix 1)
  dW2.fill(0);
  db2.fill(0);
  for (let i = 0; i < m; i++) {
    const zo = i * CLASSES, ao = i * h;
    for (let c = 0; c < CLASSES; c++) {
      const d = dZ2[zo + c];
      db2[c] += d;
      const wo = c * h;
      for (let j = 0; j < h; j++) dW2[wo + j] += d * A1[ao + j];
    }
  }

  // dZ1 = W2ᵀ·dZ2 ∘ g′(Z1)   (hidden×10)·(10×m) ∘ (hidden×m) → hidden×m
  for (let i = 0; i < m; i++) {
    const zo = i * CLASSES, ao = i * h;
    for (let j = 0; j < h; j++) {
      let s = 0;
      for (let c = 0; c < CLASSES; c++) s += W2[c * h + j] * dZ2[zo + c];
      dZ1[ao + j] = s;
    }
  }
  activateBackward(act, Z1, A1, dZ1, m * h);

  // dW1 = dZ1·Xᵀ / m     (hidden×m)·(m×784) → hidden×784
  // db1 = Σ dZ1 / m      hidden×1 (fix 1)
  // Streams each image once; a zero pixel adds nothing to any row of dW1, so it is skipped.
  dW1.fill(0);
  db1.fill(0);
  for (let i = 0; i < m; i++) {
    const xo = i * INPUT, ao = i * h;
    for (let j = 0; j < h; j++) {
      const d = dZ1[ao + j];
      db1[j] += d;
      if (d === 0) continue; // a dead ReLU unit for this sample contributes nothing
      const wo = j * INPUT;
      for (let k = 0; k < INPUT; k++) {
        const v = x[xo + k];
        if (v !== 0) dW1[wo + k] += d * v;
      }
    }
  }

  // the 1/m of every gradient (fix 2: m is this batch's size), rounded to float32 once
  const inv = 1 / m;
  for (let i = 0; i < dW1.length; i++) grads.W1[i] = dW1[i] * inv;
  for (let i = 0; i < h; i++) grads.b1[i] = db1[i] * inv;
  for (let i = 0; i < dW2.length; i++) grads.W2[i] = dW2[i] * inv;
  for (let i = 0; i < CLASSES; i++) grads.b2[i] = db2[i] * inv;
  return loss;
}

export interface NetOptions {
  activation?: Activation;
}

/** The batch-mean cross-entropy loss and its gradients (the pair compared against tfjs). */
export function gradients(p: Params, batch: Batch, opts: NetOptions = {}): GradientResult {
  const h = checkParams(p);
  const grads = allocParams(h);
  const loss = gradientsInto(p, batch, grads, opts.activation ?? 'relu', createWorkspace(h, batch.m));
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
  for (const k of ['W1', 'b1', 'W2', 'b2'] as const) {
    const w = p[k], d = g[k];
    for (let i = 0; i < w.length; i++) w[i] -= lr * d[i];
  }
}

export interface ScratchTrainerOptions extends NetOptions {
  lr: number;
  hidden?: number;
}

export function checkLearningRate(lr: number, what = 'learning rate'): void {
  if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) {
    throw new UserError(`${what} must be a finite number > 0, got ${lr}`);
  }
}

/** Plain gradient descent, as in the notebook's `gradient_descent`. */
export function createScratchTrainer(opts: ScratchTrainerOptions): Trainer {
  checkLearningRate(opts.lr);
  const act = opts.activation ?? 'relu';
  let params: Params | null = null;
  let grads: Params | null = null;
  let ws: Workspace | undefined;
  const need = (): Params => {
    if (!params) throw new Error('scratch-gd: load(params) first');
    return params;
  };
  return {
    name: 'scratch-gd',
    load(p: Params) {
      const h = checkParams(p);
      if (!params || params.b1.length !== h) {
        params = allocParams(h);
        grads = allocParams(h);
      }
      copyParams(p, params);
    },
    step(batch: Batch): number {
      const p = need();
      ws = ensureWorkspace(ws, p.b1.length, batch.m);
      const loss = gradientsInto(p, batch, grads!, act, ws);
      sgdUpdate(p, grads!, opts.lr);
      return loss;
    },
    read: () => cloneParams(need()),
    predict(x: Float32Array, m: number): Uint8Array {
      const p = need();
      ws = ensureWorkspace(ws, p.b1.length, m);
      return predict(p, x, m, { activation: act }, ws);
    },
    dispose() {
      params = grads = null;
      ws = undefined;
    },
  };
}

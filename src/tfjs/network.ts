/**
 * The 784→hidden→10 network in TensorFlow.js: gradients by tfjs autodiff and trainers driven by tfjs's own
 * optimisers (tf.train.sgd / tf.train.adam).
 *
 * Forward pass (tfjs layout, see convert.ts): z1 = x·K1 + b1, a1 = act(z1), z2 = a1·K2 + b2.
 * Loss: tf.losses.softmaxCrossEntropy(oneHot(y), z2) with Reduction.MEAN, i.e. the mean over the m samples
 * of −log softmax(z2)[y] (computed by tfjs as logits − logSumExp, with its custom softmax−onehot gradient).
 *
 * Memory: on the cpu backend tf.tensor(array) may keep `array` as its backing store and dataSync() may
 * return it, so arrays are always copied on the way in and out.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors.ts';
import {
  ACTIVATIONS,
  CLASSES,
  DEFAULT_HIDDEN,
  INPUT,
  allocParams,
  checkParams,
  type Activation,
  type Batch,
  type GradientResult,
  type Params,
  type Trainer,
} from '../core/types.ts';
import { fromKernels, toKernels, type Kernels } from './convert.ts';

function checkActivation(a: unknown): Activation {
  if (!(ACTIVATIONS as readonly unknown[]).includes(a)) {
    throw new UserError(`unknown activation '${String(a)}' (expected ${ACTIVATIONS.join(', ')})`);
  }
  return a as Activation;
}

function checkBatch(batch: Batch): void {
  const { m } = batch;
  if (!Number.isInteger(m) || m < 1) throw new Error(`batch: m must be a positive integer, got ${m}`);
  if (batch.x.length !== m * INPUT) throw new Error(`batch: x has ${batch.x.length} values, expected ${m}×${INPUT}`);
  if (batch.y.length !== m) throw new Error(`batch: y has ${batch.y.length} labels, expected ${m}`);
}

function act(z: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(z);
    case 'tanh':
      return tf.tanh(z);
    case 'sigmoid':
      return tf.sigmoid(z);
  }
}

/** Logits z2 (m×10). Call inside tf.tidy. */
function logits(x: tf.Tensor2D, k1: tf.Tensor2D, b1: tf.Tensor1D, k2: tf.Tensor2D, b2: tf.Tensor1D, a: Activation): tf.Tensor2D {
  const a1 = act(tf.add(tf.matMul(x, k1), b1), a);
  return tf.add(tf.matMul(a1, k2), b2);
}

/** Batch-mean softmax cross-entropy. Call inside tf.tidy. */
function meanLoss(z2: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(oneHot, z2, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
}

/** Input tensors for a batch (copies of its arrays). Call inside tf.tidy. */
function batchTensors(batch: Batch): { x: tf.Tensor2D; oneHot: tf.Tensor2D } {
  const x = tf.tensor2d(batch.x.slice(), [batch.m, INPUT], 'float32');
  const y = tf.tensor1d(Int32Array.from(batch.y), 'int32');
  return { x, oneHot: tf.oneHot(y, CLASSES) as tf.Tensor2D };
}

/** The active backend's name; a clear error if initBackend() has not run (tfjs's own is about tf.ready()). */
function activeBackend(): string {
  const b = tf.getBackend() as string | undefined;
  if (!b) throw new Error('no tfjs backend is active: await initBackend() from src/tfjs/backend.ts first');
  return b;
}

function readF32(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/**
 * Loss and gradients of the batch-mean cross-entropy at `params`, by tfjs autodiff (tf.valueAndGrads) on the
 * active backend. Gradients come back in the shared Params layout.
 */
export async function gradients(params: Params, batch: Batch, opts: { activation?: Activation } = {}): Promise<GradientResult> {
  const a = checkActivation(opts.activation ?? 'relu');
  const h = checkParams(params);
  checkBatch(batch);
  activeBackend();
  const k = toKernels(params); // fresh arrays: safe to hand to tfjs
  const { value, grads } = tf.tidy(() => {
    const { x, oneHot } = batchTensors(batch);
    const f = (k1: tf.Tensor, b1: tf.Tensor, k2: tf.Tensor, b2: tf.Tensor) =>
      meanLoss(logits(x, k1 as tf.Tensor2D, b1 as tf.Tensor1D, k2 as tf.Tensor2D, b2 as tf.Tensor1D, a), oneHot);
    return tf.valueAndGrads(f)([
      tf.tensor2d(k.k1, [INPUT, h]),
      tf.tensor1d(k.b1),
      tf.tensor2d(k.k2, [h, CLASSES]),
      tf.tensor1d(k.b2),
    ]);
  });
  try {
    const loss = (await value.data())[0];
    const [g1, gb1, g2, gb2] = await Promise.all(grads.map((g) => g.data()));
    // fromKernels copies, so nothing returned aliases tfjs memory.
    const out = fromKernels({ k1: g1 as Float32Array, b1: gb1 as Float32Array, k2: g2 as Float32Array, b2: gb2 as Float32Array });
    return { loss, grads: out };
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}

const PREDICT_BLOCK = 8192;

export type TfjsOptimizer = 'sgd' | 'adam';

export interface TfjsTrainerOptions {
  optimizer: TfjsOptimizer;
  lr: number;
  /** Adam only; default 0.9 */
  beta1?: number;
  /** Adam only; default 0.999 */
  beta2?: number;
  /** Adam only; default: the active backend's epsilon (1e-7 on float32 backends), tfjs's own default */
  epsilon?: number;
  activation?: Activation;
  /** hidden width of the initial (zero) weights; if given, load() must match it */
  hidden?: number;
}

export interface TfjsTrainer extends Trainer {
  readonly name: 'tfjs-sgd' | 'tfjs-adam';
  readonly optimizer: TfjsOptimizer;
  readonly lr: number;
  /** Adam's β1, β2 and ε as actually passed to tf.train.adam; null for SGD */
  readonly beta1: number | null;
  readonly beta2: number | null;
  readonly epsilon: number | null;
  readonly activation: Activation;
  /** the tfjs backend the trainer's tensors live on (the one active when it was created) */
  readonly backend: string;
  load(params: Params): void;
  step(batch: Batch): number;
  read(): Params;
  predict(x: Float32Array, m: number): Uint8Array;
}

function checkUnit(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) {
    throw new UserError(`${name} must be a number in [0, 1), got ${v}`);
  }
  return v;
}

/** A trainer whose weights are tfjs variables (K1 784×h, b1, K2 h×10, b2), updated by a tfjs optimiser. */
export function createTfjsTrainer(opts: TfjsTrainerOptions): TfjsTrainer {
  const kind = opts.optimizer;
  if (kind !== 'sgd' && kind !== 'adam') throw new UserError(`unknown optimizer '${String(kind)}' (expected sgd, adam)`);
  const lr = opts.lr;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) {
    throw new UserError(`learning rate must be a finite number > 0, got ${lr}`);
  }
  const activation = checkActivation(opts.activation ?? 'relu');
  const fixedHidden = opts.hidden;
  if (fixedHidden !== undefined && (!Number.isInteger(fixedHidden) || fixedHidden < 1)) {
    throw new UserError(`hidden must be a positive integer, got ${fixedHidden}`);
  }
  const backend = activeBackend();
  let beta1: number | null = null, beta2: number | null = null, epsilon: number | null = null;
  if (kind === 'adam') {
    beta1 = checkUnit('beta1', opts.beta1 ?? 0.9);
    beta2 = checkUnit('beta2', opts.beta2 ?? 0.999);
    epsilon = opts.epsilon ?? tf.backend().epsilon();
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
      throw new UserError(`epsilon must be a finite number > 0, got ${epsilon}`);
    }
  }
  const newOptimizer = (): tf.Optimizer =>
    kind === 'sgd' ? tf.train.sgd(lr) : tf.train.adam(lr, beta1!, beta2!, epsilon!);

  let vars: [tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>] | null = null;
  let hidden = 0;
  let optimizer: tf.Optimizer | null = null;
  let disposed = false;

  function live() {
    if (disposed || vars === null || optimizer === null) throw new Error(`${name}: used after dispose()`);
    if (tf.getBackend() !== backend) {
      throw new Error(`${name}: created on the '${backend}' backend but '${tf.getBackend()}' is active`);
    }
    return { vars, optimizer };
  }

  function setWeights(k: Kernels, h: number): void {
    tf.tidy(() => {
      const t = [tf.tensor2d(k.k1, [INPUT, h]), tf.tensor1d(k.b1), tf.tensor2d(k.k2, [h, CLASSES]), tf.tensor1d(k.b2)];
      if (vars === null || h !== hidden) {
        if (vars !== null) tf.dispose(vars);
        // tf.variable copies nothing but takes its own reference; keep() takes it out of this tidy.
        vars = [
          tf.keep(tf.variable(t[0] as tf.Tensor2D, true)),
          tf.keep(tf.variable(t[1] as tf.Tensor1D, true)),
          tf.keep(tf.variable(t[2] as tf.Tensor2D, true)),
          tf.keep(tf.variable(t[3] as tf.Tensor1D, true)),
        ];
        hidden = h;
      } else {
        for (let i = 0; i < 4; i++) (vars[i] as tf.Variable).assign(t[i]);
      }
    });
    optimizer?.dispose();
    optimizer = newOptimizer();
  }

  const name = kind === 'sgd' ? 'tfjs-sgd' : 'tfjs-adam';
  setWeights(toKernels(allocParams(fixedHidden ?? DEFAULT_HIDDEN)), fixedHidden ?? DEFAULT_HIDDEN);

  return {
    name,
    optimizer: kind,
    lr,
    beta1,
    beta2,
    epsilon,
    activation,
    backend,
    load(params: Params): void {
      const h = checkParams(params);
      if (fixedHidden !== undefined && h !== fixedHidden) {
        throw new Error(`${name}: params have hidden width ${h}, trainer was created with hidden ${fixedHidden}`);
      }
      live();
      setWeights(toKernels(params), h); // toKernels returns fresh arrays, so tfjs may keep them
    },
    step(batch: Batch): number {
      const { vars: [k1, b1, k2, b2], optimizer: opt } = live();
      checkBatch(batch);
      const cost = tf.tidy(() => {
        const { x, oneHot } = batchTensors(batch);
        const c = opt.minimize(() => meanLoss(logits(x, k1, b1, k2, b2, activation), oneHot), true, [k1, b1, k2, b2]);
        if (c === null) throw new Error(`${name}: optimizer returned no cost`);
        return c;
      });
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    },
    read(): Params {
      const { vars: [k1, b1, k2, b2] } = live();
      return fromKernels({ k1: readF32(k1), b1: readF32(b1), k2: readF32(k2), b2: readF32(b2) });
    },
    predict(x: Float32Array, m: number): Uint8Array {
      const { vars: [k1, b1, k2, b2] } = live();
      if (!Number.isInteger(m) || m < 0 || x.length !== m * INPUT) {
        throw new Error(`predict: x has ${x.length} values, expected ${m}×${INPUT}`);
      }
      const out = new Uint8Array(m);
      // in blocks, so predicting the whole training set never needs a 60000×784 tensor at once
      for (let from = 0; from < m; from += PREDICT_BLOCK) {
        const n = Math.min(PREDICT_BLOCK, m - from);
        const cls = tf.tidy(() => {
          const xb = tf.tensor2d(x.slice(from * INPUT, (from + n) * INPUT), [n, INPUT]);
          return tf.argMax(logits(xb, k1, b1, k2, b2, activation), 1);
        });
        out.set(cls.dataSync(), from);
        cls.dispose();
      }
      return out;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      if (vars !== null) tf.dispose(vars);
      optimizer?.dispose();
      vars = null;
      optimizer = null;
    },
  };
}

/**
 * The same network in TensorFlow.js: gradients by tfjs autodiff and trainers driven by tfjs's own
 * optimisers (tf.train.sgd / tf.train.adam), for any list of dense layers.
 *
 * Forward pass (tfjs layout, see convert.ts): z_l = a_{l−1}·K_l + b_l; a_l = act(z_l) ∘ mask_l for hidden
 * layers (the mask is the given inverted-dropout mask; tf.dropout and its RNG are not used); the last z is
 * the logits. Loss: tf.losses.softmaxCrossEntropy(oneHot(y), z_L) with Reduction.MEAN, i.e. the mean over
 * the m samples of −log softmax(z_L)[y] (computed by tfjs as logits − logSumExp, with its custom
 * softmax−onehot gradient).
 *
 * Memory: on the cpu backend tf.tensor(array) may keep `array` as its backing store and dataSync() may
 * return it, so arrays are always copied on the way in and out.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors.ts';
import { checkAdamOptions, checkBatch, checkLearningRate } from '../core/checks.ts';
import {
  ACTIVATIONS,
  CLASSES,
  DEFAULT_HIDDEN,
  INPUT,
  allocParams,
  checkMasks,
  hiddenOf,
  netSizes,
  sameSizes,
  sizesOf,
  type Activation,
  type Batch,
  type GradientOptions,
  type GradientResult,
  type Params,
  type Trainer,
} from '../core/types.ts';
import { fromKernels, toKernels, type DenseKernel } from './convert.ts';

function checkActivation(a: unknown): Activation {
  if (!(ACTIVATIONS as readonly unknown[]).includes(a)) {
    throw new UserError(`unknown activation '${String(a)}' (expected ${ACTIVATIONS.join(', ')})`);
  }
  return a as Activation;
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

/** Logits z_L (m×10) from kernels and biases [K1, b1, K2, b2, …]. Call inside tf.tidy. */
function logits(x: tf.Tensor2D, vars: tf.Tensor[], a: Activation, masks?: tf.Tensor2D[]): tf.Tensor2D {
  const L = vars.length / 2;
  let h = x;
  for (let l = 0; l < L; l++) {
    const z = tf.add(tf.matMul(h, vars[2 * l] as tf.Tensor2D), vars[2 * l + 1]) as tf.Tensor2D;
    if (l === L - 1) return z;
    h = act(z, a);
    if (masks) h = tf.mul(h, masks[l]);
  }
  throw new Error('logits: no layers');
}

/** Batch-mean softmax cross-entropy. Call inside tf.tidy. */
function meanLoss(z: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(oneHot, z, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
}

/** Input tensors for a batch and its masks (copies of their arrays). Call inside tf.tidy. */
function batchTensors(batch: Batch, hidden: readonly number[], masks?: Float32Array[]): { x: tf.Tensor2D; oneHot: tf.Tensor2D; masks?: tf.Tensor2D[] } {
  const x = tf.tensor2d(batch.x.slice(), [batch.m, INPUT], 'float32');
  const y = tf.tensor1d(Int32Array.from(batch.y), 'int32');
  const mt = masks?.map((mk, l) => tf.tensor2d(mk.slice(), [batch.m, hidden[l]], 'float32'));
  return { x, oneHot: tf.oneHot(y, CLASSES) as tf.Tensor2D, masks: mt };
}

/** Kernel and bias tensors [K1, b1, K2, b2, …] of a layer list. Call inside tf.tidy (or dispose them). */
function weightTensors(ks: DenseKernel[], sizes: readonly number[]): tf.Tensor[] {
  return ks.flatMap((k, l) => [tf.tensor2d(k.k, [sizes[l], sizes[l + 1]]), tf.tensor1d(k.b)]);
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

/** [K1, b1, K2, b2, …] as arrays → Params (fresh arrays: nothing returned aliases tfjs memory). */
function paramsOf(arrays: Float32Array[], sizes: readonly number[]): Params {
  const ks: DenseKernel[] = [];
  for (let l = 0; l < arrays.length / 2; l++) ks.push({ k: arrays[2 * l], b: arrays[2 * l + 1] });
  return fromKernels(ks, sizes);
}

/**
 * Loss and gradients of the batch-mean cross-entropy at `params`, by tfjs autodiff (tf.valueAndGrads) on the
 * active backend, with dropout masks if given. Gradients come back in the shared Params layout.
 */
export async function gradients(params: Params, batch: Batch, opts: GradientOptions = {}): Promise<GradientResult> {
  const a = checkActivation(opts.activation ?? 'relu');
  const sizes = sizesOf(params);
  checkBatch(batch);
  checkMasks(opts.masks, hiddenOf(sizes), batch.m);
  activeBackend();
  const ks = toKernels(params); // fresh arrays: safe to hand to tfjs
  const { value, grads } = tf.tidy(() => {
    const { x, oneHot, masks } = batchTensors(batch, hiddenOf(sizes), opts.masks);
    const f = (...vars: tf.Tensor[]) => meanLoss(logits(x, vars, a, masks), oneHot);
    return tf.valueAndGrads(f)(weightTensors(ks, sizes));
  });
  try {
    const loss = (await value.data())[0];
    const arrays = await Promise.all(grads.map((g) => g.data()));
    return { loss, grads: paramsOf(arrays as Float32Array[], sizes) };
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
  /** Adam only; default ADAM_BETA1 (0.9) */
  beta1?: number;
  /** Adam only; default ADAM_BETA2 (0.999) */
  beta2?: number;
  /** Adam only; default: the active backend's epsilon (1e-7 on float32 backends), tfjs's own default */
  epsilon?: number;
  activation?: Activation;
  /** layer sizes [784, …, 10] of the initial (zero) weights; if given, load() must match them */
  sizes?: readonly number[];
}

export interface TfjsTrainer extends Trainer {
  readonly name: 'tfjs-sgd' | 'tfjs-adam';
  readonly optimizer: TfjsOptimizer;
  /** the learning rate of the next step */
  readonly lr: number;
  /** Adam's β1, β2 and ε as actually passed to tf.train.adam; null for SGD */
  readonly beta1: number | null;
  readonly beta2: number | null;
  readonly epsilon: number | null;
  readonly activation: Activation;
  /** the tfjs backend the trainer's tensors live on (the one active when it was created) */
  readonly backend: string;
  load(params: Params): void;
  step(batch: Batch, masks?: Float32Array[]): number;
  read(): Params;
  predict(x: Float32Array, m: number): Uint8Array;
}

/** A trainer whose weights are tfjs variables (K1 784×h1, b1, …, K_L h×10, b_L), updated by a tfjs optimiser. */
export function createTfjsTrainer(opts: TfjsTrainerOptions): TfjsTrainer {
  const kind = opts.optimizer;
  if (kind !== 'sgd' && kind !== 'adam') throw new UserError(`unknown optimizer '${String(kind)}' (expected sgd, adam)`);
  let lr = kind === 'sgd' ? checkLearningRate(opts.lr) : checkAdamOptions(opts).lr;
  const activation = checkActivation(opts.activation ?? 'relu');
  const fixedSizes = opts.sizes ? [...opts.sizes] : undefined;
  const backend = activeBackend();
  let beta1: number | null = null, beta2: number | null = null, epsilon: number | null = null;
  if (kind === 'adam') {
    ({ beta1, beta2, epsilon } = checkAdamOptions({ ...opts, epsilon: opts.epsilon ?? tf.backend().epsilon() }));
  }
  const newOptimizer = (): tf.Optimizer =>
    kind === 'sgd' ? tf.train.sgd(lr) : tf.train.adam(lr, beta1!, beta2!, epsilon!);

  let vars: tf.Variable[] | null = null;
  let sizes: number[] = [];
  let optimizer: tf.Optimizer | null = null;
  let disposed = false;

  function live() {
    if (disposed || vars === null || optimizer === null) throw new Error(`${name}: used after dispose()`);
    if (tf.getBackend() !== backend) {
      throw new Error(`${name}: created on the '${backend}' backend but '${tf.getBackend()}' is active`);
    }
    return { vars, optimizer };
  }

  function setWeights(p: Params): void {
    const s = sizesOf(p);
    const ks = toKernels(p); // fresh arrays, so tfjs may keep them
    tf.tidy(() => {
      const t = weightTensors(ks, s);
      if (vars === null || !sameSizes(s, sizes)) {
        if (vars !== null) tf.dispose(vars);
        // tf.variable copies nothing but takes its own reference; keep() takes it out of this tidy.
        vars = t.map((x) => tf.keep(tf.variable(x, true)));
        sizes = s;
      } else {
        vars.forEach((v, i) => v.assign(t[i]));
      }
    });
    optimizer?.dispose();
    optimizer = newOptimizer();
  }

  const name = kind === 'sgd' ? 'tfjs-sgd' : 'tfjs-adam';
  setWeights(allocParams(fixedSizes ?? netSizes(DEFAULT_HIDDEN)));

  return {
    name,
    optimizer: kind,
    get lr() {
      return lr;
    },
    beta1,
    beta2,
    epsilon,
    activation,
    backend,
    load(params: Params): void {
      const s = sizesOf(params);
      if (fixedSizes !== undefined && !sameSizes(s, fixedSizes)) {
        throw new Error(`${name}: params have layer sizes [${s.join(', ')}], trainer was created for [${fixedSizes.join(', ')}]`);
      }
      live();
      setWeights(params);
    },
    step(batch: Batch, masks?: Float32Array[]): number {
      const { vars: vs, optimizer: opt } = live();
      checkBatch(batch);
      checkMasks(masks, hiddenOf(sizes), batch.m);
      const cost = tf.tidy(() => {
        const t = batchTensors(batch, hiddenOf(sizes), masks);
        const c = opt.minimize(() => meanLoss(logits(t.x, vs, activation, t.masks), t.oneHot), true, vs);
        if (c === null) throw new Error(`${name}: optimizer returned no cost`);
        return c;
      });
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    },
    setLearningRate(x: number): void {
      lr = checkLearningRate(x);
      const { optimizer: opt } = live();
      // SGD keeps −α as a tensor, set by setLearningRate; Adam reads its `learningRate` field each step.
      if (kind === 'sgd') (opt as tf.SGDOptimizer).setLearningRate(lr);
      else (opt as unknown as { learningRate: number }).learningRate = lr;
    },
    read(): Params {
      const { vars: vs } = live();
      return paramsOf(vs.map(readF32), sizes);
    },
    predict(x: Float32Array, m: number): Uint8Array {
      const { vars: vs } = live();
      if (!Number.isInteger(m) || m < 0 || x.length !== m * INPUT) {
        throw new Error(`predict: x has ${x.length} values, expected ${m}×${INPUT}`);
      }
      const out = new Uint8Array(m);
      // in blocks, so predicting the whole training set never needs a 60000×784 tensor at once
      for (let from = 0; from < m; from += PREDICT_BLOCK) {
        const n = Math.min(PREDICT_BLOCK, m - from);
        const cls = tf.tidy(() => {
          const xb = tf.tensor2d(x.slice(from * INPUT, (from + n) * INPUT), [n, INPUT]);
          return tf.argMax(logits(xb, vs, activation), 1);
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

/**
 * The option and batch rules, one each, used by every implementation (scratch, scratch-simd, tfjs) and by
 * the command lines. An option that breaks its rule is a UserError (one line, naming the option and the
 * value); a malformed batch is a bug of the caller, an Error.
 *
 * `what` names the option in the message (`--lr` on the command line, `learning rate` in the API), and
 * `shown` is the value as the user typed it, when it was text.
 */
import { UserError } from './errors.ts';
import { CLASSES, INPUT, type Batch } from './types.ts';

/** The most worker threads a trainer or the bench may start. */
export const MAX_THREADS = 64;

/** Adam's defaults: β1, β2 (Kingma & Ba) and ε (TF.js's `backend.epsilon()` on float32 backends). */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
/** tfjs's `backend.epsilon()` on float32 backends: the default ε of tf.train.adam (Keras's default), not the paper's 1e-8. */
export const TFJS_EPSILON = 1e-7;

const bad = (what: string, rule: string, v: unknown, shown?: string): never => {
  throw new UserError(`${what} must be ${rule}, got ${shown ?? String(v)}`);
};

/** A learning rate: a finite number > 0. */
export function checkLearningRate(lr: number, what = 'learning rate', shown?: string): number {
  if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) bad(what, 'a finite number > 0', lr, shown);
  return lr;
}

/** Adam's β1 or β2: a number in [0, 1). */
export function checkBeta(beta: number, what: string, shown?: string): number {
  if (!(typeof beta === 'number' && Number.isFinite(beta) && beta >= 0 && beta < 1)) bad(what, 'a number in [0, 1)', beta, shown);
  return beta;
}

/** Adam's ε: a finite number > 0. */
export function checkEpsilon(epsilon: number, what = 'epsilon', shown?: string): number {
  if (!(typeof epsilon === 'number' && Number.isFinite(epsilon) && epsilon > 0)) bad(what, 'a finite number > 0', epsilon, shown);
  return epsilon;
}

/** Worker threads: an integer in 0..MAX_THREADS (0: everything on the calling thread). */
export function checkThreads(threads: number, what = 'threads', shown?: string): number {
  if (!(Number.isInteger(threads) && threads >= 0 && threads <= MAX_THREADS)) bad(what, `an integer in 0..${MAX_THREADS}`, threads, shown);
  return threads;
}

export interface AdamOptions {
  lr: number;
  /** default ADAM_BETA1 */
  beta1?: number;
  /** default ADAM_BETA2 */
  beta2?: number;
  /** default TFJS_EPSILON */
  epsilon?: number;
}

/** Adam's options, checked, with the defaults filled in. */
export function checkAdamOptions(o: AdamOptions): Required<AdamOptions> {
  return {
    lr: checkLearningRate(o.lr, 'Adam learning rate'),
    beta1: checkBeta(o.beta1 ?? ADAM_BETA1, 'beta1'),
    beta2: checkBeta(o.beta2 ?? ADAM_BETA2, 'beta2'),
    epsilon: checkEpsilon(o.epsilon ?? TFJS_EPSILON),
  };
}

/**
 * A batch: m a positive integer, x exactly m×784 values, y exactly m labels, each label in 0..9 (a larger
 * one would index past the 10 outputs: a padding lane in scratch-simd, garbage elsewhere).
 */
export function checkBatch(b: Batch, what = 'batch'): void {
  const { m, x, y } = b;
  if (!Number.isInteger(m) || m < 1) throw new Error(`${what}: m = ${m}, expected a positive integer`);
  if (x.length !== m * INPUT) throw new Error(`${what}.x has ${x.length} values, expected ${m}×${INPUT}`);
  if (y.length !== m) throw new Error(`${what}.y has ${y.length} labels, expected ${m}`);
  for (let i = 0; i < m; i++) if (!(y[i] < CLASSES)) throw new Error(`${what}.y[${i}] = ${y[i]}, labels are 0..${CLASSES - 1}`);
}

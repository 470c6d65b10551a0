/**
 * Adam by hand on Float32Array, written to reproduce TensorFlow.js 4.22's `AdamOptimizer.applyGradients`
 * operation for operation, each rounded to float32 as tfjs's tensors are:
 *
 *   m      = m·β1 + g·(1−β1)                 accβ1 starts at β1 and is multiplied by β1 after each step
 *   v      = v·β2 + g²·(1−β2)                accβ2 likewise
 *   m̂      = m / (1 − accβ1)
 *   v̂      = v / (1 − accβ2)
 *   θ      = (m̂ / (√v̂ + ε))·(−α) + θ
 *
 * This is Kingma & Ba's published rule (Algorithm 1) with ε added to √v̂, which is where tfjs puts it. ε
 * defaults to tfjs's float32 backend epsilon, 1e-7 (Keras's default), not the paper's 1e-8.
 * `Math.fround` after every operation makes each intermediate a float32, as in tfjs's cpu backend; since
 * double has more than twice float32's precision, computing in double and rounding once gives the
 * correctly rounded float32 result of each +, −, ×, ÷ and √.
 */
import { allocParams, tensors, type Activation, type Params } from '../core/types.ts';
import { checkAdamOptions, checkThreads, TFJS_EPSILON, type AdamOptions } from '../core/checks.ts';
import { gradientsInto } from './network.ts';
import { scratchTrainer, type ScratchTrainer } from './trainer.ts';
import { createThreadPool, type ThreadPool } from './threads.ts';

export interface AdamState {
  m: Params;
  v: Params;
  accBeta1: number; // β1^t, as a float32
  accBeta2: number;
}

const f = Math.fround;

export function createAdamState(sizes: readonly number[], beta1: number, beta2: number): AdamState {
  return { m: allocParams(sizes), v: allocParams(sizes), accBeta1: f(beta1), accBeta2: f(beta2) };
}

/** One Adam update of `p` with gradients `g`, in place. */
export function adamUpdate(p: Params, g: Params, s: AdamState, lr: number, beta1: number, beta2: number, epsilon: number): void {
  const b1 = f(beta1), b2 = f(beta2), c1 = f(1 - beta1), c2 = f(1 - beta2), eps = f(epsilon), negLr = f(-lr);
  const oneMinusAcc1 = f(1 - s.accBeta1);
  const oneMinusAcc2 = f(1 - s.accBeta2);
  const ws = tensors(p), ds = tensors(g), ms = tensors(s.m), vs = tensors(s.v);
  for (let k = 0; k < ws.length; k++) {
    const w = ws[k], d = ds[k], m = ms[k], v = vs[k];
    for (let i = 0; i < w.length; i++) {
      const gi = d[i];
      const mi = f(f(m[i] * b1) + f(gi * c1)); // m = m·β1 + g·(1−β1)
      const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2)); // v = v·β2 + g²·(1−β2)
      m[i] = mi;
      v[i] = vi;
      const mHat = f(mi / oneMinusAcc1); // m̂ = m / (1 − β1^t)
      const vHat = f(vi / oneMinusAcc2); // v̂ = v / (1 − β2^t)
      w[i] = f(f(f(mHat / f(f(Math.sqrt(vHat)) + eps)) * negLr) + w[i]); // θ = (m̂/(√v̂+ε))·(−α) + θ
    }
  }
  s.accBeta1 = f(s.accBeta1 * b1);
  s.accBeta2 = f(s.accBeta2 * b2);
}

export interface ScratchAdamOptions extends AdamOptions {
  activation?: Activation;
  /** worker threads for the gradients (the update runs on the calling thread); 0: none */
  threads?: number;
}

/** The scratch network's gradients with the Adam update above. */
export function createScratchAdamTrainer(opts: ScratchAdamOptions): ScratchTrainer {
  const { lr, beta1, beta2, epsilon } = checkAdamOptions(opts);
  const threads = checkThreads(opts.threads ?? 0);
  const act = opts.activation ?? 'relu';
  let grads: Params | null = null;
  let state: AdamState | null = null;
  let pool: ThreadPool | null = null;
  return scratchTrainer('scratch-adam', act, lr, {
    alloc(sizes) {
      if (threads === 0) {
        grads = allocParams(sizes);
        return allocParams(sizes);
      }
      pool?.dispose();
      pool = createThreadPool(threads, sizes);
      grads = pool.grads;
      return pool.params;
    },
    reset(sizes) {
      state = createAdamState(sizes, beta1, beta2);
    },
    step(p, batch, masks, ws, rate) {
      const loss = pool ? pool.run(batch, act, masks, null) : gradientsInto(p, batch, grads!, act, masks, ws);
      adamUpdate(p, grads!, state!, rate, beta1, beta2, epsilon);
      return loss;
    },
    dispose() {
      pool?.dispose();
      pool = null;
      grads = state = null;
    },
    onWorkers: () => threads > 0,
  });
}

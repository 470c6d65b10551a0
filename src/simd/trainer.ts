/**
 * The scratch-simd trainers: plain gradient descent ('scratch-simd-gd') and Adam ('scratch-simd-adam').
 * The parameters and Adam's moments live in the wasm memory between steps; load() copies them in and
 * read() out. Both updates run in wasm (assembly/net.ts `sgd`, `adam`) on the calling thread, from the
 * batch's float64 sums, computed on this thread (threads: 0) or on worker threads (threads.ts), with
 * bit-identical results.
 */
import { allocParams, hiddenOf, sameSizes, sizesOf, checkMasks, type Activation, type Batch, type Params, type Trainer } from '../core/types.ts';
import { checkAdamOptions, checkBatch, checkLearningRate, checkThreads, type AdamOptions } from '../core/checks.ts';
import { applyUpdate, batchLoss, batchSums, createEngine, predictLocal, takeCount, type Engine, type Update, type Validate } from './engine.ts';
import { readParams, writeParams } from './layout.ts';
import { checkX, work, type SimdWork } from './network.ts';
import { createSimdPool, type SimdPool } from './threads.ts';

export interface SimdTrainer extends Trainer {
  /** The work executed by the last step or predict (see SimdWork). */
  lastWork(): SimdWork;
}

export interface SimdTrainerOptions {
  lr: number;
  activation?: Activation;
  /** worker threads that compute the gradient sums (0: the calling thread), results bit-identical */
  threads?: number;
  /** for tests: stands in for WebAssembly.validate when checking for SIMD support */
  validate?: Validate;
}

export interface SimdAdamOptions extends AdamOptions {
  activation?: Activation;
  threads?: number;
  validate?: Validate;
}

/** Where the work runs: the calling thread's engine, or a pool of workers over a shared memory. */
interface Runner {
  engine: Engine;
  /** the batch's sums at layout.total, then the update applied to the parameters */
  step(batch: Batch, act: Activation, masks: Float32Array[] | undefined, update: Update): void;
  predict(x: Float32Array, m: number, act: Activation): Uint8Array;
  dispose(): void;
}

function runner(sizes: number[], threads: number, adam: boolean, validate: Validate | undefined): Runner {
  if (threads > 0) {
    const pool: SimdPool = createSimdPool(threads, sizes, adam, validate);
    return pool;
  }
  const engine = createEngine(sizes, { workspaces: 1, shared: false, adam, validate });
  return {
    engine,
    step(batch, act, masks, update) {
      batchSums(engine, batch, act, masks);
      applyUpdate(engine, update, batch.m);
    },
    predict: (x, m, act) => predictLocal(engine, x, m, act),
    dispose() {},
  };
}

/** the update of the next step at learning rate lr */
type Updater = (lr: number) => Update;

function simdTrainer(name: string, lr0: number, act: Activation, threads: number, adam: boolean, validate: Validate | undefined, update: Updater, reset: () => void): SimdTrainer {
  let r: Runner | null = null;
  let sizes: number[] = [];
  let lr = lr0;
  let last = work(0);
  const need = (): Runner => {
    if (!r) throw new Error(`${name}: load(params) first`);
    return r;
  };
  return {
    name,
    load(p: Params) {
      const s = sizesOf(p);
      if (!r || !sameSizes(s, sizes)) {
        r?.dispose();
        r = null;
        r = runner(s, threads, adam, validate);
        sizes = s;
      }
      const e = r.engine;
      writeParams(e.layout, e.f32, p);
      for (const g of e.layout.layers) {
        if (!adam) break;
        e.f32.fill(0, g.mW >> 2, (g.mW >> 2) + g.in * g.outP);
        e.f32.fill(0, g.vW >> 2, (g.vW >> 2) + g.in * g.outP);
        e.f32.fill(0, g.mb >> 2, (g.mb >> 2) + g.outP);
        e.f32.fill(0, g.vb >> 2, (g.vb >> 2) + g.outP);
      }
      e.k.paramsChanged(e.layout.net);
      reset();
    },
    step(batch: Batch, masks?: Float32Array[]): number {
      const run = need();
      checkBatch(batch);
      const mk = checkMasks(masks, hiddenOf(sizes), batch.m);
      run.step(batch, act, mk, update(lr));
      const e = run.engine;
      const loss = batchLoss(e, batch.m);
      last = work(takeCount(e));
      return loss;
    },
    setLearningRate(x: number) {
      checkLearningRate(x);
      lr = x;
    },
    read(): Params {
      const e = need().engine;
      return readParams(e.layout, e.f32, allocParams(sizes));
    },
    predict(x: Float32Array, m: number): Uint8Array {
      const run = need();
      checkX(x, m);
      const out = run.predict(x, m, act);
      last = work(takeCount(run.engine));
      return out;
    },
    lastWork: () => last,
    dispose() {
      r?.dispose();
      r = null;
    },
  };
}

/** Plain gradient descent, W := W − α·dW in float32 (the same operations as scratch-gd). */
export function createSimdTrainer(opts: SimdTrainerOptions): SimdTrainer {
  checkLearningRate(opts.lr);
  const threads = checkThreads(opts.threads ?? 0);
  const sgd: Updater = (lr) => ({ kind: 'sgd', lr });
  return simdTrainer('scratch-simd-gd', opts.lr, opts.activation ?? 'relu', threads, false, opts.validate, sgd, () => {});
}

/** Adam with tfjs's operation sequence in float32 (as scratch-adam's adamUpdate). */
export function createSimdAdamTrainer(opts: SimdAdamOptions): SimdTrainer {
  const { lr, beta1, beta2, epsilon } = checkAdamOptions(opts);
  const threads = checkThreads(opts.threads ?? 0);
  const f = Math.fround;
  const b1 = f(beta1), b2 = f(beta2), c1 = f(1 - beta1), c2 = f(1 - beta2), eps = f(epsilon);
  let acc1 = b1, acc2 = b2; // β1^t, β2^t as float32, as tfjs's accBeta1/accBeta2
  const step: Updater = (rate) => {
    const u: Update = { kind: 'adam', negLr: f(-rate), b1, b2, c1, c2, eps, oma1: f(1 - acc1), oma2: f(1 - acc2) };
    acc1 = f(acc1 * b1);
    acc2 = f(acc2 * b2);
    return u;
  };
  const reset = () => {
    acc1 = b1;
    acc2 = b2;
  };
  return simdTrainer('scratch-simd-adam', lr, opts.activation ?? 'relu', threads, true, opts.validate, step, reset);
}

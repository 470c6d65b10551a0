/**
 * The trainer shell around the hand-written network: loading, reading, predicting, learning rate and
 * workspaces, shared by every scratch trainer; the trainers differ only in their optimizer (plain gradient
 * descent here, Adam in adam.ts) and in where the work runs (this thread, or worker threads: threads.ts).
 */
import { checkBatch, checkLearningRate, checkThreads } from '../core/checks.ts';
import { allocParams, cloneParams, copyParams, hiddenOf, sameSizes, sizesOf, checkMasks, type Activation, type Batch, type Params, type Trainer } from '../core/types.ts';
import { batchSums, ensureWorkspace, predict, updateFromSums, type Workspace } from './network.ts';
import { createThreadPool, type ThreadPool } from './threads.ts';

/** What tells the scratch trainers apart: where the parameters live and how one step changes them. */
export interface ScratchOptimizer {
  /** storage for the parameters of a network of these sizes (called again if the sizes change) */
  alloc(sizes: number[]): Params;
  /** forget any state (Adam's moments): called by every load() */
  reset(sizes: number[]): void;
  /** one update on one batch at learning rate lr; returns the batch loss before it */
  step(p: Params, batch: Batch, masks: Float32Array[] | undefined, ws: Workspace, lr: number): number;
  dispose(): void;
  /** true when the steps run on worker threads (then this thread's kernels count no work) */
  onWorkers?(): boolean;
}

/** A scratch trainer also tells how much work it did: the bench counts executed, not dense, FLOPs. */
export interface ScratchTrainer extends Trainer {
  /** multiply-adds executed by the calling thread's kernels so far (steps and predictions; null: the work ran on worker threads) */
  madds(): number | null;
}

/** A Trainer around a ScratchOptimizer. */
export function scratchTrainer(name: string, act: Activation, lr0: number, opt: ScratchOptimizer): ScratchTrainer {
  let params: Params | null = null;
  let sizes: number[] = [];
  let ws: Workspace | undefined;
  let lr = lr0;
  const need = (): Params => {
    if (!params) throw new Error(`${name}: load(params) first`);
    return params;
  };
  const work = (): Workspace => (ws = ensureWorkspace(ws, sizes));
  return {
    name,
    load(p: Params) {
      const s = sizesOf(p);
      if (!params || !sameSizes(s, sizes)) {
        sizes = s;
        params = opt.alloc(s);
      }
      copyParams(p, params);
      opt.reset(s);
    },
    step(batch: Batch, masks?: Float32Array[]): number {
      const p = need();
      checkBatch(batch);
      return opt.step(p, batch, checkMasks(masks, hiddenOf(sizes), batch.m), work(), lr);
    },
    setLearningRate(x: number) {
      checkLearningRate(x);
      lr = x;
    },
    read: () => cloneParams(need()),
    predict: (x: Float32Array, m: number): Uint8Array => predict(need(), x, m, { activation: act }, work()),
    madds: () => (opt.onWorkers?.() ? null : (ws?.madds ?? 0)),
    dispose() {
      opt.dispose();
      params = null;
      ws = undefined;
    },
  };
}

export interface ScratchTrainerOptions {
  lr: number;
  activation?: Activation;
  /**
   * Worker threads that compute each step (gradients and update; see threads.ts), with results
   * bit-identical to the default, 0: everything on the calling thread.
   */
  threads?: number;
}

/** Plain gradient descent, as in the notebook's `gradient_descent`. */
export function createScratchTrainer(opts: ScratchTrainerOptions): ScratchTrainer {
  checkLearningRate(opts.lr);
  const threads = checkThreads(opts.threads ?? 0);
  const act = opts.activation ?? 'relu';
  let pool: ThreadPool | null = null; // threads > 0: the pool owns the parameters, in shared memory
  return scratchTrainer('scratch-gd', act, opts.lr, {
    alloc(sizes) {
      if (threads === 0) return allocParams(sizes);
      pool?.dispose();
      pool = createThreadPool(threads, sizes);
      return pool.params;
    },
    reset() {},
    // gradientsInto + sgdUpdate, bit for bit, on this thread or the pool's
    step(p, batch, masks, ws, lr) {
      if (pool) return pool.run(batch, act, masks, lr);
      batchSums(p, batch, act, masks, ws);
      updateFromSums(p, ws.totalSums, batch.m, lr);
      return ws.totalSums.loss[0] / batch.m;
    },
    dispose() {
      pool?.dispose();
      pool = null;
    },
    onWorkers: () => threads > 0,
  });
}

/**
 * What is timed: one task per (suite, implementation, backend, batch size), each a function that does one
 * unit of work (a forward pass, a gradient computation, a training step, a data load) plus the numbers
 * needed to turn its time into samples/s and GFLOP/s. Building tasks trains nothing and prints nothing.
 *
 * FLOPs are the dense count of the network's matrix products, per sample, for hidden width h:
 *   forward    2·(784·h + h·10)                       Z1 = W1·X, Z2 = W2·A1
 *   gradients  forward + 2·(h·10 + 10·h + 784·h)      dW2 = dZ2·A1ᵀ, dZ1 = W2ᵀ·dZ2, dW1 = dZ1·Xᵀ
 *   step       gradients·m + update·P per step        P = 784·h + h + 10·h + 10 parameters;
 *                                                     update 2 FLOPs/parameter (SGD), 14 (Adam)
 * Bias adds, activations, softmax and the loss are not counted, and neither is the scratch network's
 * skipping of zero pixels (~80% of MNIST): a skipped multiply-add still counts as two FLOPs, so GFLOP/s
 * here means "dense-equivalent" work rate, the same yardstick for every implementation.
 */
import { initParams } from '../src/core/init.ts';
import { INPUT as INPUT_, netSizes, type Batch, type Params, type Trainer } from '../src/core/types.ts';
import { loadEmbedded, type Dataset } from '../src/data/index.ts';
import { createScratchAdamTrainer } from '../src/scratch/adam.ts';
import { createWorkspace, gradientsInto } from '../src/scratch/network.ts';
import { createScratchTrainer } from '../src/scratch/trainer.ts';
import { initBackend, type BackendName } from '../src/tfjs/backend.ts';
import { createTfjsTrainer, gradients as tfjsGradients } from '../src/tfjs/network.ts';
import { allocParams, copyParams } from '../src/core/types.ts';
import { createThreadPool, type ThreadPool } from '../src/scratch/threads.ts';
import type { SuiteName } from './args.ts';
import { CEILING_FLOPS_PER_CALL, makeCeilingKernel } from './ceiling.ts';

const INPUT: number = INPUT_;

export const LR_SGD = 0.1;
export const LR_ADAM = 0.001;
export const ADAM_FLOPS_PER_PARAM = 14;
export const SGD_FLOPS_PER_PARAM = 2;

/** Dense FLOPs per sample: forward 2·Σ out·in; gradients add dW_l (2·out·in each) and dA_{l−1} for l ≥ 2. */
export function flopsPerSample(sizes: readonly number[]): { forward: number; gradients: number } {
  let forward = 0, backward = 0;
  for (let l = 1; l < sizes.length; l++) {
    forward += 2 * sizes[l] * sizes[l - 1];
    backward += 2 * sizes[l] * sizes[l - 1] * (l >= 2 ? 2 : 1);
  }
  return { forward, gradients: forward + backward };
}

export function paramCount(sizes: readonly number[]): number {
  let n = 0;
  for (let l = 1; l < sizes.length; l++) n += sizes[l] * sizes[l - 1] + sizes[l];
  return n;
}

/** Which budget a task runs under: `light` (many fast calls) or `heavy` (a few calls of ~seconds). */
export type Weight = 'light' | 'heavy';

export interface TaskSpec {
  id: string; // unique, e.g. "step · tfjs-sgd · wasm · 64"
  suite: SuiteName | 'ceiling';
  impl: string; // scratch, scratch-gd, scratch-adam, tfjs, tfjs-sgd, tfjs-adam, loadEmbedded, scalar-fma
  backend: string; // js (the scratch network, plain JavaScript), wasm, cpu, tensorflow
  threads: number; // worker threads of the scratch network (0: computed on the calling thread)
  size: string; // "1", "64", "128", "full"
  m: number; // samples per call
  flops: number | null; // per call
  weight: Weight;
  /** runs before the task's warm-up and before its timed run (e.g. makes its tfjs backend active) */
  before?: () => Promise<void>;
  fn: () => unknown;
  async: boolean;
}

export interface SuiteContext {
  data: Dataset;
  hidden: number;
  backends: BackendName[];
  sizes: number[]; // small batch sizes, e.g. [1, 64, 128]
  full: boolean; // also the full training set (60,000) / test set (10,000)
  threads: number[]; // worker-thread counts for extra scratch rows (gradients, GD step)
}

/** Up to `max` consecutive batches of m samples from `b`, as views (no copies): a step cycles through them. */
function batchesOf(b: Batch, m: number, max = 1024): Batch[] {
  const n = Math.max(1, Math.min(max, Math.floor(b.m / m)));
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ x: b.x.subarray(i * m * INPUT, (i + 1) * m * INPUT), y: b.y.subarray(i * m, (i + 1) * m), m });
  }
  return out;
}

function cycler<T>(xs: T[]): () => T {
  let i = 0;
  return () => {
    const x = xs[i];
    i = i + 1 === xs.length ? 0 : i + 1;
    return x;
  };
}

const sizeLabel = (m: number, fullM: number, full: boolean) => (full && m === fullM ? 'full' : String(m));

export interface Suites {
  tasks: TaskSpec[];
  dispose(): void;
}

/** Builds every task of the chosen suites. tfjs trainers are created on their own backend. */
export async function buildSuites(suites: SuiteName[], ctx: SuiteContext): Promise<Suites> {
  const { data, hidden: h, backends } = ctx;
  const sizes = netSizes([h]);
  const init: Params = initParams(1, sizes);
  const flops = flopsPerSample(sizes);
  const P = paramCount(sizes);
  const trainers: Trainer[] = [];
  const pools: ThreadPool[] = [];
  const tasks: TaskSpec[] = [];
  const switchTo = (be: BackendName) => async () => {
    await initBackend(be);
  };
  const trainSizes = [...ctx.sizes, ...(ctx.full ? [data.train.m] : [])];
  const testSizes = [...ctx.sizes, ...(ctx.full ? [data.test.m] : [])];
  const weightOf = (m: number): Weight => (m >= 5000 ? 'heavy' : 'light');
  const add = (t: Omit<TaskSpec, 'id' | 'size' | 'weight'> & { fullM: number }) => {
    const size = sizeLabel(t.m, t.fullM, ctx.full);
    const { fullM: _, ...rest } = t;
    const who = t.threads > 0 ? `${t.impl} ×${t.threads} threads` : t.impl;
    tasks.push({ ...rest, size, weight: weightOf(t.m), id: `${t.suite} · ${who} · ${t.backend} · ${size}` });
  };

  const scratch = (opt: 'gd' | 'adam', threads = 0): Trainer => {
    const t = opt === 'gd' ? createScratchTrainer({ lr: LR_SGD, threads }) : createScratchAdamTrainer({ lr: LR_ADAM });
    t.load(init);
    trainers.push(t);
    return t;
  };
  const tfjs = async (be: BackendName, opt: 'sgd' | 'adam'): Promise<Trainer> => {
    await initBackend(be);
    const t = createTfjsTrainer({ optimizer: opt, lr: opt === 'sgd' ? LR_SGD : LR_ADAM, sizes });
    t.load(init);
    trainers.push(t);
    return t;
  };

  if (suites.includes('forward')) {
    const fullM = data.test.m;
    for (const m of testSizes) {
      const next = cycler(batchesOf(data.test, m));
      const perCall = m * flops.forward;
      const s = scratch('gd');
      add({ suite: 'forward', impl: 'scratch', backend: 'js', threads: 0, m, fullM, flops: perCall, async: false, fn: () => { const b = next(); return s.predict(b.x, b.m); } });
      for (const be of backends) {
        const t = await tfjs(be, 'sgd');
        add({ suite: 'forward', impl: 'tfjs', backend: be, threads: 0, m, fullM, flops: perCall, async: false, before: switchTo(be), fn: () => { const b = next(); return t.predict(b.x, b.m); } });
      }
    }
  }

  if (suites.includes('gradients')) {
    const fullM = data.train.m;
    for (const m of trainSizes) {
      const next = cycler(batchesOf(data.train, m));
      const perCall = m * flops.gradients;
      const grads = allocParams(sizes);
      const ws = createWorkspace(sizes);
      add({ suite: 'gradients', impl: 'scratch', backend: 'js', threads: 0, m, fullM, flops: perCall, async: false, fn: () => gradientsInto(init, next(), grads, 'relu', undefined, ws) });
      for (const th of ctx.threads) {
        const pool = createThreadPool(th, sizes);
        pools.push(pool);
        copyParams(init, pool.params);
        add({ suite: 'gradients', impl: 'scratch', backend: 'js', threads: th, m, fullM, flops: perCall, async: false, fn: () => pool.run(next(), 'relu', undefined, null) });
      }
      for (const be of backends) {
        add({ suite: 'gradients', impl: 'tfjs', backend: be, threads: 0, m, fullM, flops: perCall, async: true, before: switchTo(be), fn: () => tfjsGradients(init, next()) });
      }
    }
  }

  if (suites.includes('step')) {
    const fullM = data.train.m;
    for (const m of trainSizes) {
      const batches = batchesOf(data.train, m);
      const sgd = m * flops.gradients + SGD_FLOPS_PER_PARAM * P;
      const adam = m * flops.gradients + ADAM_FLOPS_PER_PARAM * P;
      const gd = scratch('gd'), ad = scratch('adam');
      const n1 = cycler(batches), n2 = cycler(batches);
      add({ suite: 'step', impl: 'scratch-gd', backend: 'js', threads: 0, m, fullM, flops: sgd, async: false, fn: () => gd.step(n1()) });
      add({ suite: 'step', impl: 'scratch-adam', backend: 'js', threads: 0, m, fullM, flops: adam, async: false, fn: () => ad.step(n2()) });
      for (const th of ctx.threads) {
        const t = scratch('gd', th);
        const n = cycler(batches);
        add({ suite: 'step', impl: 'scratch-gd', backend: 'js', threads: th, m, fullM, flops: sgd, async: false, fn: () => t.step(n()) });
      }
      for (const be of backends) {
        const ts = await tfjs(be, 'sgd'), ta = await tfjs(be, 'adam');
        const n1 = cycler(batches), n2 = cycler(batches);
        add({ suite: 'step', impl: 'tfjs-sgd', backend: be, threads: 0, m, fullM, flops: sgd, async: false, before: switchTo(be), fn: () => ts.step(n1()) });
        add({ suite: 'step', impl: 'tfjs-adam', backend: be, threads: 0, m, fullM, flops: adam, async: false, before: switchTo(be), fn: () => ta.step(n2()) });
      }
    }
  }

  if (suites.includes('data')) {
    const m = data.train.m + data.test.m;
    tasks.push({ id: 'data · loadEmbedded', suite: 'data', impl: 'loadEmbedded', backend: 'js', threads: 0, size: `${m}`, m, flops: null, weight: 'heavy', async: false, fn: () => loadEmbedded() });
  }

  // The yardstick, timed in the same rounds as everything else.
  tasks.push({ id: 'ceiling · scalar multiply-add', suite: 'ceiling', impl: 'scalar-fma', backend: 'js', threads: 0, size: '-', m: 0, flops: CEILING_FLOPS_PER_CALL, weight: 'light', async: false, fn: makeCeilingKernel() });

  return {
    tasks,
    dispose() {
      for (const t of trainers) t.dispose();
      for (const p of pools) p.dispose();
    },
  };
}

/**
 * What is timed: one task per (suite, network, implementation, backend, threads, batch size), each a
 * function that does one unit of work (a forward pass, a gradient computation, a training step, a data
 * load) plus the numbers that turn its time into samples/s and GFLOP/s. Building tasks trains nothing and
 * prints nothing.
 *
 * Two networks: the notebook's 784-10-10 (every suite, batch sizes 1, 64, 128 and the full sets) and the
 * deep notebook's 784-400-100-10 (forward and step at batch 256; the step with the deep notebook's dropout, keep 0.4 /
 * 0.5, and without, which is what the numpy reference row computes).
 *
 * FLOPs, two ways:
 * - dense: 2 FLOPs per multiply-add of the notebook's matrix products, per sample,
 *     forward    Σ_l 2·out_l·in_l                    Z_l = W_l·A_{l−1}
 *     gradients  forward + Σ_l 2·out_l·in_l·(1 + [l ≥ 2])   dW_l = dZ_l·A_{l−1}ᵀ, dA_{l−1} = W_lᵀ·dZ_l
 *     step       gradients·m + update·P                update 2 FLOPs/parameter (SGD), 14 (Adam)
 *   the same yardstick for every implementation ("dense-equivalent");
 * - executed: what an implementation really multiplied. The scratch kernels skip zero inputs (~80% of
 *   MNIST's pixels; dead and dropped units) and count the multiply-adds they execute; tfjs and numpy do
 *   every dense product, so for them executed = dense. Bias adds, activations, softmax and the loss are
 *   not counted in either.
 */
import { maskStream } from '../src/core/dropout.ts';
import { weightOf, type Weight } from './budgets.ts';
import { initParams, type InitKind } from '../src/core/init.ts';
import { allocParams, copyParams, hiddenOf, INPUT as INPUT_, netSizes, type Batch, type Params, type Trainer } from '../src/core/types.ts';
import { loadEmbedded, type Dataset } from '../src/data/index.ts';
import { PRESETS } from '../src/harness/plan.ts';
import type { Plan } from '../src/results/plan.ts';
import { createScratchAdamTrainer } from '../src/scratch/adam.ts';
import { createWorkspace, gradientsInto } from '../src/scratch/network.ts';
import { createThreadPool, type ThreadPool } from '../src/scratch/threads.ts';
import { createScratchTrainer, type ScratchTrainer } from '../src/scratch/trainer.ts';
import { initBackend } from '../src/tfjs/backend.ts';
import type { BackendName } from '../src/core/backends.ts';
import { createTfjsTrainer, gradients as tfjsGradients } from '../src/tfjs/network.ts';
import type { SuiteName } from './args.ts';
import { CEILING_KERNELS, type CeilingKernel } from './ceiling.ts';
import { createSimdAdamTrainer, createSimdTrainer, type SimdTrainer } from '../src/simd/index.ts';

const INPUT: number = INPUT_;

/**
 * The learning rates of every row, both networks: the default preset's (gradient descent 0.1, Adam 0.001,
 * Adam's default β). The deep rows keep them too rather than the deep preset's Adam (α 0.005, β1 0.8): a
 * step costs the same whatever the rate, and the committed bench was measured with these.
 */
export const LR_SGD = PRESETS.default.lr;
export const LR_ADAM = PRESETS.default.adamLr;
export const ADAM_FLOPS_PER_PARAM = 14;
export const SGD_FLOPS_PER_PARAM = 2;

export type NetName = 'notebook' | 'deep';
export interface NetSpec {
  name: NetName;
  label: string; // 784-10-10
  sizes: number[];
  init: InitKind;
  keep: number[]; // the dropout of the "step + dropout" rows
}
/** A preset's network: its layers, initialisation and dropout. */
const netOf = (name: NetName, preset: Plan): NetSpec => {
  const sizes = netSizes(preset.layers);
  return { name, label: sizes.join('-'), sizes, init: preset.init, keep: [...preset.keep] };
};
/** The notebook's network (the default preset: 784-10-10) and the deep notebook's (the deep preset: 784-400-100-10). */
export const NETS: Record<NetName, NetSpec> = { notebook: netOf('notebook', PRESETS.default), deep: netOf('deep', PRESETS.deep) };
const deepBatch = PRESETS.deep.batch;
if (deepBatch === 'full') throw new Error('bench: the deep preset must train on mini-batches');
/** The deep network's batch size: the deep preset's (mini-batches of 2⁸). */
export const DEEP_BATCH: number = deepBatch;

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

export interface TaskSpec {
  id: string; // unique, e.g. "step · 784-10-10 · tfjs-sgd · wasm · 64"
  suite: SuiteName | 'ceiling';
  net: NetName | null; // null: data loading, ceilings
  dropout: boolean; // step rows: with the deep notebook's dropout masks
  impl: string; // scratch, scratch-gd, scratch-adam, tfjs, tfjs-sgd, tfjs-adam, loadEmbedded, a ceiling kernel
  backend: string; // js (the scratch network, plain JavaScript), wasm, cpu, tensorflow
  threads: number; // worker threads of the scratch network (0: computed on the calling thread); tfjs-node in a child: its TensorFlow threads
  /** where it ran, when not the default of its threads and backend (tfjs-node in a child process) */
  ranOn?: string;
  size: string; // "1", "64", "128", "full"
  m: number; // samples per call
  flops: number | null; // dense FLOPs per call
  /** executed FLOPs per call, read after timing (null: not counted; then the dense count stands) */
  executed?: () => number | null;
  weight: Weight;
  /** runs before the task's warm-up and before its timed run (e.g. makes its tfjs backend active) */
  before?: () => Promise<void>;
  fn: () => unknown;
  async: boolean;
}

export interface SuiteContext {
  /** in SharedArrayBuffers, so worker pools read batches in place (training suites) */
  data: Dataset;
  /** the test images in an ordinary ArrayBuffer, for the forward suite (no pools there): copying a batch
   *  out of shared memory is up to 1.5× slower, for every implementation (measured) */
  testPlain: Batch;
  backends: BackendName[];
  sizes: number[]; // small batch sizes of the notebook's network, e.g. [1, 64, 128]
  forwardSizes: number[]; // batch sizes of its forward suite, e.g. [1, 64, 1000]
  full: boolean; // also the full training set (60,000) / test set (10,000)
  deep: boolean; // also the deep network
  threads: number[]; // worker-thread counts for extra scratch rows (gradients, GD step)
  /** only the tfjs tasks on ctx.backends: no hand-written rows, no pools, no data loading, no ceilings
   *  (bench/native.ts's child process, which times tfjs-node on its own) */
  tfjsOnly?: boolean;
}

/** Up to `max` consecutive batches of m samples from `b`, as views (no copies): a step cycles through them. */
export function batchesOf(b: Batch, m: number, max = 1024): Batch[] {
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

/** A task function that also counts its calls (warm-up included), for per-call work figures. */
function counted(fn: () => unknown): { fn: () => unknown; calls: () => number } {
  let n = 0;
  return {
    fn: () => {
      n++;
      return fn();
    },
    calls: () => n,
  };
}

const MASK_SETS = 8; // dropout masks cycled through with the batches, drawn before timing

export interface Suites {
  tasks: TaskSpec[];
  dispose(): void;
}

/** Builds every task of the chosen suites. tfjs trainers are created on their own backend. */
export async function buildSuites(suites: SuiteName[], ctx: SuiteContext): Promise<Suites> {
  const { data, backends } = ctx;
  const hand = ctx.tfjsOnly !== true; // the hand-written rows (and pools, data loading, ceilings)
  const trainers: Trainer[] = [];
  const pools: ThreadPool[] = [];
  const tasks: TaskSpec[] = [];
  const switchTo = (be: BackendName) => async () => {
    await initBackend(be);
  };
  const add = (t: Omit<TaskSpec, 'id' | 'size' | 'weight'> & { full: boolean }) => {
    const size = t.full ? 'full' : String(t.m);
    const { full: _, ...rest } = t;
    const who = t.threads > 0 ? `${t.impl} ×${t.threads} threads` : t.impl;
    const net = t.net ? ` · ${NETS[t.net].label}${t.dropout ? ' + dropout' : ''}` : '';
    tasks.push({ ...rest, size, weight: weightOf(t.m), id: `${t.suite}${net} · ${who} · ${t.backend} · ${size}` });
  };

  const scratchOf = (init: Params, opt: 'gd' | 'adam', threads = 0): ScratchTrainer => {
    const t = opt === 'gd' ? createScratchTrainer({ lr: LR_SGD, threads }) : createScratchAdamTrainer({ lr: LR_ADAM, threads });
    t.load(init);
    trainers.push(t);
    return t;
  };
  const tfjsOf = async (net: NetSpec, init: Params, be: BackendName, opt: 'sgd' | 'adam'): Promise<Trainer> => {
    await initBackend(be);
    const t = createTfjsTrainer({ optimizer: opt, lr: opt === 'sgd' ? LR_SGD : LR_ADAM, sizes: net.sizes });
    t.load(init);
    trainers.push(t);
    return t;
  };
  const simdOf = (init: Params, opt: 'gd' | 'adam', threads = 0): SimdTrainer => {
    const t = opt === 'gd' ? createSimdTrainer({ lr: LR_SGD, threads }) : createSimdAdamTrainer({ lr: LR_ADAM, threads });
    t.load(init);
    trainers.push(t);
    return t;
  };
  /** A scratch-simd task: each call's executed work (the trainer counts it per call) is summed. */
  const simdCounted = (t: SimdTrainer, fn: () => unknown, extra = 0) => {
    let flops = 0, n = 0;
    return {
      fn: () => {
        const r = fn();
        flops += t.lastWork().flops;
        n++;
        return r;
      },
      executed: () => (n === 0 ? null : flops / n + extra),
    };
  };
  /** Executed FLOPs per call of a scratch trainer's task: its kernels' multiply-adds, plus the update's. */
  const perCall = (t: ScratchTrainer, calls: () => number, extra = 0) => () => {
    const madds = t.madds();
    return madds === null || calls() === 0 ? null : (2 * madds) / calls() + extra;
  };

  for (const net of ctx.deep ? [NETS.notebook, NETS.deep] : [NETS.notebook]) {
    const deep = net.name === 'deep';
    const init = initParams(1, net.sizes, net.init);
    const flops = flopsPerSample(net.sizes);
    const P = paramCount(net.sizes);
    const tfBackends = deep ? backends.filter((b) => b !== 'cpu') : backends; // the plain-JS cpu backend takes seconds per deep step
    const trainSizes = deep ? [DEEP_BATCH] : [...ctx.sizes, ...(ctx.full ? [data.train.m] : [])];
    const testSizes = deep ? [DEEP_BATCH] : [...ctx.forwardSizes, ...(ctx.full ? [data.test.m] : [])];

    if (suites.includes('forward')) {
      for (const m of testSizes) {
        const full = !deep && ctx.full && m === data.test.m;
        const next = cycler(batchesOf(ctx.testPlain, m));
        const dense = m * flops.forward;
        if (hand) {
          const s = scratchOf(init, 'gd');
          const c = counted(() => {
            const b = next();
            return s.predict(b.x, b.m);
          });
          add({ suite: 'forward', net: net.name, dropout: false, impl: 'scratch', backend: 'js', threads: 0, m, full, flops: dense, executed: perCall(s, c.calls), async: false, fn: c.fn });
          const v = simdOf(init, 'gd');
          const cv = simdCounted(v, () => {
            const b = next();
            return v.predict(b.x, b.m);
          });
          add({ suite: 'forward', net: net.name, dropout: false, impl: 'scratch-simd', backend: 'wasm-simd', threads: 0, m, full, flops: dense, executed: cv.executed, async: false, fn: cv.fn });
        }
        for (const be of tfBackends) {
          const t = await tfjsOf(net, init, be, 'sgd');
          add({ suite: 'forward', net: net.name, dropout: false, impl: 'tfjs', backend: be, threads: 0, m, full, flops: dense, async: false, before: switchTo(be), fn: () => { const b = next(); return t.predict(b.x, b.m); } });
        }
      }
    }

    if (suites.includes('gradients') && !deep) {
      for (const m of trainSizes) {
        const full = ctx.full && m === data.train.m;
        const next = cycler(batchesOf(data.train, m));
        const dense = m * flops.gradients;
        const grads = allocParams(net.sizes);
        const ws = createWorkspace(net.sizes);
        const c = counted(() => gradientsInto(init, next(), grads, 'relu', undefined, ws));
        if (hand) add({ suite: 'gradients', net: net.name, dropout: false, impl: 'scratch', backend: 'js', threads: 0, m, full, flops: dense, executed: () => (c.calls() ? (2 * ws.madds) / c.calls() : null), async: false, fn: c.fn });
        for (const th of hand ? ctx.threads : []) {
          const pool = createThreadPool(th, net.sizes);
          pools.push(pool);
          copyParams(init, pool.params);
          add({ suite: 'gradients', net: net.name, dropout: false, impl: 'scratch', backend: 'js', threads: th, m, full, flops: dense, async: false, fn: () => pool.run(next(), 'relu', undefined, null) });
        }
        for (const be of tfBackends) {
          add({ suite: 'gradients', net: net.name, dropout: false, impl: 'tfjs', backend: be, threads: 0, m, full, flops: dense, async: true, before: switchTo(be), fn: () => tfjsGradients(init, next()) });
        }
      }
    }

    if (suites.includes('step')) {
      for (const m of trainSizes) {
        for (const dropout of deep ? [true, false] : [false]) {
          const full = !deep && ctx.full && m === data.train.m;
          const batches = batchesOf(data.train, m);
          const stream = dropout ? maskStream(1, hiddenOf(net.sizes), net.keep) : null;
          const maskSets = stream ? Array.from({ length: MASK_SETS }, (_, s) => stream.masks(s, m).map((a) => a.slice())) : null;
          // each task cycles through the batches (and masks) on its own
          const source = () => {
            const nb = cycler(batches);
            const nm = maskSets ? cycler(maskSets) : () => undefined;
            return () => [nb(), nm()] as const;
          };
          const sgd = m * flops.gradients + SGD_FLOPS_PER_PARAM * P;
          const adam = m * flops.gradients + ADAM_FLOPS_PER_PARAM * P;
          const base = { suite: 'step' as const, net: net.name, dropout, m, full, async: false };
          for (const [impl, dense, extra] of hand ? ([['scratch-gd', sgd, SGD_FLOPS_PER_PARAM * P], ['scratch-adam', adam, ADAM_FLOPS_PER_PARAM * P]] as const) : []) {
            const t = scratchOf(init, impl === 'scratch-gd' ? 'gd' : 'adam');
            const next = source();
            const c = counted(() => t.step(...next()));
            add({ ...base, impl, backend: 'js', threads: 0, flops: dense, executed: perCall(t, c.calls, extra), fn: c.fn });
          }
          for (const th of hand ? ctx.threads : []) {
            const t = scratchOf(init, 'gd', th);
            const next = source();
            add({ ...base, impl: 'scratch-gd', backend: 'js', threads: th, flops: sgd, fn: () => t.step(...next()) });
          }
          for (const [impl, opt, dense, extra, threads] of hand
            ? ([
                ['scratch-simd-gd', 'gd', sgd, SGD_FLOPS_PER_PARAM * P, [0, ...ctx.threads]],
                ['scratch-simd-adam', 'adam', adam, ADAM_FLOPS_PER_PARAM * P, [0]],
              ] as const)
            : []) {
            for (const th of threads) {
              const t = simdOf(init, opt, th);
              const next = source();
              const c = simdCounted(t, () => t.step(...next()), extra);
              add({ ...base, impl, backend: 'wasm-simd', threads: th, flops: dense, executed: c.executed, fn: c.fn });
            }
          }
          for (const be of tfBackends) {
            const ts = await tfjsOf(net, init, be, 'sgd'), ta = await tfjsOf(net, init, be, 'adam');
            const n1 = source(), n2 = source();
            add({ ...base, impl: 'tfjs-sgd', backend: be, threads: 0, flops: sgd, before: switchTo(be), fn: () => ts.step(...n1()) });
            add({ ...base, impl: 'tfjs-adam', backend: be, threads: 0, flops: adam, before: switchTo(be), fn: () => ta.step(...n2()) });
          }
        }
      }
    }
  }

  if (suites.includes('data') && hand) {
    const m = data.train.m + data.test.m;
    tasks.push({ id: 'data · loadEmbedded', suite: 'data', net: null, dropout: false, impl: 'loadEmbedded', backend: 'js', threads: 0, size: `${m}`, m, flops: null, weight: 'heavy', async: false, fn: () => loadEmbedded() });
  }

  // The yardsticks, timed in the same rounds as everything else: in the isolate (backend 'js', the thread
  // kind of every hand-written row), and the scalar sparse one also on the calling thread, where tfjs runs
  // ('js-main'), to show what the detached-buffer slowdown costs there.
  const ceiling = (impl: string, backend: 'js' | 'js-main', flops: number, fn: () => unknown) =>
    tasks.push({ id: `ceiling · ${impl} · ${backend === 'js' ? 'own worker thread' : 'calling thread'}`, suite: 'ceiling', net: null, dropout: false, impl, backend, threads: 0, size: '-', m: 0, flops, weight: 'light', async: false, fn });
  if (hand) {
    for (const k of Object.keys(CEILING_KERNELS) as CeilingKernel[]) ceiling(k, 'js', CEILING_KERNELS[k].flops, CEILING_KERNELS[k].make());
    ceiling('scalar sparse 10-row', 'js-main', CEILING_KERNELS['scalar sparse 10-row'].flops, CEILING_KERNELS['scalar sparse 10-row'].make());
  }

  return {
    tasks,
    dispose() {
      for (const t of trainers) t.dispose();
      for (const p of pools) p.dispose();
    },
  };
}

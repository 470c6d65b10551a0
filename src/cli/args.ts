/** `npm run compare` flags → a Plan. Parsing and validation only; every problem is one UserError line. */
import { INIT_KINDS, type InitKind } from '../core/init.ts';
import { ACTIVATIONS, type Activation } from '../core/types.ts';
import { BACKEND_NAMES, type BackendName } from '../tfjs/backend.ts';
import { PRESET_NAMES, PRESETS, TRAINER_IDS, type Plan, type PresetName, type TrainerId } from '../harness/plan.ts';
import { fail, list, oneOf, parseFlags, positiveInt, positiveNumber } from './flags.ts';

export const COMPARE_HELP = `npm run compare -- [flags]

Trains every trainer from the same initial weights on the same batches, per seed, and writes
<out>/compare.json (results) and <out>/compare.md (the report).

  --preset NAME      default | notebook | smoke                        (default: default)
                       default   3 seeds, all trainers, batch 64, 5 epochs   (~1 min on 2 cores)
                       notebook  the seed notebook: full batch, α = 0.10, 500 iterations,
                                 accuracy every 10 iterations, 1 seed
                       smoke     seconds: 2,000 train / 1,000 test images, 1 epoch
  --seeds LIST       comma-separated seeds, e.g. 1,2,3                 (integers 0..2147483647)
  --trainers LIST    any of ${TRAINER_IDS.join(', ')}
  --epochs N         passes over the training set (full batch: iterations)
  --iterations N     total steps (overrides --epochs)
  --batch N|full     samples per step, or the whole training set
  --lr X             learning rate of scratch-gd and tfjs-sgd          (default 0.1)
  --adam-lr X        learning rate of tfjs-adam and scratch-adam       (default 0.001)
  --hidden N         hidden units                                      (default 10)
  --activation NAME  ${ACTIVATIONS.join(' | ')}                             (default relu)
  --init NAME        ${INIT_KINDS.join(' | ')}: uniform(−0.5, 0.5) as the notebook, or He-normal
  --backend NAME     auto | ${BACKEND_NAMES.join(' | ')}    (auto: tensorflow → wasm → cpu)
  --data PATH        a folder with the four MNIST IDX files (raw or .gz), or a Kaggle CSV
                     (train.csv; 1,000 rows held out as test set when no labelled test.csv)
  --limit N          train on the first N training images
  --test-limit N     test on the first N test images
  --eval-every N     a learning-curve point every N steps (default: ~20 points)
  --sweep lr         also sweep learning rates (×0.1 … ×30 of --lr / --adam-lr) and chart them
  --threads N        run scratch-gd's steps on N worker threads (0: none; bit-identical results) (default 0)
  --out DIR          where to write the report                         (default reports)
  --help             this text

Exit status: 0 ok, 2 bad input, 3 a trainer diverged (the report says which, at which step),
130 interrupted (nothing written).`;

export interface CompareArgs {
  plan: Plan;
  out: string;
  help: boolean;
}

export const SWEEP_SCALES = [0.1, 0.3, 1, 3, 10, 30];

export function parseCompareArgs(argv: string[]): CompareArgs {
  const v = parseFlags(argv, {
    preset: { type: 'string' },
    seeds: { type: 'string' },
    trainers: { type: 'string' },
    epochs: { type: 'string' },
    iterations: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'adam-lr': { type: 'string' },
    hidden: { type: 'string' },
    activation: { type: 'string' },
    init: { type: 'string' },
    backend: { type: 'string' },
    data: { type: 'string' },
    limit: { type: 'string' },
    'test-limit': { type: 'string' },
    'eval-every': { type: 'string' },
    sweep: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }).values;
  const preset = oneOf<PresetName>('preset', v.preset ?? 'default', PRESET_NAMES);
  const plan: Plan = { ...PRESETS[preset], seeds: [...PRESETS[preset].seeds], trainers: [...PRESETS[preset].trainers] };
  const set = <K extends keyof Plan>(k: K, val: Plan[K]) => {
    plan[k] = val;
  };

  if (v.seeds !== undefined) set('seeds', list('seeds', v.seeds).map((s) => {
    if (!/^\d+$/.test(s) || Number(s) > 0x7fffffff) fail(`--seeds: '${s}' is not an integer in 0..2147483647`);
    return Number(s);
  }));
  if (v.trainers !== undefined) set('trainers', list('trainers', v.trainers).map((t) => oneOf<TrainerId>('trainers', t, TRAINER_IDS)));
  if (v.epochs !== undefined) set('epochs', positiveInt('epochs', v.epochs, 100_000));
  if (v.iterations !== undefined) set('iterations', positiveInt('iterations', v.iterations, 10_000_000));
  if (v.batch !== undefined) set('batch', v.batch === 'full' ? 'full' : positiveInt('batch', v.batch));
  if (v.lr !== undefined) set('lr', positiveNumber('lr', v.lr));
  if (v['adam-lr'] !== undefined) set('adamLr', positiveNumber('adam-lr', v['adam-lr']));
  if (v.hidden !== undefined) set('hidden', positiveInt('hidden', v.hidden, 4096));
  if (v.activation !== undefined) set('activation', oneOf<Activation>('activation', v.activation, ACTIVATIONS));
  if (v.init !== undefined) set('init', oneOf<InitKind>('init', v.init, INIT_KINDS));
  if (v.backend !== undefined) set('backend', oneOf<'auto' | BackendName>('backend', v.backend, ['auto', ...BACKEND_NAMES]));
  if (v.data !== undefined) {
    if (v.data.trim() === '') fail('--data must name a folder or a CSV file');
    set('data', v.data);
  }
  if (v.limit !== undefined) set('limit', positiveInt('limit', v.limit));
  if (v['test-limit'] !== undefined) set('testLimit', positiveInt('test-limit', v['test-limit']));
  if (v['eval-every'] !== undefined) set('evalEvery', positiveInt('eval-every', v['eval-every']));
  if (v.sweep !== undefined) {
    oneOf('sweep', v.sweep, ['lr']);
    set('sweep', SWEEP_SCALES);
  }
  if (v.threads !== undefined) set('threads', v.threads.trim() === '0' ? 0 : positiveInt('threads', v.threads, 64));
  const out = v.out ?? 'reports';
  if (out.trim() === '') fail('--out must name a folder');
  return { plan, out, help: v.help === true };
}

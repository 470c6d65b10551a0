/** `npm run compare` flags → a Plan. Parsing and validation only; every problem is one UserError line. */
import { INIT_KINDS, type InitKind } from '../core/init.ts';
import { ACTIVATIONS, type Activation } from '../core/types.ts';
import { BACKEND_NAMES, nativeInstalled, type BackendName } from '../core/backends.ts';
import { DEEP_EPOCHS, DEEP_NATIVE_THREADS, resolvePreset } from '../harness/plan.ts';
import { PRESET_NAMES, type Plan, type PresetName } from '../results/plan.ts';
import { isTfjsTrainer, onBackend, TRAINER_IDS, type BaseTrainerId, type TfjsTrainerId, type TrainerId } from '../results/trainers.ts';
import { beta, decimal, fail, learningRate, list, oneOf, parseFlags, positiveInt, threadCount } from './flags.ts';

export const COMPARE_HELP = `npm run compare -- [flags]

Trains every trainer from the same initial weights on the same batches, per seed, and writes
<out>/compare.json (results) and <out>/compare.md (the report).

  --preset NAME      default | notebook | smoke | deep | deep-smoke    (default: default)
                       default   3 seeds, all trainers, batch 64, 5 epochs   (~1 min on 2 cores)
                       notebook  the notebook: full batch, α = 0.10, 500 iterations,
                                 accuracy every 10 iterations, 1 seed
                       smoke     seconds: 2,000 train / 1,000 test images, 1 epoch
                       deep      the deep notebook: 784 → 400 → 100 → 10, He init, dropout keep
                                 0.4 / 0.5, Adam α = 0.005 (β1 0.8, β2 0.999), decay 1e-5,
                                 batch 256, ${DEEP_EPOCHS} epochs. With the native backend (tfjs on
                                 'tensorflow': --backend tensorflow, or auto with @tensorflow/tfjs-node
                                 installed): 3 seeds, every trainer, the hand-written ones
                                 on ${DEEP_NATIVE_THREADS} worker threads, a curve point every 2 epochs
                                 (measured on 2 idle cores: 9 min 12 s on an AMD EPYC,
                                 20 min 53 s on an Intel Xeon; slower on a busy machine).
                                 Without: 1 seed (no interval), every trainer but tfjs-sgd (a tfjs
                                 step takes ~85 ms on wasm; ~7 min on 2 cores). The plan table says
                                 which applied
                       deep-smoke  the deep preset in seconds: 2,048 train / 500 test images, 1 epoch
  --seeds LIST       comma-separated seeds, e.g. 1,2,3                 (integers 0..2147483647)
  --trainers LIST    any of ${TRAINER_IDS.join(', ')}
  --epochs N         passes over the training set (full batch: iterations)
  --iterations N     total steps (overrides --epochs)
  --batch N|full     samples per step, or the whole training set
  --lr X             learning rate of the gradient-descent trainers   (default 0.1)
  --adam-lr X        learning rate of the Adam trainers               (default 0.001)
  --layers LIST      hidden-layer widths, e.g. 400,100                 (default 10)
  --hidden N         one hidden layer of N units (--layers N)
  --keep LIST        dropout keep probability per hidden layer, in (0, 1]; 1 = no dropout
                     (default: 1 for every layer)
  --lr-decay X       learning-rate decay: epoch e trains at α/(1 + X·e)  (default 0)
  --beta1 X          Adam's β1, in [0, 1)                              (default 0.9)
  --beta2 X          Adam's β2, in [0, 1)                              (default 0.999)
  --activation NAME  ${ACTIVATIONS.join(' | ')}                             (default relu)
  --init NAME        ${INIT_KINDS.join(' | ')}: uniform(−0.5, 0.5) as the notebook, or He-normal
  --backend NAME     auto | ${BACKEND_NAMES.join(' | ')}    (auto: tensorflow → wasm → cpu),
                     or a comma list of backends, e.g. tensorflow,wasm: tfjs-sgd and tfjs-adam
                     run on each, side by side; the first keeps their names, the others' runs
                     are tfjs-sgd@wasm, tfjs-adam@wasm (auto cannot be in a list)
  --data PATH        a folder with the four MNIST IDX files (raw or .gz), or a Kaggle CSV
                     (train.csv; 1,000 rows held out as test set when no labelled test.csv)
  --predict FILE     a Kaggle CSV of images to predict (default: Kaggle's unlabelled test.csv
                     beside --data's train.csv, if there is one)
  --submission FILE  write the most accurate run's predictions of those images as a Kaggle
                     submission (ImageId,Label; ImageId from 1), named in the report
  --limit N          train on the first N training images
  --test-limit N     test on the first N test images
  --eval-every N     a learning-curve point every N steps (default: ~20 points)
  --sweep lr         also sweep learning rates (×0.1 … ×30 of --lr / --adam-lr) and chart them
  --threads N        run the hand-written trainers' steps on N worker threads (0: none; bit-identical
                     results)                                          (default 0)
  --out DIR          where to write the report                         (default reports)
  --help             this text

Exit status: 0 ok, 2 bad input (checked before any training, --out included), 3 a trainer
diverged (the report says which, at which step), 130 interrupted by Ctrl-C or SIGTERM (nothing
written; the previous report is left as it was).`;

export interface CompareArgs {
  plan: Plan;
  out: string;
  help: boolean;
}

export const SWEEP_SCALES = [0.1, 0.3, 1, 3, 10, 30];

/**
 * `--backend`: 'auto', one backend, or a comma list of distinct backends (the first is the primary one, on
 * which tfjs-sgd / tfjs-adam run; the others add tfjs-sgd@name / tfjs-adam@name).
 */
export function parseBackends(v: string): { primary: 'auto' | BackendName; others: BackendName[] } {
  const xs = list('backend', v);
  if (xs.length > 1 && xs.includes('auto')) fail(`--backend: auto is one choice and cannot be in a list; name the backends, e.g. tensorflow,wasm; got '${v}'`);
  const names = xs.map((x) => oneOf<'auto' | BackendName>('backend', x, ['auto', ...BACKEND_NAMES]));
  return { primary: names[0], others: names.slice(1) as BackendName[] };
}

/**
 * Flags → plan. `native`: whether @tensorflow/tfjs-node is installed here (only the deep preset's resolution
 * depends on it, with --backend auto; a parameter so that tests can give either).
 */
export function parseCompareArgs(argv: string[], native: boolean = nativeInstalled()): CompareArgs {
  const v = parseFlags(argv, [
    'preset', 'seeds', 'trainers', 'epochs', 'iterations', 'batch', 'lr', 'adam-lr', 'hidden', 'layers', 'keep',
    'lr-decay', 'beta1', 'beta2', 'activation', 'init', 'backend', 'data', 'predict', 'submission', 'limit',
    'test-limit', 'eval-every', 'sweep', 'threads', 'out',
  ]).values;
  const preset = oneOf<PresetName>('preset', v.preset ?? 'default', PRESET_NAMES);
  const backends = v.backend !== undefined ? parseBackends(v.backend) : { primary: 'auto' as const, others: [] };
  const plan: Plan = resolvePreset(preset, backends.primary === 'tensorflow' || (backends.primary === 'auto' && native));
  plan.backend = backends.primary;
  const set = <K extends keyof Plan>(k: K, val: Plan[K]) => {
    plan[k] = val;
  };

  if (v.seeds !== undefined) set('seeds', list('seeds', v.seeds).map((s) => {
    if (!/^\d+$/.test(s) || Number(s) > 0x7fffffff) fail(`--seeds: '${s}' is not an integer in 0..2147483647`);
    return Number(s);
  }));
  if (v.trainers !== undefined) set('trainers', list('trainers', v.trainers).map((t) => oneOf<BaseTrainerId>('trainers', t, TRAINER_IDS)));
  if (backends.others.length > 0) {
    if (!plan.trainers.some(isTfjsTrainer)) fail(`--backend ${v.backend} times tfjs on more than one backend, but no tfjs trainer is in the plan (${plan.trainers.join(', ')})`);
    // each tfjs trainer on each further backend, right after it
    set('trainers', plan.trainers.flatMap((t): TrainerId[] => (isTfjsTrainer(t) ? [t, ...backends.others.map((b) => onBackend(t as TfjsTrainerId, b))] : [t])));
  }
  if (v.epochs !== undefined) set('epochs', positiveInt('epochs', v.epochs, 100_000));
  if (v.iterations !== undefined) set('iterations', positiveInt('iterations', v.iterations, 10_000_000));
  if (v.batch !== undefined) set('batch', v.batch === 'full' ? 'full' : positiveInt('batch', v.batch));
  if (v.lr !== undefined) set('lr', learningRate('lr', v.lr));
  if (v['adam-lr'] !== undefined) set('adamLr', learningRate('adam-lr', v['adam-lr']));
  if (v.hidden !== undefined && v.layers !== undefined) fail('give --layers or --hidden, not both');
  if (v.hidden !== undefined) set('layers', [positiveInt('hidden', v.hidden, 4096)]);
  if (v.layers !== undefined) set('layers', list('layers', v.layers, true).map((s) => positiveInt('layers', s, 4096)));
  if (plan.layers.length > 16) fail(`--layers: at most 16 hidden layers, got ${plan.layers.length}`);
  if (v.keep !== undefined) {
    const keep = list('keep', v.keep, true).map((s) => {
      const k = decimal(s);
      if (!Number.isFinite(k) || k <= 0 || k > 1) fail(`--keep: '${s}' is not a keep probability in (0, 1]`);
      return k;
    });
    if (keep.length !== plan.layers.length) fail(`--keep lists ${keep.length} value${keep.length > 1 ? 's' : ''} for ${plan.layers.length} hidden layer${plan.layers.length > 1 ? 's' : ''} (${plan.layers.join(',')})`);
    set('keep', keep);
  } else if (plan.keep.length !== plan.layers.length) {
    set('keep', plan.layers.map(() => 1)); // the layers changed: no dropout unless --keep says so
  }
  if (v['lr-decay'] !== undefined) {
    const d = decimal(v['lr-decay']);
    if (!Number.isFinite(d) || d < 0) fail(`--lr-decay must be a finite number ≥ 0, got '${v['lr-decay']}'`);
    set('lrDecay', d);
  }
  if (v.beta1 !== undefined) set('beta1', beta('beta1', v.beta1));
  if (v.beta2 !== undefined) set('beta2', beta('beta2', v.beta2));
  if (v.activation !== undefined) set('activation', oneOf<Activation>('activation', v.activation, ACTIVATIONS));
  if (v.init !== undefined) set('init', oneOf<InitKind>('init', v.init, INIT_KINDS));
  if (v.data !== undefined) {
    if (v.data.trim() === '') fail('--data must name a folder or a CSV file');
    set('data', v.data);
  }
  if (v.predict !== undefined) {
    if (v.predict.trim() === '') fail('--predict must name a CSV file');
    set('predict', v.predict);
  }
  if (v.submission !== undefined) {
    if (v.submission.trim() === '' || v.submission.endsWith('/')) fail('--submission must name a file');
    set('submission', v.submission);
  }
  if (v.limit !== undefined) set('limit', positiveInt('limit', v.limit));
  if (v['test-limit'] !== undefined) set('testLimit', positiveInt('test-limit', v['test-limit']));
  if (v['eval-every'] !== undefined) set('evalEvery', positiveInt('eval-every', v['eval-every']));
  if (v.sweep !== undefined) {
    oneOf('sweep', v.sweep, ['lr']);
    set('sweep', SWEEP_SCALES);
  }
  if (v.threads !== undefined) set('threads', threadCount('threads', v.threads));
  const out = v.out ?? 'reports';
  if (out.trim() === '') fail('--out must name a folder');
  return { plan, out, help: v.help === true };
}

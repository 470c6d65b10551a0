/**
 * The presets: plans with names (the Plan type is part of the results contract, src/results/plan.ts). Data
 * only: no trainer is built here (src/harness/make.ts builds them), so the CLI can list presets without
 * loading tfjs.
 */
import type { Plan, PresetName } from '../results/plan.ts';

const base: Omit<Plan, 'preset'> = {
  seeds: [1, 2, 3],
  trainers: ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'],
  batch: 64,
  epochs: 5,
  lr: 0.1,
  adamLr: 0.001,
  lrDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  layers: [10],
  keep: [1],
  activation: 'relu',
  init: 'uniform',
  backend: 'auto',
  evalEvery: 0,
  probe: 1000,
  agreementPoints: 4,
  threads: 0,
};

/** The deep notebook's recipe: 784 → 400 → 100 → 10, He init, Adam (α 0.005, β1 0.8, β2 0.999), dropout keep 0.4 / 0.5, decay 1e-5, batch 256. */
const deep: Omit<Plan, 'preset'> = {
  ...base,
  seeds: [1],
  // Without the native backend, tfjs-sgd is left out and one seed runs: on wasm a tfjs step takes ~85 ms at
  // this size, and the run must stay under 10 minutes on 2 cores (add it back with --trainers); tfjs-adam is
  // the deep notebook's recipe, and the SGD pair is still checked by scratch-gd vs scratch-simd-gd. With
  // native, resolvePreset puts tfjs-sgd back and runs 3 seeds.
  trainers: ['scratch-gd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'],
  layers: [400, 100],
  keep: [0.4, 0.5],
  init: 'he',
  adamLr: 0.005,
  beta1: 0.8,
  beta2: 0.999,
  lrDecay: 1e-5,
  batch: 256,
  epochs: 10,
  evalEvery: 234, // one curve point per epoch (60,000 / 256 = 234 steps): evaluating a 400-unit net is not free
  agreementPoints: 3,
  probe: 500,
};

export const DEEP_EPOCHS = deep.epochs;
/** worker threads of the hand-written trainers in the deep preset with native */
export const DEEP_NATIVE_THREADS = 2;

export const PRESETS: Record<PresetName, Plan> = {
  /** a few epochs of mini-batches, 3 seeds, every trainer: the committed report */
  default: { ...base, preset: 'default' },
  /** the notebook: full-batch gradient descent, α = 0.10, 500 iterations, accuracy every 10 */
  notebook: { ...base, preset: 'notebook', seeds: [1], batch: 'full', epochs: 500, evalEvery: 10, adamLr: 0.01 },
  /** seconds: for tests and a first look */
  smoke: { ...base, preset: 'smoke', seeds: [1], batch: 10, epochs: 1, limit: 2000, testLimit: 1000, probe: 100, agreementPoints: 2, adamLr: 0.01 },
  /** the deep notebook's network and recipe */
  deep: { ...deep, preset: 'deep' },
  /** the deep preset in seconds: for tests */
  'deep-smoke': { ...deep, preset: 'deep-smoke', epochs: 1, evalEvery: 2, limit: 2048, testLimit: 500, probe: 50, agreementPoints: 1 },
};

/**
 * A preset as it runs here: `native` says whether tfjs will run on the native backend ('tensorflow': forced,
 * or `auto` with @tensorflow/tfjs-node installed). Only the deep preset depends on it: with native it runs
 * 3 seeds with every trainer (a tfjs step is ~4× faster than on wasm, so paired intervals fit in the time
 * budget); without, 1 seed and no tfjs-sgd. Deterministic in its two inputs; the plan table shows the result.
 *
 * With native, the hand-written trainers also run their steps on 2 worker threads (weights bit-identical to
 * none; TensorFlow's own pools use both cores too), and a curve point comes every 2 epochs: measured on a
 * busy machine, the plain-TS trainers' steps took 60% of a seed's time and evaluation is not free.
 */
export function resolvePreset(name: PresetName, native: boolean): Plan {
  const p = PRESETS[name];
  const plan: Plan = { ...p, seeds: [...p.seeds], trainers: [...p.trainers], layers: [...p.layers], keep: [...p.keep] };
  if (name === 'deep' && native) {
    plan.seeds = [...base.seeds];
    plan.trainers = [...base.trainers];
    plan.threads = DEEP_NATIVE_THREADS;
    plan.evalEvery = 2 * deep.evalEvery;
  }
  return plan;
}

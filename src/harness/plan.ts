/**
 * A plan: which trainers, which seeds, which schedule, which network. Presets are plans with names; the
 * CLI only turns flags into a Plan, and the harness only runs Plans.
 */
import type { Activation, Trainer } from '../core/types.ts';
import type { InitKind } from '../core/init.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { createTfjsTrainer } from '../tfjs/network.ts';
import { netSizes } from '../core/types.ts';
import { makeScratchTrainer } from './scratch-trainers.ts';
import { decayedLr, isAdamTrainer, isScratchTrainer, TRAINER_IDS, trainerLr, TWINS, type TrainerId } from './trainers.ts';

export { decayedLr, isAdamTrainer, isScratchTrainer, TRAINER_IDS, trainerLr, TWINS, type TrainerId };


export interface Plan {
  /** the preset the plan started from (flags may have changed it; the command line is in the results) */
  preset: PresetName;
  seeds: number[];
  trainers: TrainerId[];
  /** samples per step, or 'full' (every step sees the whole training set, as the notebook) */
  batch: number | 'full';
  /** passes over the training set (for full batch, one pass = one iteration) */
  epochs: number;
  /** total steps, overriding epochs when set */
  iterations?: number;
  /** learning rate of the gradient-descent trainers (scratch-gd, tfjs-sgd), at epoch 0 */
  lr: number;
  /** learning rate of the Adam trainers, at epoch 0 */
  adamLr: number;
  /** learning-rate decay: epoch e (from 0) trains at α0 / (1 + lrDecay·e), for every trainer */
  lrDecay: number;
  /** Adam's β1 and β2 (ε is tfjs's default, 1e-7) */
  beta1: number;
  beta2: number;
  /** hidden-layer widths: [10] is the notebook's 784 → 10 → 10, [400, 100] the deep seed's */
  layers: number[];
  /** keep probability of inverted dropout, per hidden layer (1 = no dropout) */
  keep: number[];
  activation: Activation;
  init: InitKind;
  backend: 'auto' | BackendName;
  /** a learning-curve point every this many steps (0 = about 20 points) */
  evalEvery: number;
  /** train on the first N training images only */
  limit?: number;
  /** test on the first N test images only */
  testLimit?: number;
  /** --data: a directory of IDX files or a Kaggle CSV; absent = embedded MNIST */
  data?: string;
  /** --predict: a Kaggle CSV of images to predict (else an unlabelled test.csv beside --data's train.csv) */
  predict?: string;
  /** --submission: write the most accurate run's predictions of those images as a Kaggle submission CSV */
  submission?: string;
  /** samples in the fixed probe batch used for gradient agreement */
  probe: number;
  /** gradient-agreement checkpoints along the scratch trajectory, besides the initial weights */
  agreementPoints: number;
  /** learning-rate sweep: multipliers of lr / adamLr to run, absent = no sweep */
  sweep?: number[];
  /** worker threads for the scratch trainers' steps (0: on the calling thread); results are bit-identical */
  threads: number;
}

export const PRESET_NAMES = ['default', 'notebook', 'smoke', 'deep', 'deep-smoke'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

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

/** The deeper seed's recipe: 784 → 400 → 100 → 10, He init, Adam (α 0.005, β1 0.8, β2 0.999), dropout keep 0.4 / 0.5, decay 1e-5, batch 256. */
const deep: Omit<Plan, 'preset'> = {
  ...base,
  seeds: [1],
  // tfjs-sgd is left out: at this size a tfjs step takes ~85 ms, and the run must stay under 10 minutes
  // on 2 cores (add it back with --trainers); tfjs-adam is the seed's recipe, and the SGD pair is still
  // checked by scratch-gd vs scratch-simd-gd
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

export const PRESETS: Record<PresetName, Plan> = {
  /** a few epochs of mini-batches, 3 seeds, every trainer: the committed report */
  default: { ...base, preset: 'default' },
  /** the seed notebook: full-batch gradient descent, α = 0.10, 500 iterations, accuracy every 10 */
  notebook: { ...base, preset: 'notebook', seeds: [1], batch: 'full', epochs: 500, evalEvery: 10, adamLr: 0.01 },
  /** seconds: for tests and a first look */
  smoke: { ...base, preset: 'smoke', seeds: [1], batch: 10, epochs: 1, limit: 2000, testLimit: 1000, probe: 100, agreementPoints: 2, adamLr: 0.01 },
  /** the deeper seed's network and recipe */
  deep: { ...deep, preset: 'deep' },
  /** the deep preset in seconds: for tests */
  'deep-smoke': { ...deep, preset: 'deep-smoke', epochs: 1, evalEvery: 2, limit: 2048, testLimit: 500, probe: 50, agreementPoints: 1 },
};

export function makeTrainer(id: TrainerId, plan: Plan, lrScale = 1): Trainer {
  if (isScratchTrainer(id)) return makeScratchTrainer(id, plan, lrScale);
  const lr = trainerLr(id, plan) * lrScale;
  const sizes = netSizes(plan.layers);
  return id === 'tfjs-sgd'
    ? createTfjsTrainer({ optimizer: 'sgd', lr, activation: plan.activation, sizes })
    : createTfjsTrainer({ optimizer: 'adam', lr, beta1: plan.beta1, beta2: plan.beta2, activation: plan.activation, sizes });
}

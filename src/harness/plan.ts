/**
 * A plan: which trainers, which seeds, which schedule. Presets are plans with names; the CLI only turns
 * flags into a Plan, and the harness only runs Plans.
 */
import type { Activation, Trainer } from '../core/types.ts';
import type { InitKind } from '../core/init.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { createScratchTrainer } from '../scratch/network.ts';
import { createScratchAdamTrainer } from '../scratch/adam.ts';
import { createTfjsTrainer } from '../tfjs/network.ts';

export const TRAINER_IDS = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam'] as const;
export type TrainerId = (typeof TRAINER_IDS)[number];
export const isAdamTrainer = (t: TrainerId): boolean => t.endsWith('-adam');

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
  /** learning rate of the gradient-descent trainers (scratch-gd, tfjs-sgd) */
  lr: number;
  /** learning rate of the Adam trainers */
  adamLr: number;
  hidden: number;
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
  /** samples in the fixed probe batch used for gradient agreement */
  probe: number;
  /** gradient-agreement checkpoints along the scratch trajectory, besides the initial weights */
  agreementPoints: number;
  /** learning-rate sweep: multipliers of lr / adamLr to run (issue 7), absent = no sweep */
  sweep?: number[];
  /** worker threads for scratch-gd's steps (0: on the calling thread); results are bit-identical */
  threads: number;
}

export const PRESET_NAMES = ['default', 'notebook', 'smoke'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const base: Omit<Plan, 'preset'> = {
  seeds: [1, 2, 3],
  trainers: ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam'],
  batch: 64,
  epochs: 5,
  lr: 0.1,
  adamLr: 0.001,
  hidden: 10,
  activation: 'relu',
  init: 'uniform',
  backend: 'auto',
  evalEvery: 0,
  probe: 1000,
  agreementPoints: 4,
  threads: 0,
};

export const PRESETS: Record<PresetName, Plan> = {
  /** a few epochs of mini-batches, 3 seeds, every trainer: the committed report */
  default: { ...base, preset: 'default' },
  /** the seed notebook: full-batch gradient descent, α = 0.10, 500 iterations, accuracy every 10 */
  notebook: { ...base, preset: 'notebook', seeds: [1], batch: 'full', epochs: 500, evalEvery: 10, adamLr: 0.01 },
  /** seconds: for tests and a first look */
  smoke: { ...base, preset: 'smoke', seeds: [1], batch: 10, epochs: 1, limit: 2000, testLimit: 1000, probe: 100, agreementPoints: 2, adamLr: 0.01 },
};

export function makeTrainer(id: TrainerId, plan: Plan, lrScale = 1): Trainer {
  const activation = plan.activation;
  const lr = plan.lr * lrScale;
  const adamLr = plan.adamLr * lrScale;
  switch (id) {
    case 'scratch-gd':
      return createScratchTrainer({ lr, activation, threads: plan.threads });
    case 'scratch-adam':
      return createScratchAdamTrainer({ lr: adamLr, activation });
    case 'tfjs-sgd':
      return createTfjsTrainer({ optimizer: 'sgd', lr, activation, hidden: plan.hidden });
    case 'tfjs-adam':
      return createTfjsTrainer({ optimizer: 'adam', lr: adamLr, activation, hidden: plan.hidden });
  }
}

export function trainerLr(id: TrainerId, plan: Plan): number {
  return isAdamTrainer(id) ? plan.adamLr : plan.lr;
}

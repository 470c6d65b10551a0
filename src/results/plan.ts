/**
 * A plan: which trainers, which seeds, which schedule, which network. Presets are plans with names
 * (src/harness/plan.ts); the CLI only turns flags into a Plan, the harness only runs Plans, and every
 * results JSON records the Plan it ran.
 */
import type { BackendName } from '../core/backends.ts';
import type { InitKind } from '../core/init.ts';
import type { Activation } from '../core/types.ts';
import type { TrainerId } from './trainers.ts';

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
  /** hidden-layer widths: [10] is the notebook's 784 → 10 → 10, [400, 100] the deep notebook's */
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

/**
 * The results JSON: everything a report needs, nothing it has to recompute from training.
 * Versioned: a change of meaning bumps RESULTS_VERSION; src/harness/results.schema.json is its JSON Schema.
 *
 * Determinism contract: for the same plan, data, seed and backend, everything except `environment.date`,
 * `environment.commit`-independent fields aside, and the `timing` objects is identical between runs.
 */
import type { Agreement } from '../core/metrics.ts';
import type { ParamName } from '../core/types.ts';
import type { BackendInfo } from '../tfjs/backend.ts';
import type { Plan, TrainerId } from './plan.ts';

export const RESULTS_SCHEMA = 'mnist-duel/results';
export const RESULTS_VERSION = 1;

/** Thresholds of the gradient-agreement check (issue 4), applied per tensor. */
export const AGREEMENT_THRESHOLDS = { relL2: 1e-5, maxAbsRel: 1e-5, cosineMin: 1 - 1e-6 } as const;

/**
 * A run has diverged when a step's batch-mean loss is NaN, ±Infinity, or above this many nats: a mean
 * probability of e^-100 on the true class. Guessing uniformly costs ln 10 ≈ 2.3 and the notebook's
 * initial weights ≈ 3.6; stable softmax implementations (both of ours) keep an exploding loss finite,
 * so "not finite" alone would miss a blown-up run that has merely saturated.
 */
export const DIVERGENCE_LOSS = 100;

export interface Environment {
  node: string;
  os: string;
  cpu: string;
  cores: number;
  tfjs: BackendInfo | null;
  commit: string | null; // git HEAD, '+dirty' appended when the work tree has changes
  command: string;
  date: string; // ISO 8601
}

export interface CurvePoint {
  step: number;
  epoch: number; // fractional epochs seen so far
  loss: number; // mean training-batch loss over the steps since the previous point (step 0: loss at init)
  trainAcc: number; // on the curve's fixed training subset (see `dataset.curveTrainSamples`): all of it for full batch
  testAcc: number;
}

export interface Timing {
  warmupSteps: number; // run before timing, on a throwaway copy of the same start
  totalMs: number; // sum of timed step durations (evaluation excluded)
  stepMedianMs: number;
  stepP25Ms: number;
  stepP75Ms: number;
  samplesPerSec: number;
}

/** A test image the trainer got wrong, with the probability it gave its (wrong) prediction. */
export interface WrongItem {
  index: number; // into the test set
  label: number;
  pred: number;
  confidence: number;
}

export interface Run {
  trainer: TrainerId;
  seed: number;
  lr: number;
  status: 'ok' | 'diverged';
  /** set when status is 'diverged': the first step whose loss was not finite or above DIVERGENCE_LOSS */
  diverged?: { step: number; loss: number | string };
  stepsDone: number;
  curve: CurvePoint[];
  final: { trainAcc: number; testAcc: number } | null;
  /** test-set predictions summary: confusion[true][predicted] */
  confusion: number[][] | null;
  timing: Timing;
  /** first seed only: predictions for `gallery.indices`, and the most confidently wrong test images */
  gallery?: { predictions: number[]; wrong: WrongItem[] };
}

export type TensorAgreement = Record<ParamName, { scratchVsTfjs: Agreement; scratchVsF64: Agreement; tfjsVsF64: Agreement }>;

export interface AgreementPoint {
  seed: number;
  step: number; // 0 = initial weights; otherwise scratch-gd's weights after this many steps
  loss: { scratch: number; tfjs: number; f64: number };
  tensors: TensorAgreement;
  pass: boolean;
}

export interface DriftPoint {
  step: number;
  relL2: Record<ParamName, number>; // ‖W_tfjs − W_scratch‖ / ‖W_scratch‖ per tensor
}

export interface Drift {
  seed: number;
  lr: number;
  points: DriftPoint[];
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  version: typeof RESULTS_VERSION;
  plan: Plan & { steps: number; stepsPerEpoch: number; batchSize: number };
  dataset: { name: string; source: string; train: number; test: number; curveTrainSamples: number };
  environment: Environment;
  thresholds: typeof AGREEMENT_THRESHOLDS & { divergenceLoss: number };
  runs: Run[];
  agreement: AgreementPoint[];
  drift: Drift[];
  /** a fixed seeded sample of test images shown with every trainer's predictions (first seed) */
  gallery: { seed: number; indices: number[]; labels: number[] };
  sweep?: SweepResult[];
}

export interface SweepResult {
  trainer: TrainerId;
  seed: number;
  scale: number; // multiple of the plan's learning rate for this trainer
  lr: number;
  status: 'ok' | 'diverged';
  testAcc: number | null;
}

/**
 * The results JSON: everything a report needs, nothing it has to recompute from training.
 * Versioned: a change of meaning bumps RESULTS_VERSION; results.schema.json beside it is its JSON Schema.
 *
 * Determinism contract: for the same plan, data, seed and backend, everything except `environment.date`,
 * `environment.commit`-independent fields aside, and the `timing` objects is identical between runs.
 */
import type { Agreement } from '../core/metrics.ts';
import type { BackendInfo, BackendName } from '../core/backends.ts';
import type { Plan } from './plan.ts';
import type { TrainerId } from './trainers.ts';

export const RESULTS_SCHEMA = 'mnist-duel/results';
/** 2: networks are layer lists (plan.layers, keep, lrDecay, beta1/beta2; per-tensor lists W1 b1 W2 b2 …; drift per twin pair) */
export const RESULTS_VERSION = 2;

/** Thresholds of the gradient-agreement check, applied per tensor and per pair of implementations. */
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
  /** which build scratch-simd ran (src/simd/build.ts): relaxed SIMD (fused multiply-adds) or plain 128-bit; absent in older results */
  simd?: 'relaxed' | 'plain';
  /** the primary tfjs backend: tfjs-sgd / tfjs-adam and the gradient-agreement checks ran on it */
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
  /** where the steps ran: 'calling thread', or e.g. '2 worker threads' */
  ranOn: string;
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
  /** tfjs-sgd / tfjs-adam: on the primary backend (environment.tfjs); tfjs-sgd@wasm …: on the backend named */
  trainer: TrainerId;
  /** tfjs trainers: the backend this run's steps ran on (absent for the hand-written trainers) */
  backend?: BackendName;
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

/** The implementations whose gradients are compared at each checkpoint. */
export const IMPLEMENTATIONS = ['scratch', 'simd', 'tfjs', 'f64'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

/** One tensor at one checkpoint: each implementation against the float64 reference, scratch vs tfjs, simd vs scratch. */
export interface TensorAgreement {
  tensor: string; // W1, b1, W2, …
  scratchVsTfjs: Agreement;
  scratchVsF64: Agreement;
  tfjsVsF64: Agreement;
  simdVsF64: Agreement;
  simdVsScratch: Agreement;
}

/** The pairs of a TensorAgreement, each held to the thresholds. */
export const AGREEMENT_PAIRS = ['scratchVsTfjs', 'scratchVsF64', 'tfjsVsF64', 'simdVsF64', 'simdVsScratch'] as const;

export interface AgreementPoint {
  seed: number;
  step: number; // 0 = initial weights; otherwise scratch-gd's weights after this many steps
  dropout: boolean; // gradients taken with the probe's dropout masks
  loss: Record<Implementation, number>;
  tensors: TensorAgreement[];
  pass: boolean; // every tensor and pair within the thresholds
}

export interface DriftPoint {
  step: number;
  relL2: Record<string, number>; // per tensor: ‖W_b − W_a‖ / ‖W_b‖
}

/** Twin trainers (same math, same init, same batches and masks) along their trajectories. */
export interface Drift {
  seed: number;
  pair: [TrainerId, TrainerId]; // a: hand-written, b: its twin (tfjs, or plain TS for the SIMD trainers)
  lr: number;
  points: DriftPoint[];
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  version: typeof RESULTS_VERSION;
  plan: Plan & { steps: number; stepsPerEpoch: number; batchSize: number; sizes: number[] };
  /** W1 b1 W2 b2 …: the order of every per-tensor list */
  tensors: string[];
  dataset: { name: string; source: string; train: number; test: number; curveTrainSamples: number };
  environment: Environment;
  thresholds: typeof AGREEMENT_THRESHOLDS & { divergenceLoss: number };
  runs: Run[];
  agreement: AgreementPoint[];
  drift: Drift[];
  /** a fixed seeded sample of test images shown with every trainer's predictions (first seed) */
  gallery: { seed: number; indices: number[]; labels: number[] };
  sweep?: SweepResult[];
  /** the Kaggle submission written with this report: which run's predictions, of which images */
  submission?: Submission;
}

export interface Submission {
  file: string; // as given to --submission
  images: number; // rows written (one per unlabelled image)
  source: string; // where the images came from
  trainer: TrainerId; // the most accurate run: highest final test accuracy (ties: plan order, then seed order)
  seed: number;
  testAcc: number;
}

export interface SweepResult {
  trainer: TrainerId;
  seed: number;
  scale: number; // multiple of the plan's learning rate for this trainer
  lr: number;
  status: 'ok' | 'diverged';
  testAcc: number | null;
}

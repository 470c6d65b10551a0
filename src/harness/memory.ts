/**
 * How much memory a plan needs, estimated before anything is allocated, so a plan that cannot fit is
 * refused at once (with the estimate) instead of after minutes and gigabytes. The estimate adds up what
 * the harness holds at its peak, for P parameters (float32) and the plan's batch:
 *
 * - the data: train + test images as float32, twice (the hand-written trainers' worker reads a shared copy);
 * - the trainer alive at the time (trainers run one after another): parameters, gradients, optimizer
 *   state (Adam: two moments), the gradient sums of its workspace (float64, two sets) and the batch's
 *   activations, the largest of the plan's trainers;
 * - worker threads (--threads N): each a V8 isolate (~THREAD_BASE bytes) with a workspace of its own;
 * - the weights kept for the drift tables and agreement checks: every trainer's snapshots of one seed;
 * - the agreement checks on the probe batch: four gradient computations alive at once, one of them in
 *   float64, with their activations.
 *
 * It leaves out the process itself (Node, tfjs, ~150–250 MB), which does not depend on the plan. The test
 * (test/harness/memory.test.ts) checks the estimate against the peak memory of real runs.
 */
import { totalmem } from 'node:os';
import { UserError } from '../core/errors.ts';
import { INPUT, netSizes } from '../core/types.ts';

/** The part of a plan the estimate reads (a Plan or a resolved plan). */
export interface PlanShape {
  layers: number[];
  trainers: readonly string[];
  batch: number | 'full';
  threads: number;
  probe: number;
  agreementPoints: number;
  epochs: number;
  iterations?: number;
  limit?: number;
  testLimit?: number;
}

export const THREAD_BASE = 24 * 2 ** 20; // a worker thread's own isolate, measured ~20–26 MB
const SNAPSHOTS = 10; // DRIFT_POINTS in run.ts: weights kept per trainer and seed

/** The bound: half of this machine's memory (os.totalmem()). */
export function memoryBound(): number {
  return totalmem() / 2;
}

export interface MemoryEstimate {
  bytes: number;
  params: number;
  parts: Record<string, number>;
}

/** The estimate for `plan` on `train` training and `test` test images. */
export function estimateMemory(plan: PlanShape, train: number, test: number): MemoryEstimate {
  const sizes = netSizes(plan.layers);
  let params = 0;
  let widths = 0;
  for (let l = 1; l < sizes.length; l++) {
    params += sizes[l - 1] * sizes[l] + sizes[l];
    widths += sizes[l];
  }
  const m = plan.limit !== undefined ? Math.min(plan.limit, train) : train;
  const n = plan.testLimit !== undefined ? Math.min(plan.testLimit, test) : test;
  const batch = plan.batch === 'full' ? m : Math.min(plan.batch, m);
  const adam = plan.trainers.some((t) => t.endsWith('adam'));
  const f32 = 4, f64 = 8;
  // float32 parameters and gradients, float64 sums (two sets), Adam's two float32 moments
  const trainerState = params * (2 * f32 + 2 * f64 + (adam ? 2 * f32 : 0));
  // a batch's activations, forward and backward (three arrays per layer), float32 in tfjs, plus its input
  const activations = batch * (3 * widths * f32 + INPUT * f32);
  const threads = plan.threads * (THREAD_BASE + params * 2 * f64);
  const steps = plan.iterations ?? plan.epochs * Math.max(1, Math.floor(m / batch));
  const snapshots = plan.trainers.length * Math.min(SNAPSHOTS, steps) * params * f32;
  const probe = Math.min(plan.probe, m);
  // the hand-written and SIMD gradients each with float64 sums (two sets) and float32 parameters and
  // gradients, tfjs with three float32 copies, the float64 reference with three float64 copies
  const agreement = params * (2 * (2 * f64 + 2 * f32) + 3 * f32 + 3 * f64) + probe * widths * 3 * (3 * f32 + f64);
  const data = 2 * (m + n) * (INPUT * f32 + 1);
  const parts = { data, trainer: trainerState + activations, threads, snapshots, agreement };
  return { bytes: Object.values(parts).reduce((a, b) => a + b, 0), params, parts };
}

export const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(b / 2 ** 20)} MiB`);

/** Refuses a plan whose estimate is over memoryBound(), naming the estimate and its largest parts. */
export function checkPlanMemory(plan: PlanShape, train: number, test: number, bound = memoryBound()): MemoryEstimate {
  const e = estimateMemory(plan, train, test);
  if (e.bytes > bound) {
    const big = Object.entries(e.parts).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${gib(v)}`).join(', ');
    throw new UserError(
      `the plan needs about ${gib(e.bytes)} of memory (${e.params.toLocaleString('en-US')} parameters; ${big}), ` +
        `more than the bound of ${gib(bound)} (half of this machine's ${gib(totalmem())}): use narrower or fewer --layers, a smaller --batch, fewer --trainers or --threads`,
    );
  }
  return e;
}

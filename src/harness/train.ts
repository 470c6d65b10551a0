/**
 * One trainer's run, measured: the part of the harness that can run anywhere, on the main thread (tfjs) or
 * in the scratch trainers' own worker thread (isolate.ts). It loads no tfjs.
 */
import { maskStream, usesDropout, type MaskStream } from '../core/dropout.ts';
import { accuracy, confusion, quantile } from '../core/metrics.ts';
import { makeSchedule } from '../core/schedule.ts';
import { CLASSES, type Batch, type Params, type Trainer } from '../core/types.ts';
import type { Dataset } from '../data/index.ts';
import { probabilities } from '../scratch/network.ts';
import { DIVERGENCE_LOSS, type CurvePoint, type Results, type Run, type WrongItem } from '../results/results.ts';
import { decayedLr, trainerLr } from './trainers.ts';
import { isScratchTrainer, type TrainerId } from '../results/trainers.ts';

export type ResolvedPlan = Results['plan'];

export interface ProgressEvent {
  label: string; // e.g. "seed 1 · tfjs-adam"
  done: number;
  total: number;
}

/** What a run needs from its caller: progress, and a signal checked between steps. */
export interface TrainRunOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** checked between steps; a run that is told to stop throws and writes nothing */
  signal?: AbortSignal;
}

export const WARMUP_STEPS = 5;
const GALLERY_WRONG = 16;

/**
 * Where a trainer's steps run, as the reports say it: tfjs on the calling thread; the hand-written
 * trainers in a worker thread of their own (`isolated`), or on N worker threads of a pool.
 */
export function ranOn(id: TrainerId, plan: { threads: number }, isolated: boolean): string {
  if (!isScratchTrainer(id)) return 'calling thread';
  if (plan.threads > 0) return `${plan.threads} worker thread${plan.threads > 1 ? 's' : ''}`;
  return isolated ? 'own worker thread' : 'calling thread';
}

const lossJson = (l: number): number | string => (Number.isFinite(l) ? l : String(l));

function stats(ms: number[], batchSize: number, warmupSteps: number, where: string): Run['timing'] {
  const totalMs = ms.reduce((a, b) => a + b, 0);
  return {
    ranOn: where,
    warmupSteps,
    totalMs,
    stepMedianMs: quantile(ms, 0.5),
    stepP25Ms: quantile(ms, 0.25),
    stepP75Ms: quantile(ms, 0.75),
    // at the median step time, as `npm run bench` reports it (the mean is in totalMs)
    samplesPerSec: ms.length > 0 ? (batchSize * 1000) / quantile(ms, 0.5) : 0,
  };
}

export interface TrainerRun {
  run: Run;
  snapshots: Map<number, Params>; // step → weights after that step, at the snapshot steps
  unlabelled?: Uint8Array; // predictions of TrainOptions.unlabelled
}

export interface TrainOptions {
  /** the steps after which to keep a copy of the weights (for drift and agreement) */
  snapshotAt: Set<number>;
  label: string;
  lrScale?: number;
  /** learning-curve points (false: only the final evaluation, for sweeps) */
  curve?: boolean;
  /** test indices whose predictions the gallery shows (absent: no gallery data for this run) */
  gallery?: number[];
  /** images whose predictions to keep (for a Kaggle submission) */
  unlabelled?: { x: Float32Array; m: number };
}

/** The `k` test images predicted wrongly with the highest probability, from m×10 probabilities. */
export function mostConfidentlyWrong(probs: Float32Array, y: Uint8Array, k: number): WrongItem[] {
  const wrong: WrongItem[] = [];
  for (let i = 0; i < y.length; i++) {
    let pred = 0;
    for (let c = 1; c < CLASSES; c++) if (probs[i * CLASSES + c] > probs[i * CLASSES + pred]) pred = c;
    if (pred !== y[i]) wrong.push({ index: i, label: y[i], pred, confidence: probs[i * CLASSES + pred] });
  }
  return wrong.sort((a, b) => b.confidence - a.confidence || a.index - b.index).slice(0, k);
}

/**
 * One run of one trainer: a warm-up pass from the same start (not timed), then the timed steps over the
 * seed's batches (and dropout masks), learning-curve points, the final evaluation. The trainer is made by
 * the caller (here or in the scratch isolate, see isolate.ts) and disposed here.
 */
export async function trainOne(t: Trainer, where: string, id: TrainerId, plan: ResolvedPlan, data: Dataset, seed: number, init: Params, curveTrain: Batch, opts: TrainRunOptions, o: TrainOptions): Promise<TrainerRun> {
  const { steps } = plan;
  const { snapshotAt, lrScale = 1 } = o;
  const evalEvery = o.curve === false ? steps : plan.evalEvery;
  // a hand-written trainer on worker threads reads its batches in place from shared memory
  const spec = { batch: plan.batch, steps, shared: isScratchTrainer(id) && plan.threads > 0 };
  const lr = trainerLr(id, plan) * lrScale;
  const snapshots = new Map<number, Params>();
  // the same masks for every trainer at the same step: a fresh stream per pass
  const masksOf = (): MaskStream | null => (usesDropout(plan.keep) ? maskStream(seed, plan.layers, plan.keep) : null);
  const epochLr = (s: number) => decayedLr(lr, plan.lrDecay, Math.floor(s / plan.stepsPerEpoch));
  try {
    // Warm-up on a throwaway pass from the same start, so JIT and wasm compilation are not timed.
    const warm = makeSchedule(data.train, seed, spec);
    const warmMasks = masksOf();
    const warmupSteps = Math.min(WARMUP_STEPS, steps);
    opts.onProgress?.({ label: o.label, done: 0, total: steps }); // a run has started (its first step may be long)
    await t.load(init);
    for (let s = 0; s < warmupSteps; s++) {
      opts.signal?.throwIfAborted();
      const b = warm.batch(s);
      await t.step(b, warmMasks?.masks(s, b.m));
    }
    await t.load(init);
    t.setLearningRate(lr);

    const sched = makeSchedule(data.train, seed, spec);
    const dropout = masksOf();
    let rate = lr;
    const evalAt = async (step: number, loss: number): Promise<CurvePoint> => ({
      step,
      epoch: (step * plan.batchSize) / data.train.m,
      loss,
      trainAcc: accuracy(await t.predict(curveTrain.x, curveTrain.m), curveTrain.y),
      testAcc: accuracy(await t.predict(data.test.x, data.test.m), data.test.y),
    });
    const curve: CurvePoint[] = [await evalAt(0, NaN)];
    const ms: number[] = [];
    let lossSum = 0, lossN = 0;
    let diverged: Run['diverged'];
    let lastYield = performance.now();
    for (let s = 0; s < steps; s++) {
      // Steps are synchronous underneath; let the event loop run now and then so Ctrl-C is seen.
      if (performance.now() - lastYield > 50) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (opts.signal?.aborted) throw new Error('interrupted');
      const b = sched.batch(s);
      const masks = dropout?.masks(s, b.m);
      const r = epochLr(s);
      if (r !== rate) t.setLearningRate((rate = r));
      const t0 = performance.now();
      const loss = await t.step(b, masks);
      ms.push(performance.now() - t0);
      if (s === 0) curve[0].loss = loss; // the first batch's loss at the initial weights
      if (!(Number.isFinite(loss) && loss <= DIVERGENCE_LOSS)) {
        diverged = { step: s + 1, loss: lossJson(loss) };
        break;
      }
      lossSum += loss;
      lossN++;
      const done = s + 1;
      if (done % evalEvery === 0 || done === steps) {
        curve.push(await evalAt(done, lossSum / lossN));
        lossSum = lossN = 0;
      }
      if (snapshotAt.has(done)) snapshots.set(done, await t.read());
      opts.onProgress?.({ label: o.label, done, total: steps });
    }
    let final: Run['final'] = null;
    let conf: Run['confusion'] = null;
    let gallery: Run['gallery'];
    let unlabelled: Uint8Array | undefined;
    if (!diverged) {
      opts.signal?.throwIfAborted(); // before the evaluation, which may be long
      if (o.unlabelled) unlabelled = await t.predict(o.unlabelled.x, o.unlabelled.m);
      const testPred = await t.predict(data.test.x, data.test.m);
      final = { trainAcc: accuracy(await t.predict(data.train.x, data.train.m), data.train.y), testAcc: accuracy(testPred, data.test.y) };
      conf = confusion(testPred, data.test.y);
      if (o.gallery) {
        // Confidence comes from the same forward pass for every trainer (the scratch one, on the
        // trainer's final weights), so the wrong-digit gallery ranks all trainers alike.
        const probs = probabilities(await t.read(), data.test.x, data.test.m, { activation: plan.activation });
        gallery = { predictions: o.gallery.map((i) => testPred[i]), wrong: mostConfidentlyWrong(probs, data.test.y, GALLERY_WRONG) };
      }
    }
    return {
      run: {
        trainer: id,
        seed,
        lr,
        status: diverged ? 'diverged' : 'ok',
        ...(diverged ? { diverged } : {}),
        stepsDone: ms.length,
        curve,
        final,
        confusion: conf,
        timing: stats(ms, plan.batchSize, warmupSteps, where),
        ...(gallery ? { gallery } : {}),
      },
      snapshots,
      unlabelled,
    };
  } finally {
    t.dispose();
  }
}


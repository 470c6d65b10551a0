/**
 * Runs a plan: trainers × seeds × schedule, all from the same initial Params and the same batches per seed,
 * and measures accuracy, time, gradient agreement and trajectory drift → Results (see results.ts).
 * Prints nothing: progress goes to the `onProgress` callback.
 */
import { execFileSync } from 'node:child_process';
import { cpus, release, type } from 'node:os';
import { maskStream, usesDropout, type MaskStream } from '../core/dropout.ts';
import { initParams } from '../core/init.ts';
import { accuracy, agreement, confusion, quantile } from '../core/metrics.ts';
import { permutation, rng } from '../core/rng.ts';
import { gather, makeSchedule, stepsForEpochs } from '../core/schedule.ts';
import { CLASSES, INPUT, netSizes, tensorNames, tensors, type Batch, type Params, type Trainer } from '../core/types.ts';
import type { Dataset } from '../data/index.ts';
import { limitBatch } from '../data/index.ts';
import { planData } from './data.ts';
import { probabilities, gradients as scratchGradients } from '../scratch/index.ts';
import { gradients64, to64 } from '../scratch/reference64.ts';
import { initBackend, type BackendInfo } from '../tfjs/backend.ts';
import { gradients as tfjsGradients } from '../tfjs/index.ts';
import { gradients as simdGradients } from '../simd/index.ts';
import { decayedLr, isScratchTrainer, makeTrainer, trainerLr, TWINS, type Plan, type TrainerId } from './plan.ts';
import {
  AGREEMENT_PAIRS,
  AGREEMENT_THRESHOLDS,
  DIVERGENCE_LOSS,
  RESULTS_SCHEMA,
  RESULTS_VERSION,
  type AgreementPoint,
  type CurvePoint,
  type Drift,
  type Environment,
  type Results,
  type Run,
  type SweepResult,
  type TensorAgreement,
  type WrongItem,
} from './results.ts';
import type { Agreement } from '../core/metrics.ts';

export interface ProgressEvent {
  label: string; // e.g. "seed 1 · tfjs-adam"
  done: number;
  total: number;
}

export interface RunOptions {
  command?: string;
  /** with plan.submission: receives the chosen run's predictions of data.unlabelled (one digit per image) */
  onSubmission?: (labels: Uint8Array) => void;
  onProgress?: (e: ProgressEvent) => void;
  /** checked between steps; a run that is told to stop throws and writes nothing */
  signal?: AbortSignal;
}

const WARMUP_STEPS = 5;
const CURVE_TRAIN_SAMPLES = 10_000;
const GALLERY_SAMPLE = 16;
const GALLERY_WRONG = 16;
const DRIFT_POINTS = 10;

export type ResolvedPlan = Results['plan'];

export function resolvePlan(plan: Plan, data: Dataset): ResolvedPlan {
  const n = data.train.m;
  const batchSize = plan.batch === 'full' ? n : Math.min(plan.batch, n);
  const batch = plan.batch === 'full' ? 'full' : batchSize;
  const steps = plan.iterations ?? stepsForEpochs(n, batch, plan.epochs);
  const evalEvery = plan.evalEvery > 0 ? plan.evalEvery : Math.max(1, Math.round(steps / 20));
  const stepsPerEpoch = batch === 'full' ? 1 : Math.floor(n / batchSize);
  return { ...plan, batch, steps, evalEvery, batchSize, stepsPerEpoch, sizes: netSizes(plan.layers) };
}

/** Where a trainer's steps run, as the reports say it. */
export function ranOn(id: TrainerId, plan: Plan): string {
  if (!isScratchTrainer(id) || plan.threads === 0) return 'calling thread';
  return `${plan.threads} worker thread${plan.threads > 1 ? 's' : ''}`;
}

export function environment(backend: BackendInfo | null, command: string): Environment {
  let commit: string | null = null;
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: new URL('../..', import.meta.url), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    commit = git('rev-parse', '--short=12', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : '');
  } catch {
    commit = null; // not a git checkout (e.g. an npm tarball)
  }
  const cpu = cpus();
  return {
    node: process.version,
    os: `${type()} ${release()} ${process.arch}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    tfjs: backend,
    commit,
    command,
    date: new Date().toISOString(),
  };
}

const rotate = <T>(xs: T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]);
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
    samplesPerSec: totalMs > 0 ? (ms.length * batchSize * 1000) / totalMs : 0,
  };
}

interface TrainerRun {
  run: Run;
  snapshots: Map<number, Params>; // step → weights after that step, at the snapshot steps
  unlabelled?: Uint8Array; // predictions of TrainOptions.unlabelled
}

interface TrainOptions {
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

async function trainOne(id: TrainerId, plan: ResolvedPlan, data: Dataset, seed: number, init: Params, curveTrain: Batch, opts: RunOptions, o: TrainOptions): Promise<TrainerRun> {
  const { steps } = plan;
  const { snapshotAt, label, lrScale = 1 } = o;
  const evalEvery = o.curve === false ? steps : plan.evalEvery;
  const spec = { batch: plan.batch, steps };
  const lr = trainerLr(id, plan) * lrScale;
  const t: Trainer = makeTrainer(id, plan, lrScale);
  const snapshots = new Map<number, Params>();
  // the same masks for every trainer at the same step: a fresh stream per pass
  const masksOf = (): MaskStream | null => (usesDropout(plan.keep) ? maskStream(seed, plan.layers, plan.keep) : null);
  const epochLr = (s: number) => decayedLr(lr, plan.lrDecay, Math.floor(s / plan.stepsPerEpoch));
  try {
    // Warm-up on a throwaway pass from the same start, so JIT and wasm compilation are not timed.
    const warm = makeSchedule(data.train, seed, spec);
    const warmMasks = masksOf();
    const warmupSteps = Math.min(WARMUP_STEPS, steps);
    await t.load(init);
    for (let s = 0; s < warmupSteps; s++) {
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
      opts.onProgress?.({ label, done, total: steps });
    }
    let final: Run['final'] = null;
    let conf: Run['confusion'] = null;
    let gallery: Run['gallery'];
    let unlabelled: Uint8Array | undefined;
    if (!diverged) {
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
        timing: stats(ms, plan.batchSize, warmupSteps, ranOn(id, plan)),
        ...(gallery ? { gallery } : {}),
      },
      snapshots,
      unlabelled,
    };
  } finally {
    t.dispose();
  }
}

function relL2Of(a: Float32Array, b: Float32Array): number {
  return agreement(a, b).relL2;
}

async function agreementAt(seed: number, step: number, p: Params, probe: Batch, masks: Float32Array[] | undefined, plan: ResolvedPlan): Promise<AgreementPoint> {
  const opts = { activation: plan.activation, masks };
  const s = scratchGradients(p, probe, opts);
  const v = simdGradients(p, probe, opts);
  const t = await tfjsGradients(p, probe, opts);
  const r = gradients64(to64(p), probe, opts);
  const names = tensorNames(p.layers.length);
  const [gs, gv, gt, gr] = [tensors(s.grads), tensors(v.grads), tensors(t.grads), r.grads.layers.flatMap((l) => [l.W, l.b])];
  const th = AGREEMENT_THRESHOLDS;
  const within = (a: Agreement) => a.relL2 <= th.relL2 && a.maxAbsRel <= th.maxAbsRel && a.cosine >= th.cosineMin;
  const list: TensorAgreement[] = names.map((tensor, i) => ({
    tensor,
    scratchVsTfjs: agreement(gs[i], gt[i]),
    scratchVsF64: agreement(gs[i], gr[i]),
    tfjsVsF64: agreement(gt[i], gr[i]),
    simdVsF64: agreement(gv[i], gr[i]),
    simdVsScratch: agreement(gv[i], gs[i]),
  }));
  const pass = list.every((x) => AGREEMENT_PAIRS.every((k) => within(x[k])));
  return { seed, step, dropout: masks !== undefined, loss: { scratch: s.loss, simd: v.loss, tfjs: t.loss, f64: r.loss }, tensors: list, pass };
}

/** Evenly spaced picks of k items from xs, always including the last. */
function spread<T>(xs: T[], k: number): T[] {
  if (k <= 0 || xs.length === 0) return [];
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, i) => xs[Math.round(((i + 1) * xs.length) / k) - 1]);
}

export async function runPlan(plan: Plan, fullData: Dataset, opts: RunOptions = {}): Promise<Results> {
  const data = planData(plan, fullData);
  const rp = resolvePlan(plan, data);
  const backend = await initBackend(rp.backend);
  const env = environment(backend, opts.command ?? ''); // the commit and date as the run starts
  // The curve's train accuracy: on the whole training set in full-batch mode (as the notebook prints it
  // every 10 iterations), else on its first 10,000 images to keep evaluation cheap.
  const curveTrain = rp.batch === 'full' ? data.train : limitBatch(data.train, Math.min(CURVE_TRAIN_SAMPLES, data.train.m));
  const runs: Run[] = [];
  const agreementPoints: AgreementPoint[] = [];
  const drift: Drift[] = [];
  const sweep: SweepResult[] = [];

  const gallerySeed = rp.seeds[0];
  const galleryIdx = Array.from(permutation(rng(gallerySeed, 'gallery'), data.test.m).subarray(0, Math.min(GALLERY_SAMPLE, data.test.m)));

  // Weights are kept after these steps, for the drift tables and the agreement checkpoints: at most
  // DRIFT_POINTS of the curve points, evenly spread, always including the last.
  const curveSteps = Array.from({ length: rp.steps }, (_, i) => i + 1).filter((s) => s % rp.evalEvery === 0 || s === rp.steps);
  const snapshotAt = new Set(spread(curveSteps, DRIFT_POINTS));
  const names = tensorNames(rp.sizes.length - 1);

  // Kaggle submission: every finished run predicts the unlabelled images; the most accurate run's are kept.
  const toPredict = rp.submission ? data.unlabelled : undefined;
  if (rp.submission && !toPredict) throw new Error('runPlan: plan.submission needs data.unlabelled');
  let chosen: { run: Run; labels: Uint8Array } | null = null;
  const better = (a: Run, b: Run | undefined) => !b || a.final!.testAcc > b.final!.testAcc; // ties: the earlier run

  for (const [si, seed] of rp.seeds.entries()) {
    const init = initParams(seed, rp.sizes, rp.init);
    const snaps = new Map<TrainerId, Map<number, Params>>();
    const finished: { run: Run; labels?: Uint8Array }[] = [];
    // Alternate which trainer runs first, so none always runs on a cold (or warm) machine.
    for (const id of rotate(rp.trainers, si)) {
      const { run, snapshots, unlabelled } = await trainOne(id, rp, data, seed, init, curveTrain, opts, {
        snapshotAt,
        label: `seed ${seed} · ${id}`,
        gallery: si === 0 ? galleryIdx : undefined,
        unlabelled: toPredict,
      });
      runs.push(run);
      if (run.status === 'ok') {
        snaps.set(id, snapshots);
        finished.push({ run, labels: unlabelled });
      }
    }
    // in plan order within the seed, so a tie goes to the trainer listed first
    for (const id of rp.trainers) {
      const f = finished.find((x) => x.run.trainer === id);
      if (f?.labels && better(f.run, chosen?.run)) chosen = { run: f.run, labels: f.labels };
    }

    // Gradient agreement on a fixed probe batch (with its own dropout masks when the plan drops): at the
    // initial weights and along scratch-gd's trajectory (or the first scratch trainer's).
    const m = Math.min(rp.probe, data.train.m);
    const probe = gather(data.train, permutation(rng(seed, 'sample'), data.train.m), 0, m, { x: new Float32Array(m * INPUT), y: new Uint8Array(m), m });
    const probeMasks = usesDropout(rp.keep) ? maskStream(seed, rp.layers, rp.keep, 'probe').masks(0, m) : undefined;
    const along = (snaps.get('scratch-gd') ?? snaps.get('scratch-adam'))?.entries();
    const points = along ? spread([...along], rp.agreementPoints) : [];
    for (const [step, p] of [[0, init] as [number, Params], ...points]) agreementPoints.push(await agreementAt(seed, step, p, probe, probeMasks, rp));

    // Trajectory drift of each tfjs trainer from its hand-written twin (same math, batches, masks, α).
    for (const [a, b] of TWINS) {
      const sa = snaps.get(a), sb = snaps.get(b);
      if (!sa || !sb) continue;
      const pts = [...sa.keys()].filter((s) => sb.has(s)).map((step) => {
        const ta = tensors(sa.get(step)!), tb = tensors(sb.get(step)!);
        const relL2: Record<string, number> = {};
        names.forEach((k, i) => (relL2[k] = relL2Of(ta[i], tb[i])));
        return { step, relL2 };
      });
      drift.push({ seed, pair: [a, b], lr: trainerLr(a, rp), points: pts });
    }

    // Learning-rate sweep: each trainer at each multiple of its learning rate, final test accuracy only.
    if (rp.sweep) {
      for (const scale of rp.sweep) {
        for (const id of rp.trainers) {
          const { run } = await trainOne(id, rp, data, seed, init, curveTrain, opts, { snapshotAt: new Set(), label: `seed ${seed} · sweep ${id} ×${scale}`, lrScale: scale, curve: false });
          sweep.push({ trainer: id, seed, scale, lr: run.lr, status: run.status, testAcc: run.final?.testAcc ?? null });
        }
      }
    }
  }

  const results: Results = {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    plan: rp,
    tensors: names,
    dataset: { name: data.name, source: data.source, train: data.train.m, test: data.test.m, curveTrainSamples: curveTrain.m },
    environment: env,
    thresholds: { ...AGREEMENT_THRESHOLDS, divergenceLoss: DIVERGENCE_LOSS },
    runs,
    agreement: agreementPoints,
    drift,
    gallery: { seed: gallerySeed, indices: galleryIdx, labels: galleryIdx.map((i) => data.test.y[i]) },
    ...(rp.sweep ? { sweep } : {}),
    ...(rp.submission && toPredict && chosen
      ? { submission: { file: rp.submission, images: toPredict.m, source: toPredict.source, trainer: chosen.run.trainer, seed: chosen.run.seed, testAcc: chosen.run.final!.testAcc } }
      : {}),
  };
  if (chosen) opts.onSubmission?.(chosen.labels);
  return results;
}

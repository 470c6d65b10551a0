/**
 * Runs a plan: trainers × seeds × schedule, all from the same initial Params and the same batches per seed,
 * and measures accuracy, time, gradient agreement and trajectory drift → Results (see results.ts).
 * Prints nothing: progress goes to the `onProgress` callback.
 */
import { execFileSync } from 'node:child_process';
import { cpus, release, type } from 'node:os';
import { maskStream, usesDropout } from '../core/dropout.ts';
import { initParams } from '../core/init.ts';
import { agreement, type Agreement } from '../core/metrics.ts';
import { permutation, rng } from '../core/rng.ts';
import { gather, stepsForEpochs } from '../core/schedule.ts';
import { INPUT, netSizes, tensorNames, tensors, type Batch, type Params } from '../core/types.ts';
import type { Dataset } from '../data/index.ts';
import { limitBatch } from '../data/index.ts';
import { planData } from './data.ts';
import { gradients as scratchGradients } from '../scratch/index.ts';
import { gradients64, to64 } from '../scratch/reference64.ts';
import { initBackend } from '../tfjs/backend.ts';
import type { BackendInfo } from '../core/backends.ts';
import { gradients as tfjsGradients } from '../tfjs/index.ts';
import { gradients as simdGradients, simdFlavour } from '../simd/index.ts';
import type { Plan } from '../results/plan.ts';
import { isScratchTrainer, trainerBackend, twinsOf, type TrainerId } from '../results/trainers.ts';
import { makeTrainer } from './make.ts';
import { trainerLr } from './trainers.ts';
import { createScratchIsolate, type ScratchIsolate } from './isolate.ts';
import { ranOn, trainOne, type ProgressEvent, type ResolvedPlan, type TrainOptions, type TrainRunOptions, type TrainerRun } from './train.ts';
import {
  AGREEMENT_PAIRS,
  AGREEMENT_THRESHOLDS,
  DIVERGENCE_LOSS,
  RESULTS_SCHEMA,
  RESULTS_VERSION,
  type AgreementPoint,
  type Drift,
  type Environment,
  type Results,
  type Run,
  type SweepResult,
  type TensorAgreement,
} from '../results/results.ts';

export type { ProgressEvent, ResolvedPlan };

export interface RunOptions extends TrainRunOptions {
  command?: string;
  /** with plan.submission: receives the chosen run's predictions of data.unlabelled (one digit per image) */
  onSubmission?: (labels: Uint8Array) => void;
  /** run the hand-written trainers in a worker thread of their own (default true; see isolate.ts) */
  isolate?: boolean;
}

const CURVE_TRAIN_SAMPLES = 10_000;
const GALLERY_SAMPLE = 16;
const DRIFT_POINTS = 10;


export function resolvePlan(plan: Plan, data: Dataset): ResolvedPlan {
  const n = data.train.m;
  const batchSize = plan.batch === 'full' ? n : Math.min(plan.batch, n);
  const batch = plan.batch === 'full' ? 'full' : batchSize;
  const steps = plan.iterations ?? stepsForEpochs(n, batch, plan.epochs);
  const evalEvery = plan.evalEvery > 0 ? plan.evalEvery : Math.max(1, Math.round(steps / 20));
  const stepsPerEpoch = batch === 'full' ? 1 : Math.floor(n / batchSize);
  return { ...plan, batch, steps, evalEvery, batchSize, stepsPerEpoch, sizes: netSizes(plan.layers) };
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
    simd: simdFlavour(),
    tfjs: backend,
    commit,
    command,
    date: new Date().toISOString(),
  };
}

const rotate = <T>(xs: T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]);

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
  // Further backends (tfjs-sgd@wasm …): each is started once now, so one that cannot run fails before any
  // training; then the primary one again. A tfjs run switches to its backend first (tf.setBackend).
  const others = [...new Set(rp.trainers.map(trainerBackend).filter((b) => b !== null))];
  for (const b of others) await initBackend(b);
  if (others.length > 0) await initBackend(backend.name);
  const tfjsOn = async (id: TrainerId): Promise<BackendInfo['name']> => {
    const b = trainerBackend(id) ?? backend.name;
    await initBackend(b);
    return b;
  };
  const env = environment(backend, opts.command ?? ''); // the commit and date as the run starts
  // The curve's train accuracy: on the whole training set in full-batch mode (as the notebook prints it
  // every 10 iterations), else on its first 10,000 images to keep evaluation cheap.
  const curveTrain = rp.batch === 'full' ? data.train : limitBatch(data.train, Math.min(CURVE_TRAIN_SAMPLES, data.train.m));
  const runs: Run[] = [];
  const agreementPoints: AgreementPoint[] = [];
  const drift: Drift[] = [];
  const sweep: SweepResult[] = [];

  const gallerySeed = rp.seeds[0];
  // the hand-written trainers run in their own worker thread; tfjs runs here
  const isolate: ScratchIsolate | null = opts.isolate !== false && rp.trainers.some(isScratchTrainer) ? createScratchIsolate(data, curveTrain) : null;
  const train = (id: TrainerId, seed: number, init: Params, o: TrainOptions): Promise<TrainerRun> =>
    isolate && isScratchTrainer(id)
      ? isolate.train(id, rp, seed, init, opts, o)
      : isScratchTrainer(id)
        ? trainOne(makeTrainer(id, rp, o.lrScale), ranOn(id, rp, false), id, rp, data, seed, init, curveTrain, opts, o)
        : tfjsOn(id).then(async (b) => {
            const r = await trainOne(makeTrainer(id, rp, o.lrScale), ranOn(id, rp, false), id, rp, data, seed, init, curveTrain, opts, o);
            return { ...r, run: { ...r.run, backend: b } };
          });
  try {
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
        const { run, snapshots, unlabelled } = await train(id, seed, init, {
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
      await initBackend(backend.name); // tfjs's gradients on the primary backend
      for (const [step, p] of [[0, init] as [number, Params], ...points]) {
        opts.signal?.throwIfAborted();
        agreementPoints.push(await agreementAt(seed, step, p, probe, probeMasks, rp));
      }

      // Trajectory drift between twins: a hand-written trainer and its tfjs (or plain-TS) counterpart, same math, batches, masks, α.
      for (const [a, b] of twinsOf(rp.trainers)) {
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
            const { run } = await train(id, seed, init, { snapshotAt: new Set(), label: `seed ${seed} · sweep ${id} ×${scale}`, lrScale: scale, curve: false });
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
  } finally {
    isolate?.dispose();
  }
}

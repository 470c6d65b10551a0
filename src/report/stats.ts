/**
 * What the reports compute from a results JSON: per-trainer summaries, the best trainer, mean curves.
 * Reads only the results; knows nothing about training.
 */
import { meanCi95, meanSd } from '../core/metrics.ts';
import type { TrainerId } from '../results/trainers.ts';
import type { Results, Run } from '../results/results.ts';

export const okRuns = (r: Results, t: TrainerId): Run[] => r.runs.filter((x) => x.trainer === t && x.status === 'ok');

/** Mean final test accuracy per trainer over the seeds where it finished. */
export function summary(r: Results): { trainer: TrainerId; test: number[]; train: number[]; samplesPerSec: number[]; diverged: Run[] }[] {
  return r.plan.trainers.map((t) => ({
    trainer: t,
    test: okRuns(r, t).map((x) => x.final!.testAcc),
    train: okRuns(r, t).map((x) => x.final!.trainAcc),
    samplesPerSec: r.runs.filter((x) => x.trainer === t && x.timing.totalMs > 0).map((x) => x.timing.samplesPerSec),
    diverged: r.runs.filter((x) => x.trainer === t && x.status === 'diverged'),
  }));
}

export function bestTrainer(r: Results): TrainerId | null {
  const s = summary(r).filter((x) => x.test.length > 0);
  if (s.length === 0) return null;
  return s.reduce((a, b) => (meanSd(b.test).mean > meanSd(a.test).mean ? b : a)).trainer;
}

/** Mean over seeds of a curve field per trainer, at the steps every finished run shares. */
export function meanCurve(r: Results, t: TrainerId, field: 'loss' | 'testAcc' | 'trainAcc'): { step: number; value: number }[] {
  const runs = okRuns(r, t);
  if (runs.length === 0) return [];
  return runs[0].curve.map((pt, i) => ({ step: pt.step, value: runs.reduce((a, x) => a + x.curve[i][field], 0) / runs.length }));
}


/** A paired comparison of two trainers over the seeds where both finished: per-seed differences a − b. */
export interface Paired {
  a: TrainerId;
  b: TrainerId;
  seeds: number[];
  diffs: number[]; // a − b per seed (fractions, e.g. 0.0023 = 0.23 points)
  mean: number;
  sd: number;
  ci: [number, number] | null; // 95%, Student t on n−1 d.o.f.; null with one seed
  /** 'identical': the same value on every seed; 'a' / 'b': the interval excludes 0 on that side */
  verdict: 'identical' | 'a' | 'b' | 'no detectable difference' | 'one seed';
}

/** Pairs per-seed values of two trainers (same init, same batches: a paired design) and tests the difference. */
export function paired(r: Results, a: TrainerId, b: TrainerId, value: (run: Run) => number | null = (x) => x.final?.testAcc ?? null): Paired {
  const of = (t: TrainerId) => new Map(r.runs.filter((x) => x.trainer === t).map((x) => [x.seed, value(x)] as const));
  return pairedValues(a, b, of(a), of(b), r.plan.seeds);
}

/** The paired comparison of two trainers' per-seed values (null: no value for that seed). */
export function pairedValues(a: TrainerId, b: TrainerId, va: Map<number, number | null>, vb: Map<number, number | null>, order: number[]): Paired {
  const seeds: number[] = [], diffs: number[] = [];
  for (const s of order) {
    const x = va.get(s), y = vb.get(s);
    if (x === undefined || x === null || y === undefined || y === null) continue;
    seeds.push(s);
    diffs.push(x - y);
  }
  const { mean, sd, ci } = meanCi95(diffs);
  let verdict: Paired['verdict'];
  if (diffs.length > 0 && diffs.every((d) => d === 0)) verdict = 'identical';
  else if (ci === null) verdict = 'one seed';
  else if (ci[0] > 0) verdict = 'a';
  else if (ci[1] < 0) verdict = 'b';
  else verdict = 'no detectable difference';
  return { a, b, seeds, diffs, mean, sd, ci, verdict };
}

/** Every pair of finished trainers, in plan order. */
export function allPairs(r: Results): Paired[] {
  const ts = r.plan.trainers.filter((t) => okRuns(r, t).length > 0);
  const out: Paired[] = [];
  for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) out.push(paired(r, ts[i], ts[j]));
  return out;
}

/** Per-seed ratio of samples/s, a ÷ b (same steps, same batches), with mean and range. */
export function speedRatio(r: Results, a: TrainerId, b: TrainerId): { ratios: number[]; mean: number; min: number; max: number } | null {
  const ratios: number[] = [];
  for (const s of r.plan.seeds) {
    const ra = r.runs.find((x) => x.trainer === a && x.seed === s), rb = r.runs.find((x) => x.trainer === b && x.seed === s);
    if (!ra || !rb || !(ra.timing.samplesPerSec > 0 && rb.timing.samplesPerSec > 0)) continue;
    ratios.push(ra.timing.samplesPerSec / rb.timing.samplesPerSec);
  }
  if (ratios.length === 0) return null;
  return { ratios, mean: meanSd(ratios).mean, min: Math.min(...ratios), max: Math.max(...ratios) };
}

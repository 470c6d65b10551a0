/**
 * What the reports compute from a results JSON: per-trainer summaries, the best trainer, mean curves.
 * Reads only the results; knows nothing about training.
 */
import { meanSd } from '../core/metrics.ts';
import type { TrainerId } from '../harness/plan.ts';
import type { Results, Run } from '../harness/results.ts';

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


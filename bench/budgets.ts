/**
 * How long the bench times each task, for every row: the TypeScript tasks (measure.ts, tinybench) and
 * numpy's (numpy.ts, numpy_ref.py) run under the same budgets. A batch of HEAVY_FROM samples or more is
 * heavy: a few calls; anything smaller is light: many fast calls.
 */
export type Weight = 'light' | 'heavy';

/** A batch of at least this many samples is timed under the heavy budget. */
export const HEAVY_FROM = 5000;
export const weightOf = (m: number): Weight => (m >= HEAVY_FROM ? 'heavy' : 'light');

export interface Budget {
  time: number; // ms per task per round (timing goes on until both time and iterations are met)
  iterations: number; // minimum calls per task per round
  warmupTime: number;
  warmupIterations: number;
  /** warm up in every round, or only in the first */
  warmupEveryRound: boolean;
}

export interface MeasurePlan {
  rounds: number;
  budgets: Record<Weight, Budget>;
}

export const FULL_PLAN: MeasurePlan = {
  rounds: 3,
  budgets: {
    light: { time: 250, iterations: 8, warmupTime: 60, warmupIterations: 3, warmupEveryRound: true },
    heavy: { time: 0, iterations: 2, warmupTime: 0, warmupIterations: 1, warmupEveryRound: false },
  },
};

/** Seconds, not minutes (for numpy, most of it starting python). */
export const SMOKE_PLAN: MeasurePlan = {
  rounds: 2,
  budgets: {
    light: { time: 10, iterations: 3, warmupTime: 2, warmupIterations: 1, warmupEveryRound: true },
    heavy: { time: 0, iterations: 1, warmupTime: 0, warmupIterations: 0, warmupEveryRound: false },
  },
};

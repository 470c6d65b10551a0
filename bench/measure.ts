/**
 * Timing with tinybench, in rounds: each round runs every group of comparable tasks (same suite and batch
 * size) as one tinybench Bench, warm-up first, with the order of the implementations rotated from round to
 * round and reversed on every other round, so no implementation always runs first (or last, on a warm
 * cache). The latency samples of all rounds are pooled per task. Measures only; prints nothing (progress
 * goes to a callback).
 */
import { Bench } from 'tinybench';
import { quantile, t95 } from '../src/core/metrics.ts';
import type { MeasurePlan } from './budgets.ts';
import type { TaskSpec } from './suites.ts';
import { inIsolate, type BenchIsolate } from './isolate.ts';

export interface Measurement {
  id: string;
  samples: number[]; // ms per call, all rounds pooled, in the order measured
  perRoundMedianMs: number[];
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  meanMs: number;
  /** relative margin of error of the mean, % (95%, Student's t) */
  rme: number;
}

export interface Progress {
  round: number;
  rounds: number;
  group: string;
  done: number;
  total: number;
}

/** Groups tasks that are compared with each other: same suite and batch size, in first-seen order. */
function groups(tasks: TaskSpec[]): TaskSpec[][] {
  const by = new Map<string, TaskSpec[]>();
  for (const t of tasks) {
    const k = `${t.suite} · ${t.size}`;
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(t);
  }
  return [...by.values()];
}

/** Order of a group's tasks in round r: rotated by r, reversed on odd rounds. */
export function roundOrder<T>(xs: T[], r: number): T[] {
  const n = xs.length;
  const rot = xs.map((_, i) => xs[(i + r) % n]);
  return r % 2 === 1 ? rot.reverse() : rot;
}

function rme(xs: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = t95(n - 1);
  return (100 * t * sd) / Math.sqrt(n) / mean;
}

/**
 * Times every task, in rounds. Tasks the isolate takes (isolate.ts `inIsolate`) run there, each group's
 * share as one tinybench Bench, before the main thread's share on even rounds and after it on odd ones
 * (the rotation of roundOrder, between the two threads). `executed` receives the isolate's work counts.
 */
export async function measure(tasks: TaskSpec[], plan: MeasurePlan, onProgress?: (p: Progress) => void, signal?: AbortSignal, isolate?: BenchIsolate, executed?: Map<string, number | null>): Promise<Map<string, Measurement>> {
  const gs = groups(tasks);
  const pooled = new Map<string, number[]>(tasks.map((t) => [t.id, []]));
  const perRound = new Map<string, number[]>(tasks.map((t) => [t.id, []]));
  const record = (name: string, samples: ArrayLike<number>, p50: number) => {
    // samples come sorted; the pool only needs their values (no spread: there may be 10⁵ of them)
    const pool = pooled.get(name)!;
    for (let i = 0; i < samples.length; i++) pool.push(samples[i]);
    perRound.get(name)!.push(p50);
  };
  let done = 0;
  const total = gs.length * plan.rounds;
  for (let r = 0; r < plan.rounds; r++) {
    for (const g of gs) {
      if (signal?.aborted) throw new Error('interrupted');
      const b = plan.budgets[g[0].weight];
      onProgress?.({ round: r + 1, rounds: plan.rounds, group: `${g[0].suite} · ${g[0].size}`, done, total });
      const opts = {
        time: b.time,
        iterations: b.iterations,
        warmup: b.warmupIterations > 0 && (r === 0 || b.warmupEveryRound),
        warmupTime: b.warmupTime,
        warmupIterations: b.warmupIterations,
        retainSamples: true,
        throws: true,
        timestampProvider: 'hrtimeNow' as const,
      };
      const order = roundOrder(g, r);
      const remote = isolate ? order.filter(inIsolate) : [];
      const local = order.filter((t) => !remote.includes(t));
      const runRemote = async () => {
        if (remote.length === 0) return;
        const res = await isolate!.run(remote.map((t) => t.id), opts);
        for (const [name, v] of Object.entries(res.samples)) record(name, v.samples, v.p50);
        for (const [name, v] of Object.entries(res.executed)) executed?.set(name, v);
      };
      if (r % 2 === 0) await runRemote();
      if (local.length > 0) {
        const bench = new Bench(opts);
        for (const t of local) {
          const before = t.before;
          bench.add(t.id, t.fn, { async: t.async, ...(before ? { beforeAll: async () => before() } : {}) });
        }
        await bench.run();
        for (const task of bench.tasks) {
          const res = task.result;
          if (res.state !== 'completed') throw new Error(`bench task '${task.name}' ended as '${res.state}'`);
          const s = res.latency.samples;
          if (!s || s.length === 0) throw new Error(`bench task '${task.name}' recorded no samples`);
          record(task.name, s, res.latency.p50);
        }
      }
      if (r % 2 === 1) await runRemote();
      done++;
    }
  }
  const out = new Map<string, Measurement>();
  for (const t of tasks) {
    const s = pooled.get(t.id)!;
    out.set(t.id, {
      id: t.id,
      samples: s,
      perRoundMedianMs: perRound.get(t.id)!,
      medianMs: quantile(s, 0.5),
      p25Ms: quantile(s, 0.25),
      p75Ms: quantile(s, 0.75),
      meanMs: s.reduce((a, b) => a + b, 0) / s.length,
      rme: rme(s),
    });
  }
  return out;
}

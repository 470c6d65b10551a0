/**
 * The bench's plain-JavaScript and scratch-simd tasks on no worker pool (the hand-written networks computing
 * on the thread that calls them, the ceilings, data loading), timed in a worker thread of their own: a V8
 * isolate where tfjs never runs, so no ArrayBuffer is ever detached and V8 keeps its fast path for typed
 * arrays. (In the main isolate tfjs-wasm's heap growth detaches one, and every typed-array access there
 * gets ~30% slower; `npm run compare` runs the hand-written trainers in the same kind of isolate,
 * src/harness/isolate.ts, so the two reports agree.) The worker builds the same tasks from the same
 * context and runs, per request, one tinybench Bench of the tasks asked for, in the order asked.
 */
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { startIsolate } from '../src/core/workers.ts';
import { Bench } from 'tinybench';
import type { SuiteName } from './args.ts';
import { buildSuites, type SuiteContext, type TaskSpec } from './suites.ts';

/** Tasks timed in the isolate: the hand-written networks on no pool, the ceilings meant for it, data loading. */
export const inIsolate = (t: TaskSpec): boolean => (t.backend === 'js' || t.backend === 'wasm-simd') && t.threads === 0;

export type BenchOptions = ConstructorParameters<typeof Bench>[0];
export interface RemoteResult {
  samples: Record<string, { samples: number[]; p50: number }>;
  /** executed FLOPs per call of every isolate task so far (see TaskSpec.executed) */
  executed: Record<string, number | null>;
}
type Req = { ids: string[]; opts: BenchOptions };
type Res = ({ ok: true } & RemoteResult) | { ok: false; message: string };
interface Boot {
  kind: 'mnist-duel-bench-isolate';
  suites: SuiteName[];
  ctx: SuiteContext;
  port: MessagePort;
}

export interface BenchIsolate {
  run(ids: string[], opts: BenchOptions): Promise<RemoteResult>;
  dispose(): void;
}

/** ctx.data must be in shared memory (sharedBatch); no tfjs and no pools in the isolate. */
export function createBenchIsolate(suites: SuiteName[], ctx: SuiteContext): BenchIsolate {
  const boot: Omit<Boot, 'port'> = { kind: 'mnist-duel-bench-isolate', suites, ctx: { ...ctx, backends: [], threads: [] } };
  const iso = startIsolate<Req, Res>(import.meta.url, 'bench isolate', boot);
  return {
    async run(ids, opts) {
      const m = await iso.request<Res>({ ids, opts }, (x, resolve) => resolve(x));
      if (!m.ok) throw new Error(`bench isolate: ${m.message}`);
      return { samples: m.samples, executed: m.executed };
    },
    dispose: () => iso.dispose(),
  };
}

async function workerMain({ suites, ctx, port }: Boot): Promise<void> {
  const built = await buildSuites(suites, ctx);
  const mine = built.tasks.filter(inIsolate);
  const byId = new Map(mine.map((t) => [t.id, t]));
  port.on('message', async ({ ids, opts }: Req) => {
    try {
      const bench = new Bench(opts);
      for (const id of ids) {
        const t = byId.get(id);
        if (!t) throw new Error(`unknown task ${id}`);
        bench.add(t.id, t.fn, { async: t.async });
      }
      await bench.run();
      const samples: RemoteResult['samples'] = {};
      for (const task of bench.tasks) {
        const res = task.result;
        if (res.state !== 'completed') throw new Error(`bench task '${task.name}' ended as '${res.state}'`);
        const s = res.latency.samples;
        if (!s || s.length === 0) throw new Error(`bench task '${task.name}' recorded no samples`);
        samples[task.name] = { samples: Array.from(s), p50: res.latency.p50 };
      }
      const executed = Object.fromEntries(mine.map((t) => [t.id, t.executed?.() ?? null]));
      port.postMessage({ ok: true, samples, executed } satisfies Res);
    } catch (e) {
      port.postMessage({ ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Res);
    }
  });
}

if (!isMainThread && (workerData as Boot | undefined)?.kind === 'mnist-duel-bench-isolate') void workerMain(workerData as Boot);

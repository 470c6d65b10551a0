// A pool for test/core/pool.test.ts, with jobs that only report what they see: the runtime on its own.
import { serveJobs, startPool, type WorkerPool } from '../../src/core/pool.ts';

export const KIND = 'mnist-duel-pool-test';
// job words
export const TASK = 0, ARG = 1, BUF = 2, OFF = 3, LEN = 4;
/** tasks: report (every worker writes what it sees), sum (worker 0 sums a registered buffer), fail (worker ARG throws; the others wait at a barrier) */
export const REPORT = 1, SUM = 2, FAIL = 3;
/** per worker, in `out`: id, working, threads, jobs run, jobs that passed a barrier */
export const WORDS = 5;

export interface FixtureData {
  out: SharedArrayBuffer; // one Float64 (the sum), then Int32 × WORDS per worker
  bootFail: boolean;
}

export function fixturePool(threads: number, bootFail = false, moduleUrl = import.meta.url): { pool: WorkerPool; out: Int32Array; sum: Float64Array } {
  const out = new SharedArrayBuffer(threads * WORDS * 4 + 8);
  const pool = startPool<FixtureData>({ name: 'pool-test', moduleUrl, kind: KIND, threads, jobWords: 5, data: { out, bootFail } });
  return { pool, out: new Int32Array(out, 8, threads * WORDS), sum: new Float64Array(out, 0, 1) };
}

serveJobs<FixtureData>(KIND, (ctx) => {
  if (ctx.data.bootFail) throw new Error('no kernels here\nand a second line that must not show');
  const out = new Int32Array(ctx.data.out, 8, ctx.threads * WORDS);
  const sum = new Float64Array(ctx.data.out, 0, 1);
  const { id, job } = ctx;
  return () => {
    const o = id * WORDS;
    out[o] = id;
    out[o + 1] = ctx.working;
    out[o + 2] = ctx.threads;
    out[o + 3]++;
    if (job[TASK] === SUM && id === 0) {
      const a = ctx.f32(job[BUF]);
      let s = 0;
      for (let i = job[OFF]; i < job[OFF] + job[LEN]; i++) s += a[i];
      sum[0] = s;
    }
    if (job[TASK] === FAIL) {
      if (id === job[ARG]) throw new Error(`job failed on purpose in worker ${id}`);
      ctx.barrier();
      out[o + 4]++;
    }
  };
});

// The worker runtime of both thread pools (src/core/pool.ts), with a pool whose jobs only report what they
// see (pool-fixture.ts): jobs reach the workers asked for, buffers reach them by id, start-up failures are
// one UserError line, a failing job wakes the caller and is reported, dispose ends the workers.
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { sharedBatch, type WorkerPool } from '../../src/core/pool.ts';
import { ARG, BUF, FAIL, fixturePool, LEN, OFF, REPORT, SUM, TASK, WORDS } from './pool-fixture.ts';

const pools: WorkerPool[] = [];
afterAll(() => Promise.all(pools.map((p) => p.dispose())));
function make(threads: number, bootFail = false, moduleUrl?: string) {
  const f = fixturePool(threads, bootFail, moduleUrl);
  pools.push(f.pool);
  return f;
}
const worker = (out: Int32Array, id: number) => Array.from(out.subarray(id * WORDS, (id + 1) * WORDS));

describe('the worker runtime', () => {
  it('a job reaches workers 0 .. working-1, each seeing its id, the count working and the pool size', () => {
    const { pool, out } = make(3);
    pool.job[TASK] = REPORT;
    pool.run(3);
    // id, working, threads, jobs run, barriers passed
    expect([0, 1, 2].map((id) => worker(out, id))).toEqual([
      [0, 3, 3, 1, 0],
      [1, 3, 3, 1, 0],
      [2, 3, 3, 1, 0],
    ]);
    pool.run(1);
    expect([0, 1, 2].map((id) => worker(out, id))).toEqual([
      [0, 1, 3, 2, 0],
      [1, 3, 3, 1, 0],
      [2, 3, 3, 1, 0],
    ]);
  });

  it('workers read shared arrays in place and others from a staging copy, by buffer id', () => {
    const { pool, sum } = make(2);
    const values = Float32Array.from({ length: 100 }, (_, i) => i + 1); // 1 + … + 100 = 5050
    const inShared = sharedBatch({ x: values, y: new Uint8Array(100), m: 100 }).x;
    for (const [a, n, expected] of [
      [values, 100, 5050],
      [inShared.subarray(10), 5, 11 + 12 + 13 + 14 + 15],
      [values.subarray(90), 10, 91 + 92 + 93 + 94 + 95 + 96 + 97 + 98 + 99 + 100],
    ] as const) {
      [pool.job[BUF], pool.job[OFF]] = pool.place(a, n, 'x');
      pool.job[LEN] = n;
      pool.job[TASK] = SUM;
      pool.run(2);
      expect(sum[0]).toBe(expected);
    }
    // the shared array was not copied: its view starts 10 floats in
    expect(pool.place(inShared.subarray(10), 5, 'x')[1]).toBe(10);
    const parts = [Float32Array.of(1, 2), Float32Array.of(3)];
    pool.job[BUF] = pool.placeAll(parts, 'parts');
    pool.job[OFF] = 0;
    pool.job[LEN] = 3;
    pool.run(1);
    expect(sum[0]).toBe(6);
  });

  it('a worker that cannot load its module is one UserError line', () => {
    const { pool } = make(2, false, new URL('./no-such-module.ts', import.meta.url).href);
    pool.job[TASK] = REPORT;
    let err: unknown;
    try {
      pool.run(2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^pool-test: a worker thread could not start: worker \d: Cannot find module .*no-such-module/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a worker whose setup throws is one UserError line: the first line of its error', () => {
    const { pool } = make(2, true);
    pool.job[TASK] = REPORT;
    let err: unknown;
    try {
      pool.run(2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    // whichever of the two workers failed first
    expect((err as Error).message).toMatch(/^pool-test: a worker thread could not start: worker [01]: no kernels here$/);
  });

  it('an error in a job wakes the caller, also with the other workers at a barrier, and is reported with its worker', () => {
    const { pool, out } = make(3);
    pool.job[TASK] = FAIL;
    pool.job[ARG] = 2;
    expect(() => pool.run(3)).toThrow(/^pool-test worker thread failed: worker 2: Error: job failed on purpose in worker 2/);
    // workers 0 and 1 ran the job, were woken at the barrier and did not get past it
    expect([0, 1].map((id) => worker(out, id))).toEqual([
      [0, 3, 3, 1, 0],
      [1, 3, 3, 1, 0],
    ]);
    // the pool stays failed
    pool.job[TASK] = REPORT;
    expect(() => pool.run(1)).toThrow(/worker 2: Error: job failed on purpose/);
  });

  it('a barrier holds every worker until all have arrived', () => {
    const { pool, out } = make(2);
    pool.job[TASK] = FAIL;
    pool.job[ARG] = -1; // nobody fails
    pool.run(2);
    pool.run(2);
    expect([0, 1].map((id) => worker(out, id))).toEqual([
      [0, 2, 2, 2, 2],
      [1, 2, 2, 2, 2],
    ]);
  });

  it('dispose ends the workers; the pool then refuses jobs', async () => {
    const { pool } = make(2);
    pool.job[TASK] = REPORT;
    pool.run(2);
    await pool.dispose(); // resolves once both threads have exited
    expect(() => pool.run(1)).toThrow(/used after dispose/);
    await pool.dispose(); // a second call is harmless
  });

  it('refuses a thread count outside 1..64 (the rule of checks.ts, and at least one worker) with one UserError line', () => {
    expect(() => make(0)).toThrow(new UserError('pool-test: threads must be at least 1 for a pool, got 0'));
    expect(() => make(65)).toThrow(new UserError('pool-test: threads must be an integer in 0..64, got 65'));
    expect(() => make(1.5)).toThrow(UserError);
  });
});

// The plan memory estimate (src/harness/memory.ts): its arithmetic on a plan counted by hand, the refusal,
// and the estimate against the peak memory (max RSS) of real runs: the growth from a 784-8-10 plan to a
// 784-1024-1024-10 plan, everything else equal, must be within a factor of 2 of the estimated growth
// (measured when this was written: 237 MB real vs 229 MB estimated).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPlanMemory, estimateMemory, memoryBound, THREAD_BASE, type PlanShape } from '../../src/harness/memory.ts';
import { expectUserError } from '../data/util.ts';
import { NODE_ARGS, root } from '../cli/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'mnist-duel-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (layers: number[], more: Partial<PlanShape> = {}): PlanShape => ({
  layers,
  trainers: ['scratch-adam'],
  batch: 200,
  epochs: 1,
  threads: 0,
  probe: 100,
  agreementPoints: 2,
  limit: 200,
  testLimit: 1000,
  ...more,
});

describe('estimateMemory', () => {
  it('counts the parameters of 784-1024-1024-10, and grows with trainers, threads and snapshots as stated', () => {
    const P = 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10;
    const e = estimateMemory(plan([1024, 1024]), 60000, 10000);
    expect(e.params).toBe(P);
    expect(e.parts.data).toBe(2 * (200 + 1000) * (784 * 4 + 1));
    expect(e.parts.snapshots).toBe(1 * 1 * P * 4); // one trainer, one step
    const more = estimateMemory(plan([1024, 1024], { threads: 3, trainers: ['scratch-adam', 'scratch-gd'], epochs: 100 }), 60000, 10000);
    expect(more.parts.threads).toBe(3 * (THREAD_BASE + P * 16));
    expect(more.parts.snapshots).toBe(2 * 10 * P * 4); // at most ten per trainer
  });

  it('a plan over the bound is refused with its estimate; the bound is half of os.totalmem()', () => {
    expect(memoryBound()).toBe(totalmem() / 2);
    const big = plan(Array(16).fill(4096), { trainers: ['scratch-gd', 'tfjs-adam'] });
    expectUserError(() => checkPlanMemory(big, 60000, 10000), 'the plan needs about', 'GiB of memory', '254,976,010 parameters', 'more than the bound');
    expectUserError(() => checkPlanMemory(plan([1024, 1024]), 60000, 10000, 100 * 2 ** 20), /needs about \d+ MiB/, 'more than the bound of 100 MiB');
    checkPlanMemory(plan([400, 100]), 60000, 10000);
  });
});

/** The max RSS (bytes) of a real `npm run compare` with these layers. */
function maxRss(layers: string, keep: string): Promise<number> {
  const hook = join(dir, 'rss-hook.mjs');
  writeFileSync(hook, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n`);
  const file = join(dir, `rss-${layers}`);
  const args = ['--preset', 'smoke', '--trainers', 'scratch-adam', '--seeds', '1', '--limit', '200', '--batch', '200', '--adam-lr', '0.0005', '--init', 'he', '--layers', layers, '--keep', keep, '--out', join(dir, `out-${layers}`)];
  const child = spawn(process.execPath, ['--import', hook, ...NODE_ARGS, 'src/cli/compare.ts', ...args], { cwd: root, env: { ...process.env, RSS_FILE: file }, stdio: 'ignore' });
  const limit = setTimeout(() => child.kill('SIGKILL'), 170_000);
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0 || !existsSync(file)) reject(new Error(`compare --layers ${layers} exited ${code}`));
      else resolve(Number(readFileSync(file, 'utf8')) * 1024);
    }),
  );
}

describe('the estimate against real runs', () => {
  it('peak memory growth from 784-8-10 to 784-1024-1024-10 is within a factor of 2 of the estimated growth', { timeout: 180_000 }, async () => {
    const [small, wide] = await Promise.all([maxRss('8', '1'), maxRss('1024,1024', '1,1')]);
    const measured = wide - small;
    const estimated = estimateMemory(plan([1024, 1024]), 60000, 10000).bytes - estimateMemory(plan([8]), 60000, 10000).bytes;
    expect(measured / estimated).toBeGreaterThan(0.5);
    expect(measured / estimated).toBeLessThan(2);
  });
});

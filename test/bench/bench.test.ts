// `npm run bench`: the smoke run end to end (every column produced, files written), flags and errors.
// Timings are never asserted: only that each number is there and is a number.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBenchArgs, SMOKE_OUT, SUITE_NAMES } from '../../bench/args.ts';
import { COLUMNS, type BenchResults } from '../../bench/report.ts';

const root = join(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'mnist-duel-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// Every run has a temporary working directory, so that no default path can reach the repository's
// reports/; hence the absolute paths of the tsx loader and of the script.
const cwd = join(out, 'cwd');
mkdirSync(cwd);
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
function bench(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'bench', 'run.ts'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run bench -- --smoke', () => {
  let res: BenchResults;
  let stdout = '';

  it('runs in seconds and writes bench.json and bench.md', () => {
    const r = bench('--smoke', '--out', out);
    expect(r.stderr).not.toMatch(/error|Error/);
    expect(r.code).toBe(0);
    stdout = r.stdout;
    expect(existsSync(join(out, 'bench.json'))).toBe(true);
    expect(existsSync(join(out, 'bench.md'))).toBe(true);
    res = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchResults;
    expect(res.schema).toBe('mnist-duel/bench');
    expect(res.plan.smoke).toBe(true);
  });

  it('times every suite, scratch and tfjs on each backend that initialised, and the ceiling', () => {
    expect(res.backends.map((b) => b.name)).toContain('wasm');
    for (const s of [...SUITE_NAMES, 'ceiling']) expect(res.rows.some((r) => r.suite === s), s).toBe(true);
    for (const s of ['forward', 'gradients', 'step']) {
      for (const be of res.backends) expect(res.rows.some((r) => r.suite === s && r.backend === be.name), `${s} on ${be.name}`).toBe(true);
      expect(res.rows.some((r) => r.suite === s && r.backend === 'js'), `${s} scratch`).toBe(true);
    }
    const step = res.rows.filter((r) => r.suite === 'step').map((r) => `${r.impl}/${r.threads}`);
    for (const impl of ['scratch-gd/0', 'scratch-adam/0', 'scratch-gd/1', 'tfjs-sgd/0', 'tfjs-adam/0']) expect(step).toContain(impl);
    for (const u of res.unavailable) expect(u.why).not.toBe('');
  });

  it('every row has every column: median, spread, n, samples/s, GFLOP/s, % ceiling and the ratio', () => {
    const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    expect(num(res.ceiling?.gflops)).toBe(true);
    for (const r of res.rows) {
      for (const k of ['medianMs', 'p25Ms', 'p75Ms', 'n'] as const) expect(num(r[k]), `${r.id} ${k}`).toBe(true);
      expect(r.p25Ms).toBeLessThanOrEqual(r.medianMs);
      expect(r.medianMs).toBeLessThanOrEqual(r.p75Ms);
      expect(r.perRoundMedianMs).toHaveLength(res.plan.rounds);
      if (r.suite === 'ceiling') continue;
      expect(num(r.samplesPerSec), `${r.id} samples/s`).toBe(true);
      if (r.suite === 'data') continue;
      for (const k of ['gflops', 'pctCeiling', 'vsTfjsWasmSgd'] as const) expect(num(r[k]), `${r.id} ${k}`).toBe(true);
    }
    const ref = res.rows.find((r) => r.suite === 'step' && r.impl === 'tfjs-sgd' && r.backend === 'wasm');
    expect(ref?.vsTfjsWasmSgd).toBe(1);
  });

  it('prints the table and the goals; bench.md has every column and the environment', () => {
    for (const c of COLUMNS) expect(stdout).toContain(c);
    expect(stdout).toMatch(/scalar ceiling: [\d.]+ GFLOP\/s/);
    expect(stdout).toMatch(/step vs tfjs-wasm SGD at batch 64/);
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    for (const c of COLUMNS.slice(1)) expect(md).toContain(`| ${c.replace(/\|/g, '\\|')} `);
    for (const s of ['## Goals', '## Environment', '## How it was measured', 'Node v', 'tinybench']) expect(md).toContain(s);
    expect(res.environment.node).toBe(process.version);
  });

  it(`without --out, --smoke writes to ${SMOKE_OUT}, never over the full report in reports/`, () => {
    mkdirSync(join(cwd, 'reports'), { recursive: true });
    writeFileSync(join(cwd, 'reports', 'bench.md'), 'the full report\n');
    const r = bench('--smoke', '--filter', 'data', '--threads', '0');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(SMOKE_OUT, 'bench.md')}`);
    expect(readdirSync(join(cwd, SMOKE_OUT)).sort()).toEqual(['bench.json', 'bench.md']);
    expect(readFileSync(join(cwd, 'reports', 'bench.md'), 'utf8')).toBe('the full report\n');
    expect(readdirSync(join(cwd, 'reports')).sort()).toEqual(['bench.md', 'smoke']);
  });

  it('--filter picks suites (the ceiling is always measured); --threads 0 adds no worker rows', () => {
    const dir = join(out, 'filtered');
    const r = bench('--smoke', '--filter', 'data', '--threads', '0', '--out', dir);
    expect(r.code).toBe(0);
    const f = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchResults;
    expect([...new Set(f.rows.map((x) => x.suite))].sort()).toEqual(['ceiling', 'data']);
    expect(f.goals.every((g) => g.pass === null)).toBe(true);
  });
});

describe('bench flags', () => {
  it('--help prints the usage and exits 0', () => {
    const r = bench('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/npm run bench -- \[flags\]/);
    expect(r.stdout).toMatch(/--filter/);
  });

  it('a bad flag is one line on stderr and exit 2, nothing written', () => {
    for (const args of [['--bogus'], ['--filter', 'steps'], ['--threads', 'two'], ['--threads', '1,1'], ['--hidden', '0']]) {
      const r = bench(...args, '--out', join(out, 'never'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /);
    }
    expect(existsSync(join(out, 'never'))).toBe(false);
  });

  it('--out that is a file is refused before any timing', () => {
    const f = join(out, 'a-file');
    writeFileSync(f, 'keep\n');
    const t0 = performance.now();
    const r = bench('--smoke', '--out', f);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: output folder .*a-file: is a file, not a folder/);
    expect(r.stdout).not.toMatch(/GFLOP/); // no table: nothing was timed
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(readFileSync(f, 'utf8')).toBe('keep\n');
  });

  it('parses lists in canonical order', () => {
    expect(parseBenchArgs(['--filter', 'step,forward']).suites).toEqual(['forward', 'step']);
    expect(parseBenchArgs(['--threads', '2,1']).threads).toEqual([2, 1]);
    expect(parseBenchArgs(['--threads', '0']).threads).toEqual([]);
    expect(parseBenchArgs([]).smoke).toBe(false);
    expect(parseBenchArgs([]).out).toBe('reports');
    expect(parseBenchArgs(['--smoke']).out).toBe('reports/smoke');
    expect(parseBenchArgs(['--smoke', '--out', 'x']).out).toBe('x');
  });
});

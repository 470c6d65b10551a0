/**
 * The TensorFlow.js backends by name, and what a run records about the one it used: names only, no tfjs
 * here, so the command lines can list them without loading it (src/tfjs/backend.ts selects and starts one).
 */
import { createRequire } from 'node:module';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** The environment variables that size TensorFlow's thread pools, read when tfjs-node loads (see the README, "Threads"). */
export const TF_THREAD_VARS = ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'] as const;

export interface BackendInfo {
  name: BackendName;
  /** version of the @tensorflow/tfjs package in use */
  tfjsVersion: string;
  /** wasm only: whether the SIMD binary is used (null for other backends) */
  simd: boolean | null;
  /** wasm only: whether the multi-threaded binary is used (null for other backends) */
  threads: boolean | null;
  /** tensorflow only: the TensorFlow thread settings in effect when the binding loaded */
  tfThreads?: string;
  /** auto only: why better backends were passed over, e.g. "tensorflow: @tensorflow/tfjs-node is not installed" */
  skipped?: string[];
}

/**
 * Whether the native binding's package is installed (resolvable) here: a path lookup, nothing is loaded.
 * What `--backend auto` tries first, and what the deep preset's resolution depends on (harness/plan.ts).
 */
export function nativeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

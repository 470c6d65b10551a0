/**
 * The TensorFlow.js backends by name, and what a run records about the one it used: names only, no tfjs
 * here, so the command lines can list them without loading it (src/tfjs/backend.ts selects and starts one).
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** version of the @tensorflow/tfjs package in use */
  tfjsVersion: string;
  /** wasm only: whether the SIMD binary is used (null for other backends) */
  simd: boolean | null;
  /** wasm only: whether the multi-threaded binary is used (null for other backends) */
  threads: boolean | null;
  /** auto only: why better backends were passed over, e.g. "tensorflow: @tensorflow/tfjs-node is not installed" */
  skipped?: string[];
}

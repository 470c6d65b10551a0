/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * `auto` tries, in order: the native binding (`@tensorflow/tfjs-node`, backend name 'tensorflow', only if the
 * package resolves), WebAssembly (`@tensorflow/tfjs-backend-wasm`, loading the .wasm binaries from the
 * package's own dist/ folder — never from the network), then the plain-JS 'cpu' backend.
 * A forced choice that cannot be initialised is a UserError.
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../core/errors.ts';

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

const require = createRequire(import.meta.url);

// The console noise tfjs prints in Node: the cpu backend's "Hi, looks like you are running TensorFlow.js in
// Node.js..." banner (on its first tensor write) and the "Platform node has already been set" note that a
// second tfjs-core platform registration (tfjs-node) emits. Everything else passes through.
const NOISE = [/looks like you are running TensorFlow\.js in Node\.js/, /Platform \w+ has already been set/];

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const { warn, log } = console;
  const filter =
    (orig: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      const text = a.map(String).join(' ');
      if (!NOISE.some((re) => re.test(text))) orig.apply(console, a);
    };
  console.warn = filter(warn);
  console.log = filter(log);
  try {
    return await f();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

let nativeLoaded = false;
async function loadNative(): Promise<void> {
  if (nativeLoaded) return;
  if (!resolvable('@tensorflow/tfjs-node')) {
    throw new UserError("backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed");
  }
  try {
    // A variable specifier keeps TypeScript from requiring the (optional, usually absent) package's types.
    const pkg = '@tensorflow/tfjs-node';
    await import(pkg);
  } catch (e) {
    throw new UserError(
      `backend 'tensorflow' is not available: loading @tensorflow/tfjs-node failed (${firstLine(e)})`,
    );
  }
  nativeLoaded = true;
}

let wasmPathsSet = false;
function prepareWasm(): void {
  if (wasmPathsSet) return;
  // resolve() gives .../tfjs-backend-wasm/dist/tf-backend-wasm.node.js; the .wasm files sit next to it.
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const dir = dist.endsWith(`${sep}dist`) ? dist : join(dist, '..', 'dist');
  setWasmPaths(dir + sep);
  wasmPathsSet = true;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

/** Switches tfjs to `name`; returns false (never throws) if the backend cannot be initialised. */
async function trySet(name: BackendName): Promise<boolean> {
  if (tf.findBackendFactory(name) == null) return false;
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    if (ok) await tf.ready();
  } catch {
    ok = false;
  }
  ok = ok && tf.getBackend() === name;
  if (ok) tf.tidy(() => void tf.scalar(0).dataSync()); // first write: triggers any banner inside quietly()
  return ok;
}

async function info(name: BackendName): Promise<BackendInfo> {
  const wasm = name === 'wasm';
  return {
    name,
    tfjsVersion: tf.version.tfjs,
    simd: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null,
    threads: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : null,
  };
}

async function force(name: BackendName): Promise<BackendInfo> {
  if (name === 'tensorflow') await loadNative();
  if (name === 'wasm') prepareWasm();
  if (!(await trySet(name))) {
    const why = name === 'wasm' ? ' (the WebAssembly module could not be initialised)' : '';
    throw new UserError(`backend '${name}' is not available: initialisation failed${why}`);
  }
  return info(name);
}

/**
 * Makes `choice` the active tfjs backend (after `auto`: the best that works) and reports what is in use.
 * Safe to call repeatedly, and to switch backends within one process; tensors made on one backend should
 * not be mixed with another's (trainers keep theirs until disposed).
 */
export async function initBackend(choice: 'auto' | BackendName = 'auto'): Promise<BackendInfo> {
  if (choice !== 'auto' && !BACKEND_NAMES.includes(choice)) {
    throw new UserError(`unknown backend '${String(choice)}' (expected auto, ${BACKEND_NAMES.join(', ')})`);
  }
  return quietly(async () => {
    if (choice !== 'auto') return force(choice);
    const skipped: string[] = [];
    for (const name of BACKEND_NAMES) {
      try {
        const r = await force(name);
        if (skipped.length > 0) r.skipped = skipped;
        return r;
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        skipped.push(e.message.replace(/^backend '(\w+)' is not available: /, '$1: '));
      }
    }
    throw new UserError(`no tfjs backend could be initialised (${skipped.join('; ')})`);
  });
}

/** The tfjs backend currently active, if it is one of ours. */
export function currentBackend(): BackendName | null {
  const b = tf.getBackend();
  return (BACKEND_NAMES as readonly string[]).includes(b) ? (b as BackendName) : null;
}

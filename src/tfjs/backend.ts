/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * `auto` tries, in order: the native binding (`@tensorflow/tfjs-node`, backend name 'tensorflow', only if the
 * package resolves), WebAssembly (`@tensorflow/tfjs-backend-wasm`, loading the .wasm binaries from the
 * package's own dist/ folder — never from the network), then the plain-JS 'cpu' backend.
 * A forced choice that cannot be initialised is a UserError.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BACKEND_NAMES, TF_THREAD_VARS, type BackendInfo, type BackendName } from '../core/backends.ts';
import { UserError } from '../core/errors.ts';

const require = createRequire(import.meta.url);

// The console noise tfjs prints in Node: the cpu backend's "Hi, looks like you are running TensorFlow.js in
// Node.js..." banner (on its first tensor write) and the "Platform node has already been set" note that a
// second tfjs-core platform registration (tfjs-node) emits. Everything else passes through.
const NOISE = [/looks like you are running TensorFlow\.js in Node\.js/, /Platform \w+ has already been set/];

// While set, console output from tfjs is collected here instead of printed (a failed backend attempt's
// warnings become part of our error message rather than a stack trace on the console).
let captured: string[] | null = null;

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const { warn, log } = console;
  const filter =
    (orig: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      const text = a.map(String).join(' ');
      if (NOISE.some((re) => re.test(text))) return;
      if (captured) captured.push(text);
      else orig.apply(console, a);
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
    // TensorFlow's C++ log: without this, CPU-feature lines on stderr at load. (The one-line oneDNN note it
    // writes while loading its library ignores the setting.)
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    // TensorFlow's pools: one intra-op and one inter-op thread unless the environment says otherwise (read
    // once, when the binding creates its context at import). `npm run bench` times both settings: one
    // thread was faster than two at every size it measures here (an SGD step of the deep network at batch
    // 256: 58,500 vs 30,300 samples/s), and the hand-written trainers' rows say their own threads.
    for (const v of TF_THREAD_VARS) process.env[v] ??= '1';
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
  // The package's main is dist/tf-backend-wasm.node.js; the .wasm binaries sit next to it.
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  if (!existsSync(join(dist, 'tfjs-backend-wasm.wasm'))) {
    throw new UserError(`backend 'wasm' is not available: no tfjs-backend-wasm.wasm in ${dist}`);
  }
  setWasmPaths(dist + sep);
  wasmPathsSet = true;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

/** Switches tfjs to `name`; on failure returns the reason (never throws). */
async function trySet(name: BackendName): Promise<{ ok: boolean; why: string }> {
  if (tf.findBackendFactory(name) == null) return { ok: false, why: 'not registered' };
  const previous = tf.getBackend() as string | undefined;
  captured = [];
  let ok = false, why = '';
  try {
    ok = (await tf.setBackend(name)) && tf.getBackend() === name;
    if (ok) {
      await tf.ready();
      tf.tidy(() => void tf.scalar(0).dataSync()); // the first write, when the cpu backend prints its banner
    }
  } catch (e) {
    ok = false;
    why = firstLine(e);
  } finally {
    const out = captured;
    captured = null;
    if (ok) for (const line of out) console.warn(line);
    else why ||= out.filter((l) => !/^Initialization of backend/.test(l)).map((l) => l.split('\n')[0])[0] ?? '';
  }
  // A failed setBackend leaves tfjs pointing at a backend with no instance: go back to the previous one.
  if (!ok && previous && previous !== name) await tf.setBackend(previous).catch(() => false);
  return { ok, why: why || 'initialisation failed' };
}

async function info(name: BackendName): Promise<BackendInfo> {
  const wasm = name === 'wasm';
  return {
    name,
    tfjsVersion: tf.version.tfjs,
    simd: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null,
    threads: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : null,
    ...(name === 'tensorflow' ? { tfThreads: TF_THREAD_VARS.map((v) => `${v}=${process.env[v] ?? 'unset'}`).join(' ') } : {}),
  };
}

async function force(name: BackendName): Promise<BackendInfo> {
  if (name === 'tensorflow') await loadNative();
  if (name === 'wasm') prepareWasm();
  const { ok, why } = await trySet(name);
  if (!ok) throw new UserError(`backend '${name}' is not available: initialisation failed (${why})`);
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


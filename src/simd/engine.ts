/**
 * The calling-thread driver of scratch-simd: instantiates the module built from assembly/net.ts (loaded by
 * build.ts), gives a network its own wasm memory (planned by layout.ts, fixed size, never grown) and
 * streams batches through it block by block.
 *
 * One step on the calling thread is one `set` per array per block of SIMD_BLOCK samples (images, labels, each
 * dropout mask) into the workspace, one wasm call per block (blockSums; plus foldSlots of the rest above one block) and
 * one for the update: nothing per sample runs in JavaScript.
 */
import { ACTIVATIONS, INPUT, type Activation, type Batch } from '../core/types.ts';
import { loadModule, type Validate } from './build.ts';
import { SIMD_BLOCK, readDescriptor, SUB, planLayout, writeDescriptors, type Layout, type WorkspaceLayout } from './layout.ts';

/** The kernels' exports (assembly/net.ts); addresses are byte offsets into the memory. */
export interface Kernels {
  heapBase(): number;
  blockSamples(): number;
  subSamples(): number;
  blockSums(net: number, ws: number, n: number, act: number, masked: number, sums: number, total: number, wide: number): void;
  wideFold(net: number, wsTable: number, count: number, total: number, first: number, lo: number, hi: number): void;
  predict(net: number, ws: number, n: number, act: number, out: number): void;
  foldSlots(dst: number, src: number, stride: number, count: number, lo: number, hi: number): void;
  paramsChanged(net: number): void;
  sgd(net: number, sums: number, m: number, lr: number, lo: number, hi: number): void;
  adam(net: number, sums: number, m: number, negLr: number, b1: number, b2: number, c1: number, c2: number, eps: number, oma1: number, oma2: number, lo: number, hi: number): void;
  gradients(net: number, sums: number, m: number, out: number): void;
}

// ---- runtime support: in build.ts (layout.ts needs the module too), re-exported here ----

export { loadModule, requireSimd, type Validate } from './build.ts';

// ---- an engine: one network's memory and instance ----

export interface Engine {
  readonly layout: Layout;
  readonly memory: WebAssembly.Memory;
  readonly k: Kernels;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
}

export interface EngineOptions {
  /** workspaces: 1 for the calling thread, N for N worker threads */
  workspaces: number;
  /** a shared memory (worker threads) or a private one */
  shared: boolean;
  /** room for Adam's moments */
  adam: boolean;
  /** blocks of partial sums (worker threads) */
  slots?: number;
  validate?: Validate;
}

/** Views over a memory (it never grows, so they stay valid). */
export function views(memory: WebAssembly.Memory) {
  const buf = memory.buffer;
  return { f32: new Float32Array(buf), f64: new Float64Array(buf), u8: new Uint8Array(buf), i32: new Int32Array(buf) };
}

/**
 * Instantiates a module over `memory` and checks that its block sizes are the ones layout.ts plans for
 * (the descriptor offsets need no check: layout.ts reads them from the module, see readDescriptor).
 */
export function instantiate(mod: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const k = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Kernels;
  if (k.blockSamples() !== SIMD_BLOCK || k.subSamples() !== SUB) {
    throw new Error(`scratch-simd: build/ is out of date (blocks of ${k.blockSamples()}/${k.subSamples()} samples, expected ${SIMD_BLOCK}/${SUB}); run \`npm run build:simd\``);
  }
  return k;
}

export function createEngine(sizes: readonly number[], o: EngineOptions): Engine {
  const mod = loadModule(o.shared ? 'shared' : 'plain', o.validate);
  // the static data of the module ends below this; a throwaway one-page memory tells where
  const probe = instantiate(mod, new WebAssembly.Memory(o.shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1, maximum: 1 }));
  const layout = planLayout(sizes, o.workspaces, probe.heapBase(), { adam: o.adam, slots: o.slots, desc: readDescriptor(probe as unknown as Record<string, unknown>) });
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, ...(o.shared ? { shared: true } : {}) });
  const k = instantiate(mod, memory);
  const v = views(memory);
  writeDescriptors(layout, v.i32);
  return { layout, memory, k, ...v };
}

export const actCode = (a: Activation): number => {
  const i = ACTIVATIONS.indexOf(a);
  if (i < 0) throw new Error(`scratch-simd: unknown activation ${String(a)}`);
  return i;
};

/** Copies samples i0 .. i0+n−1 of a batch (and their mask rows) into a workspace. */
export function stage(e: Engine, ws: WorkspaceLayout, x: Float32Array, y: Uint8Array | null, i0: number, n: number, masks: Float32Array[] | undefined): void {
  e.f32.set(x.subarray(i0 * INPUT, (i0 + n) * INPUT), ws.x >> 2);
  if (y) e.u8.set(y.subarray(i0, i0 + n), ws.y);
  if (masks) {
    masks.forEach((mk, l) => {
      const w = e.layout.layers[l].out;
      e.f32.set(mk.subarray(i0 * w, (i0 + n) * w), ws.masks[l] >> 2);
    });
  }
}

/**
 * The float64 gradient sums of a whole batch at layout.total, on the calling thread (workspace 0), block
 * by block, each block's sums from zero (the batch's first block's straight into the total), added to the
 * total in block order: the wide layers' dW by blockSums itself as it makes them (measured: 8–9% faster
 * on the deep step than writing each block's sums and adding them after), the rest (layout.rest) by foldSlots. The
 * worker threads make the same additions in the same order (threads.ts), so the same bits.
 */
export function batchSums(e: Engine, batch: Batch, act: Activation, masks: Float32Array[] | undefined): void {
  const { m } = batch;
  const ws = e.layout.workspaces[0];
  const a = actCode(act);
  const masked = masks ? 1 : 0;
  const { net, total, rest, desc } = e.layout;
  for (let i0 = 0; i0 < m; i0 += SIMD_BLOCK) {
    const n = Math.min(SIMD_BLOCK, m - i0);
    stage(e, ws, batch.x, batch.y, i0, n, masks);
    if (i0 === 0) e.k.blockSums(net, ws.desc, n, a, masked, total, total, desc.WIDE_WRITE);
    else {
      e.k.blockSums(net, ws.desc, n, a, masked, ws.sums, total, desc.WIDE_ADD);
      for (const [lo, hi] of rest) e.k.foldSlots(total, ws.sums, 0, 1, lo, hi);
    }
  }
}

/**
 * An update of the parameters from a batch's sums: gradient descent at rate lr, or one Adam step with its
 * float32 constants (see assembly/net.ts `adam`). Elementwise, so worker threads can each apply it to the
 * elements whose sums they folded; the row-major copies are refreshed afterwards, once (paramsChanged).
 */
export type Update =
  | { kind: 'sgd'; lr: number }
  | { kind: 'adam'; negLr: number; b1: number; b2: number; c1: number; c2: number; eps: number; oma1: number; oma2: number };

const ADAM_ARGS = ['negLr', 'b1', 'b2', 'c1', 'c2', 'eps', 'oma1', 'oma2'] as const;

/** Writes an update into the memory's argument words (for the worker threads); returns its kind, 1 or 2. */
export function writeUpdate(e: Engine, u: Update): number {
  const a = e.layout.args >> 3;
  if (u.kind === 'sgd') {
    e.f64[a] = u.lr;
    return 1;
  }
  ADAM_ARGS.forEach((k, i) => (e.f64[a + i] = u[k]));
  return 2;
}

/** Applies the update written by writeUpdate (kind 1 or 2) to the parameters whose sums are in bytes [lo, hi). */
export function applyWritten(e: Engine, kind: number, m: number, lo: number, hi: number): void {
  const a = e.layout.args >> 3, f = e.f64, { net, total } = e.layout;
  if (kind === 1) e.k.sgd(net, total, m, f[a], lo, hi);
  else if (kind === 2) e.k.adam(net, total, m, f[a], f[a + 1], f[a + 2], f[a + 3], f[a + 4], f[a + 5], f[a + 6], f[a + 7], lo, hi);
}

/** Applies an update to every parameter and refreshes the row-major copies (the calling thread's step). */
export function applyUpdate(e: Engine, u: Update, m: number): void {
  applyWritten(e, writeUpdate(e, u), m, 0, e.layout.sumsBytes);
  e.k.paramsChanged(e.layout.net);
}

/** Class predictions of m samples on the calling thread. */
export function predictLocal(e: Engine, x: Float32Array, m: number, act: Activation): Uint8Array {
  const ws = e.layout.workspaces[0];
  const a = actCode(act);
  const out = new Uint8Array(m);
  for (let i0 = 0; i0 < m; i0 += SIMD_BLOCK) {
    const n = Math.min(SIMD_BLOCK, m - i0);
    stage(e, ws, x, null, i0, n, undefined);
    e.k.predict(e.layout.net, ws.desc, n, a, ws.preds);
    out.set(e.u8.subarray(ws.preds, ws.preds + n), i0);
  }
  return out;
}

/** The batch loss Σ/m from the sums at layout.total. */
export const batchLoss = (e: Engine, m: number): number => e.f64[(e.layout.total + e.layout.lossOffset) >> 3] / m;

/** Multiply-adds executed since the last reset, over every workspace. */
export function takeCount(e: Engine): number {
  let n = 0;
  for (const ws of e.layout.workspaces) {
    n += e.f64[ws.counter >> 3];
    e.f64[ws.counter >> 3] = 0;
  }
  return n;
}

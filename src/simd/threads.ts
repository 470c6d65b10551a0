/**
 * scratch-simd on worker threads: one shared WebAssembly.Memory (fixed size, planned with one workspace per
 * worker), one instance of the shared-memory module per worker, and results bit-identical to the calling
 * thread's (engine.ts) for any number of threads.
 *
 * How a batch is split: into blocks of BLOCK samples, as on the calling thread, handled in waves of up to
 * `slots` blocks (all 235 blocks of a 60,000-sample batch in one wave for 784-10-10; the slots take at most
 * PARTIALS_BYTES). In a wave, each of the N workers computes a contiguous run of the blocks, each block's
 * sums from zero into its own slot; after a barrier every worker adds the wave's slots, in block order, to
 * its share of the elements of the batch total (`foldSlots`). Each element of the total therefore gets
 * ((S0 + S1) + S2) + …, exactly the additions the calling thread makes, whatever N. A batch of one block
 * is done by worker 0 alone, directly into the total. The update (or the gradients' float32 output) then
 * runs on the calling thread's own instance of the same memory, the same code as without threads.
 *
 * Data: each worker copies its blocks' rows (images, labels, mask rows) into its workspace. A batch whose
 * arrays sit in a SharedArrayBuffer is read from there in place (sent to the workers once); any other batch
 * is first copied into a shared staging buffer by the calling thread, and dropout masks always are.
 * Synchronisation and worker start-up follow src/scratch/threads.ts: Atomics on a control array, a short
 * spin before sleeping while the threads leave a core free, and workers that load this file through
 * tsx's CommonJS API. */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, receiveMessageOnPort, workerData, type MessagePort, type Worker } from 'node:worker_threads';
import { tsWorker } from '../core/workers.ts';
import { ACTIVATIONS, INPUT, hiddenOf, type Activation, type Batch } from '../core/types.ts';
import { createEngine, instantiate, loadModule, stage, views, type Engine, type Validate } from './engine.ts';
import { BLOCK, MAX_MEMORY_BYTES, sumsBytesOf, type Layout } from './layout.ts';

// control words
const DONE = 1, READY = 2, ERR = 3, QUIT = 4, KIND = 5, M = 6, XID = 7, XOFF = 8, YID = 9, YOFF = 10, ACT = 11;
const MASKED = 12, MID = 13, BARRIER = 14, WORKING = 15, OID = 16;
const GEN0 = 20;
const SUMS = 1, PREDICT = 2;
const ERR_BYTES = 2048;
const START_TIMEOUT_MS = 120_000;
const WORKER_SPIN_MS = 0.2;
/**
 * The caller spins for a job's result about as long as the previous job took (1.5×, at least 0.05 ms, at
 * most 1 ms) before it sleeps: a result that comes back within a step of 64 samples (~60 µs) is then taken
 * without a 20–40 µs wake-up, and a long job, or a machine too busy to run the workers, costs no more than
 * that spin.
 */
const CALLER_SPIN_MIN_MS = 0.05;
const CALLER_SPIN_MAX_MS = 1;
/** A worker at a barrier within a job spins this long before it sleeps (the others are close behind). */
const BARRIER_SPIN_MS = 0.5;
/** The budget of the blocks' partial sums in the shared memory (at least two blocks per worker). */
const PARTIALS_BYTES = 32 * 1024 * 1024;
const MAX_SLOTS = 256;
const spins = (threads: number) => threads < availableParallelism();

function spinWhile(ctrl: Int32Array, word: number, value: number, ms: number): boolean {
  const t0 = performance.now();
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctrl, word) !== value) return true;
  } while (performance.now() - t0 < ms);
  return false;
}

interface BootData {
  kind: 'mnist-duel-simd-worker';
  id: number;
  threads: number;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  layout: Layout;
  ctrl: SharedArrayBuffer;
  err: SharedArrayBuffer;
  port: MessagePort;
}

type BufferMsg = { id: number; kind: 'f32' | 'u8'; sab: SharedArrayBuffer };

export interface SimdPool {
  readonly threads: number;
  /** the shared memory and the calling thread's instance over it */
  readonly engine: Engine;
  /** the batch's float64 sums at layout.total, computed by the workers */
  sums(batch: Batch, act: Activation, masks: Float32Array[] | undefined): void;
  predict(x: Float32Array, m: number, act: Activation): Uint8Array;
  dispose(): void;
}

export function createSimdPool(threads: number, sizes: readonly number[], adam: boolean, validate?: Validate): SimdPool {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new Error(`scratch-simd: threads must be an integer in 1..256, got ${threads}`);
  const slots = Math.max(2 * threads, Math.min(MAX_SLOTS, Math.floor(PARTIALS_BYTES / sumsBytesOf(sizes))));
  const engine = createEngine(sizes, { workspaces: threads, shared: true, adam, validate, slots });
  const module = loadModule('shared', validate);
  const ctrlBuf = new SharedArrayBuffer((GEN0 + threads) * 4);
  const errBuf = new SharedArrayBuffer(ERR_BYTES);
  const ctrl = new Int32Array(ctrlBuf);
  const hidden = hiddenOf(sizes);
  // a worker that cannot load this file says so through the shared error buffer
  const onBootError = `
      const msg = new TextEncoder().encode(String(e && e.stack || e)).subarray(0, ${ERR_BYTES});
      new Uint8Array(workerData.err).set(msg);
      const ctrl = new Int32Array(workerData.ctrl);
      Atomics.store(ctrl, ${ERR}, 1);
      Atomics.add(ctrl, ${READY}, 1);
      Atomics.notify(ctrl, ${READY});`;
  const workers: Worker[] = [];
  const ports: MessagePort[] = [];
  for (let id = 0; id < threads; id++) {
    const { port1, port2 } = new MessageChannel();
    const data: BootData = { kind: 'mnist-duel-simd-worker', id, threads, module, memory: engine.memory, layout: engine.layout, ctrl: ctrlBuf, err: errBuf, port: port2 };
    const w = tsWorker(import.meta.url, data, [port2], onBootError);
    w.unref();
    port1.unref();
    workers.push(w);
    ports.push(port1);
  }

  let ready = false;
  let disposed = false;
  const known = new Map<SharedArrayBuffer, number>();
  let nextId = 1;
  let xStage: Float32Array | null = null;
  let yStage: Uint8Array | null = null;
  let mStage: Float32Array | null = null;
  let out: Uint8Array | null = null;

  const fail = (): never => {
    const bytes = new Uint8Array(errBuf).slice();
    const end = bytes.indexOf(0);
    throw new Error(`scratch-simd worker thread failed: ${new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end))}`);
  };
  const spin = spins(threads);
  let lastJobMs = 0;
  const waitFor = (word: number, target: number, timeoutMs: number, what: string) => {
    const t0 = Date.now();
    if (spin) {
      const ms = Math.min(CALLER_SPIN_MAX_MS, Math.max(CALLER_SPIN_MIN_MS, 1.5 * lastJobMs));
      for (let v = Atomics.load(ctrl, word), t1 = performance.now(); v < target && performance.now() - t1 < ms; v = Atomics.load(ctrl, word)) {
        spinWhile(ctrl, word, v, ms);
      }
    }
    for (;;) {
      const v = Atomics.load(ctrl, word);
      if (Atomics.load(ctrl, ERR)) fail();
      if (v >= target) return;
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`scratch-simd worker threads: ${what} timed out after ${timeoutMs} ms`);
      Atomics.wait(ctrl, word, v, Math.min(left, 1000));
    }
  };
  const register = (sab: SharedArrayBuffer, kind: BufferMsg['kind']): number => {
    let id = known.get(sab);
    if (id === undefined) {
      id = nextId++;
      known.set(sab, id);
      const msg: BufferMsg = { id, kind, sab };
      for (const p of ports) p.postMessage(msg);
    }
    return id;
  };
  /** a staging buffer of at least n elements, bounded like the wasm memory */
  const staging = <T extends Float32Array | Uint8Array>(cur: T | null, n: number, make: (sab: SharedArrayBuffer) => T, bytesPer: number): T => {
    if (cur && cur.length >= n) return cur;
    if (n * bytesPer > MAX_MEMORY_BYTES) {
      throw new Error(`scratch-simd: a batch of ${n * bytesPer} bytes would be copied to shared memory for the worker threads, over the bound of ${MAX_MEMORY_BYTES}; pass it in a SharedArrayBuffer (sharedBatch) or split it`);
    }
    return make(new SharedArrayBuffer(n * bytesPer));
  };
  const placeX = (x: Float32Array, n: number): [number, number] => {
    if (x.buffer instanceof SharedArrayBuffer) return [register(x.buffer, 'f32'), x.byteOffset >> 2];
    xStage = staging(xStage, n, (s) => new Float32Array(s), 4);
    xStage.set(x.subarray(0, n));
    return [register(xStage.buffer as SharedArrayBuffer, 'f32'), 0];
  };
  const placeY = (y: Uint8Array, n: number): [number, number] => {
    if (y.buffer instanceof SharedArrayBuffer) return [register(y.buffer, 'u8'), y.byteOffset];
    yStage = staging(yStage, n, (s) => new Uint8Array(s), 1);
    yStage.set(y.subarray(0, n));
    return [register(yStage.buffer as SharedArrayBuffer, 'u8'), 0];
  };
  const placeMasks = (masks: Float32Array[], m: number): number => {
    mStage = staging(mStage, m * hidden.reduce((a, b) => a + b, 0), (s) => new Float32Array(s), 4);
    let o = 0;
    for (const mk of masks) {
      mStage.set(mk.subarray(0, mk.length), o);
      o += mk.length;
    }
    return register(mStage.buffer as SharedArrayBuffer, 'f32');
  };
  const start = (working: number) => {
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, BARRIER, 0);
    ctrl[WORKING] = working;
    const t0 = performance.now();
    for (let w = 0; w < working; w++) {
      Atomics.add(ctrl, GEN0 + w, 1);
      Atomics.notify(ctrl, GEN0 + w);
    }
    waitFor(DONE, working, 10 * 60_000, 'a job');
    lastJobMs = performance.now() - t0;
  };
  const begin = () => {
    if (disposed) throw new Error('scratch-simd worker threads: used after dispose()');
    if (!ready) {
      waitFor(READY, threads, START_TIMEOUT_MS, 'starting');
      ready = true;
    }
  };

  return {
    threads,
    engine,
    sums(batch, act, masks) {
      begin();
      const { m } = batch;
      const [xid, xoff] = placeX(batch.x, m * INPUT);
      const [yid, yoff] = placeY(batch.y, m);
      ctrl[KIND] = SUMS;
      ctrl[M] = m;
      ctrl[XID] = xid;
      ctrl[XOFF] = xoff;
      ctrl[YID] = yid;
      ctrl[YOFF] = yoff;
      ctrl[ACT] = ACTIVATIONS.indexOf(act);
      ctrl[MASKED] = masks ? 1 : 0;
      ctrl[MID] = masks ? placeMasks(masks, m) : 0;
      start(Math.min(threads, Math.ceil(m / BLOCK)));
    },
    predict(x, m, act) {
      if (m === 0) return new Uint8Array(0);
      begin();
      const [xid, xoff] = placeX(x, m * INPUT);
      out = staging(out, m, (s) => new Uint8Array(s), 1);
      ctrl[KIND] = PREDICT;
      ctrl[M] = m;
      ctrl[XID] = xid;
      ctrl[XOFF] = xoff;
      ctrl[ACT] = ACTIVATIONS.indexOf(act);
      ctrl[OID] = register(out.buffer as SharedArrayBuffer, 'u8');
      start(Math.min(threads, Math.ceil(m / BLOCK)));
      return out.slice(0, m);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      Atomics.store(ctrl, QUIT, 1);
      for (let w = 0; w < threads; w++) {
        Atomics.add(ctrl, GEN0 + w, 1);
        Atomics.notify(ctrl, GEN0 + w);
      }
      for (const p of ports) p.close();
      for (const w of workers) void w.terminate();
    },
  };
}

// ---- the worker side ----

function workerMain(d: BootData): void {
  const { id, layout, port } = d;
  const ctrl = new Int32Array(d.ctrl);
  const k = instantiate(d.module, d.memory);
  const e: Engine = { layout, memory: d.memory, k, ...views(d.memory) };
  const ws = layout.workspaces[id];
  const hidden = hiddenOf(layout.sizes);
  const f32 = new Map<number, Float32Array>();
  const u8 = new Map<number, Uint8Array>();
  const drain = () => {
    for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
      const b = msg.message as BufferMsg;
      if (b.kind === 'f32') f32.set(b.id, new Float32Array(b.sab));
      else u8.set(b.id, new Uint8Array(b.sab));
    }
  };
  const spin = spins(d.threads);
  /** waits until ctrl[word] ≥ target, spinning up to `spinMs` first; throws if another worker failed meanwhile */
  const waitAtLeast = (word: number, target: number, spinMs: number) => {
    const t0 = performance.now();
    let v = Atomics.load(ctrl, word);
    while (v < target && performance.now() - t0 < spinMs) {
      if (Atomics.load(ctrl, ERR)) throw new Error('another worker failed');
      spinWhile(ctrl, word, v, spinMs / 8);
      v = Atomics.load(ctrl, word);
    }
    for (; v < target; v = Atomics.load(ctrl, word)) {
      if (Atomics.load(ctrl, ERR)) throw new Error('another worker failed');
      Atomics.wait(ctrl, word, v, 100);
    }
  };

  function job(): void {
    drain();
    const m = ctrl[M], N = ctrl[WORKING], act = ctrl[ACT];
    const x = f32.get(ctrl[XID])!.subarray(ctrl[XOFF], ctrl[XOFF] + m * INPUT);
    const { net, total } = layout;
    if (ctrl[KIND] === PREDICT) {
      const out = u8.get(ctrl[OID])!;
      const lo = Math.floor((id * m) / N), hi = Math.floor(((id + 1) * m) / N);
      for (let i0 = lo; i0 < hi; i0 += BLOCK) {
        const n = Math.min(BLOCK, hi - i0);
        stage(e, ws, x, null, i0, n, undefined);
        k.predict(net, ws.desc, n, act, ws.preds);
        out.set(e.u8.subarray(ws.preds, ws.preds + n), i0);
      }
      return;
    }
    const y = u8.get(ctrl[YID])!.subarray(ctrl[YOFF], ctrl[YOFF] + m);
    let masks: Float32Array[] | undefined;
    if (ctrl[MASKED]) {
      const all = f32.get(ctrl[MID])!;
      let o = 0;
      masks = hidden.map((w) => all.subarray(o, (o += m * w)));
    }
    const masked = masks ? 1 : 0;
    const nb = Math.ceil(m / BLOCK);
    if (nb === 1) {
      stage(e, ws, x, y, 0, m, masks);
      k.blockSums(net, ws.desc, m, act, masked, total);
      return;
    }
    const { slots, partials, sumsBytes } = layout;
    const vectors = sumsBytes >> 4;
    // this worker's share of the elements of the total, in whole 16-byte vectors
    const elo = Math.floor((id * vectors) / N) << 4, ehi = Math.floor(((id + 1) * vectors) / N) << 4;
    let arrived = 0;
    const barrier = () => {
      arrived += N;
      if (Atomics.add(ctrl, BARRIER, 1) + 1 === arrived) Atomics.notify(ctrl, BARRIER);
      waitAtLeast(BARRIER, arrived, BARRIER_SPIN_MS);
    };
    for (let w0 = 0; w0 < nb; w0 += slots) {
      const count = Math.min(slots, nb - w0);
      const lo = w0 + Math.floor((id * count) / N), hi = w0 + Math.floor(((id + 1) * count) / N);
      for (let b = lo; b < hi; b++) {
        const i0 = b * BLOCK, n = Math.min(BLOCK, m - i0);
        stage(e, ws, x, y, i0, n, masks);
        k.blockSums(net, ws.desc, n, act, masked, partials + (b - w0) * sumsBytes);
      }
      barrier(); // every block of the wave is in its slot
      k.foldSlots(total, partials, sumsBytes, count, w0 === 0 ? 1 : 0, elo, ehi);
      if (w0 + count < nb) barrier(); // every share is folded: the slots may be reused
    }
  }

  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  const GEN = GEN0 + id;
  let gen = 0;
  for (;;) {
    if (!(spin && spinWhile(ctrl, GEN, gen, WORKER_SPIN_MS))) Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, QUIT)) break;
    try {
      job();
    } catch (err) {
      if (!Atomics.load(ctrl, ERR)) {
        const msg = new TextEncoder().encode(`worker ${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`).subarray(0, ERR_BYTES);
        new Uint8Array(d.err).set(msg);
        Atomics.store(ctrl, ERR, 1);
      }
      Atomics.notify(ctrl, BARRIER);
    }
    if (Atomics.add(ctrl, DONE, 1) + 1 === ctrl[WORKING]) Atomics.notify(ctrl, DONE);
  }
  port.close();
}

if (!isMainThread && (workerData as BootData | undefined)?.kind === 'mnist-duel-simd-worker') workerMain(workerData as BootData);

/**
 * The scratch network's gradients (and its gradient-descent update) on worker threads, over
 * SharedArrayBuffers, with results bit-identical to the single-threaded `gradientsInto` + `sgdUpdate`.
 *
 * How the work is split: a batch is cut into blocks of BLOCK samples (network.ts). Each block's gradient
 * sums are computed from zero by one worker into its own slot of a shared array; once all blocks are done,
 * worker 0 adds the slots up in block order, takes the 1/m and applies the update. That is exactly what
 * `gradientsInto` does on one thread (block by block, added in order), so the sums, and every bit of the
 * result, do not depend on the number of threads. A batch of one block is done whole by worker 0.
 *
 * Synchronisation is by Atomics on a shared control array: the caller writes a job, bumps the generation
 * counter of each worker it needs and waits (Atomics.wait) until they have reported done, so a step stays
 * synchronous. The
 * caller's thread computes nothing, so `threads: 1` is one worker doing the work of the calling thread.
 * That is worth having on its own: the workers load only this module and network.ts, in a fresh V8
 * isolate. Under tsx on Node 20, importing any CommonJS package (tfjs, cli-table3, …) detaches an
 * ArrayBuffer in the main isolate, which permanently turns off V8's "no ArrayBuffer is ever detached"
 * fast path and makes every typed-array access in the kernels ~25% slower there (measured); a worker's
 * isolate keeps the fast path.
 *
 * Data: parameters and gradients live in SharedArrayBuffers owned by the pool (`pool.params`,
 * `pool.grads`). A batch whose arrays already sit in a SharedArrayBuffer is read in place (its buffer is
 * sent to the workers once); any other batch is copied into a shared staging buffer first, and so are
 * dropout masks.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, receiveMessageOnPort, workerData, type MessagePort, type Worker } from 'node:worker_threads';
import { tsWorker } from '../core/workers.ts';
import { ACTIVATIONS, INPUT as INPUT_, hiddenOf, type Activation, type Batch, type Layer, type Params } from '../core/types.ts';
import { UserError } from '../core/errors.ts';
import { addSums, BLOCK, blockSums, createWorkspace, finishGradients, gradientsInto, sgdUpdate, sumsLength, sumsView, type GradSums } from './network.ts';

const INPUT: number = INPUT_;
/** Memory for the blocks' partial sums of one wave (at least one slot per worker). */
const PARTIALS_BYTES = 64 * 1024 * 1024;

// control words (Int32Array over a SharedArrayBuffer)
const DONE = 1; // workers finished with the current job
const BARRIER = 2; // workers finished with their blocks
const READY = 3; // workers started
const ERR = 4; // 1 when a worker failed; the message is in the error buffer
const QUIT = 5; // 1: workers exit at the next generation
const M = 6, XID = 7, XOFF = 8, YID = 9, YOFF = 10, ACT = 11, UPDATE = 12, PARTIALS = 13, WORKING = 14;
const MASKS = 15; // 1: masks in the staging buffer MID (0: no dropout)
const MID = 16;
const SLOTS = 17; // blocks per wave
const WAVE = 18; // waves worker 0 has added up in the current job
const GEN0 = 20; // GEN0 + id: worker id's job generation, bumped by the caller to start a job on that worker
const ctrlWords = (threads: number) => GEN0 + threads;
// float64 words
const LR = 0, LOSS = 1;
const ERR_BYTES = 2048;

const START_TIMEOUT_MS = 120_000;
// Waking a sleeping thread costs 10–40 µs here (futex + scheduler), as much as a whole step on a small
// batch: a worker that has finished spins this long for its next job before it sleeps, and the caller
// spins this long for the result (enough for tiny batches) before it sleeps. Only while the workers
// leave a core free: spinning threads that outnumber the cores only steal time from the working ones.
const WORKER_SPIN_MS = 0.2;
const CALLER_SPIN_MS = 0.02;
const spins = (threads: number) => threads < availableParallelism();

/** Spins until ctrl[word] !== value or `ms` have passed; true if the value changed. */
function spinWhile(ctrl: Int32Array, word: number, value: number, ms: number): boolean {
  const t0 = performance.now();
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctrl, word) !== value) return true;
  } while (performance.now() - t0 < ms);
  return false;
}

interface Shared {
  ctrl: SharedArrayBuffer; // Int32 × ctrlWords(threads)
  f64: SharedArrayBuffer; // Float64 × 2
  err: SharedArrayBuffer; // UTF-8 error message
  params: SharedArrayBuffer; // Float32: W1 | b1 | W2 | b2 | …
  grads: SharedArrayBuffer; // same layout
}

interface BootData {
  kind: 'mnist-duel-scratch-worker';
  id: number;
  threads: number;
  sizes: number[];
  shared: Shared;
  port: MessagePort;
}

/** A registered shared buffer, sent to every worker once: batch data (float32 or uint8) or the partial sums. */
type BufferMsg = { id: number; kind: 'f32' | 'u8' | 'partials'; sab: SharedArrayBuffer };

function paramsView(sab: SharedArrayBuffer, sizes: readonly number[]): Params {
  let o = 0;
  const take = (n: number) => {
    const a = new Float32Array(sab, o * 4, n);
    o += n;
    return a;
  };
  const layers: Layer[] = [];
  for (let l = 1; l < sizes.length; l++) layers.push({ W: take(sizes[l] * sizes[l - 1]), b: take(sizes[l]) });
  return { layers };
}

const paramFloats = (sizes: readonly number[]) => sumsLength(sizes) - 1;
const maskFloats = (sizes: readonly number[]) => hiddenOf(sizes).reduce((a, b) => a + b, 0);

export interface ThreadPool {
  readonly threads: number;
  readonly sizes: readonly number[];
  /** The pool's parameters, in shared memory: what `run` reads and (with an lr) updates. */
  readonly params: Params;
  /** The gradients of the last `run`, in shared memory. */
  readonly grads: Params;
  /**
   * `gradientsInto(params, batch, grads, act, masks)` on the workers; with lr ≠ null also
   * `sgdUpdate(params, grads, lr)`. Returns the batch-mean loss. Blocks the calling thread until done.
   */
  run(batch: Batch, act: Activation, masks: Float32Array[] | undefined, lr: number | null): number;
  /** Stops the workers. */
  dispose(): void;
}

/**
 * Starts `threads` workers for a network of the given layer sizes (the workers are ready on first use).
 * `slotsPerWave` overrides how many blocks' partial sums one wave holds (default: as many as fit in
 * PARTIALS_BYTES); results do not depend on it.
 */
export function createThreadPool(threads: number, layerSizes: readonly number[], opts: { slotsPerWave?: number } = {}): ThreadPool {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UserError(`threads must be an integer in 1..256, got ${threads}`);
  const sizes = [...layerSizes];
  const shared: Shared = {
    ctrl: new SharedArrayBuffer(ctrlWords(threads) * 4),
    f64: new SharedArrayBuffer(2 * 8),
    err: new SharedArrayBuffer(ERR_BYTES),
    params: new SharedArrayBuffer(paramFloats(sizes) * 4),
    grads: new SharedArrayBuffer(paramFloats(sizes) * 4),
  };
  const ctrl = new Int32Array(shared.ctrl);
  const f64 = new Float64Array(shared.f64);
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];

  // a worker that cannot load this file says so through the shared error buffer
  const onBootError = `
      const msg = new TextEncoder().encode(String(e && e.stack || e)).subarray(0, ${ERR_BYTES});
      new Uint8Array(workerData.shared.err).set(msg);
      const ctrl = new Int32Array(workerData.shared.ctrl);
      Atomics.store(ctrl, ${ERR}, 1);
      Atomics.add(ctrl, ${READY}, 1);
      Atomics.notify(ctrl, ${READY});`;
  for (let id = 0; id < threads; id++) {
    const { port1, port2 } = new MessageChannel();
    const data: BootData = { kind: 'mnist-duel-scratch-worker', id, threads, sizes, shared, port: port2 };
    const w = tsWorker(import.meta.url, data, [port2], onBootError);
    w.unref();
    port1.unref();
    workers.push(w);
    ports.push(port1);
  }

  let ready = false;
  let disposed = false;
  const known = new Map<SharedArrayBuffer, number>(); // buffers the workers have been sent
  let nextId = 1;
  let partials: SharedArrayBuffer | null = null;
  let partialsId = 0;
  let xStage: Float32Array | null = null;
  let yStage: Uint8Array | null = null;
  let mStage: Float32Array | null = null;
  const L = sumsLength(sizes);
  const slotsPerWave = Math.max(threads, opts.slotsPerWave ?? Math.floor(PARTIALS_BYTES / (L * 8)));

  const fail = (): never => {
    const bytes = new Uint8Array(shared.err).slice();
    const end = bytes.indexOf(0);
    const msg = new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    throw new Error(`scratch worker thread failed: ${msg}`);
  };

  const spin = spins(threads);
  const waitFor = (word: number, target: number, timeoutMs: number, what: string) => {
    const t0 = Date.now();
    if (spin) spinWhile(ctrl, word, Atomics.load(ctrl, word), CALLER_SPIN_MS);
    for (;;) {
      const v = Atomics.load(ctrl, word);
      if (Atomics.load(ctrl, ERR)) fail();
      if (v >= target) return;
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`scratch worker threads: ${what} timed out after ${timeoutMs} ms`);
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

  /** Where the workers find a typed array: a registered shared buffer and an element offset. */
  function placeX(x: Float32Array, n: number): [number, number] {
    if (x.buffer instanceof SharedArrayBuffer) return [register(x.buffer, 'f32'), x.byteOffset / 4];
    if (!xStage || xStage.length < n) xStage = new Float32Array(new SharedArrayBuffer(n * 4));
    xStage.set(x.subarray(0, n));
    return [register(xStage.buffer as SharedArrayBuffer, 'f32'), 0];
  }
  function placeY(y: Uint8Array, n: number): [number, number] {
    if (y.buffer instanceof SharedArrayBuffer) return [register(y.buffer, 'u8'), y.byteOffset];
    if (!yStage || yStage.length < n) yStage = new Uint8Array(new SharedArrayBuffer(n));
    yStage.set(y.subarray(0, n));
    return [register(yStage.buffer as SharedArrayBuffer, 'u8'), 0];
  }

  /** The masks, one after another (layer by layer, each m×width), in a shared staging buffer. */
  function placeMasks(masks: Float32Array[], m: number): number {
    const n = m * maskFloats(sizes);
    if (!mStage || mStage.length < n) mStage = new Float32Array(new SharedArrayBuffer(n * 4));
    let o = 0;
    for (const mk of masks) {
      mStage.set(mk, o);
      o += mk.length;
    }
    return register(mStage.buffer as SharedArrayBuffer, 'f32');
  }

  return {
    threads,
    sizes,
    params: paramsView(shared.params, sizes),
    grads: paramsView(shared.grads, sizes),
    run(batch: Batch, act: Activation, masks: Float32Array[] | undefined, lr: number | null): number {
      if (disposed) throw new Error('scratch worker threads: used after dispose()');
      const { m } = batch;
      if (m < 1) throw new Error('gradients: empty batch');
      if (!ready) {
        waitFor(READY, threads, START_TIMEOUT_MS, 'starting');
        ready = true;
      }
      const nb = Math.ceil(m / BLOCK);
      const working = Math.min(threads, nb); // a batch of one block is done by worker 0 alone
      const slots = Math.min(nb, slotsPerWave);
      if (nb > 1) {
        const need = slots * L * 8;
        if (!partials || partials.byteLength < need) {
          partials = new SharedArrayBuffer(need);
          partialsId = register(partials, 'partials');
        }
      }
      const [xid, xoff] = placeX(batch.x, m * INPUT);
      const [yid, yoff] = placeY(batch.y, m);
      ctrl[M] = m;
      ctrl[XID] = xid;
      ctrl[XOFF] = xoff;
      ctrl[YID] = yid;
      ctrl[YOFF] = yoff;
      ctrl[ACT] = ACTIVATIONS.indexOf(act);
      ctrl[UPDATE] = lr === null ? 0 : 1;
      ctrl[PARTIALS] = partialsId;
      ctrl[WORKING] = working;
      ctrl[MASKS] = masks ? 1 : 0;
      ctrl[MID] = masks ? placeMasks(masks, m) : 0;
      ctrl[SLOTS] = slots;
      Atomics.store(ctrl, WAVE, 0);
      f64[LR] = lr ?? 0;
      Atomics.store(ctrl, DONE, 0);
      Atomics.store(ctrl, BARRIER, 0);
      for (let w = 0; w < working; w++) {
        Atomics.add(ctrl, GEN0 + w, 1); // publishes the job (Atomics are sequentially consistent)
        Atomics.notify(ctrl, GEN0 + w);
      }
      waitFor(DONE, working, 10 * 60_000, 'a step');
      return f64[LOSS];
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
  const { id, sizes, shared, port } = d;
  const ctrl = new Int32Array(shared.ctrl);
  const f64 = new Float64Array(shared.f64);
  const params = paramsView(shared.params, sizes);
  const grads = paramsView(shared.grads, sizes);
  const hidden = hiddenOf(sizes);
  const ws = createWorkspace(sizes);
  const L = sumsLength(sizes);
  const f32 = new Map<number, Float32Array>();
  const u8 = new Map<number, Uint8Array>();
  const partials = new Map<number, { buf: Float64Array; views: GradSums[] }>();

  const drain = () => {
    for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
      const b = msg.message as BufferMsg;
      if (b.kind === 'f32') f32.set(b.id, new Float32Array(b.sab));
      else if (b.kind === 'u8') u8.set(b.id, new Uint8Array(b.sab));
      else partials.set(b.id, { buf: new Float64Array(b.sab), views: [] });
    }
  };
  const sumsOf = (p: { buf: Float64Array; views: GradSums[] }, slot: number): GradSums =>
    (p.views[slot] ??= sumsView(p.buf.subarray(slot * L, (slot + 1) * L), sizes));
  /** Waits until ctrl[word] ≥ target; throws if another worker failed meanwhile. */
  const waitAtLeast = (word: number, target: number) => {
    for (let v = Atomics.load(ctrl, word); v < target; v = Atomics.load(ctrl, word)) {
      if (Atomics.load(ctrl, ERR)) throw new Error('another worker failed');
      Atomics.wait(ctrl, word, v, 100);
    }
  };

  function job(): void {
    drain();
    const m = ctrl[M];
    const x = f32.get(ctrl[XID])!, y = u8.get(ctrl[YID])!;
    const batch: Batch = { x: x.subarray(ctrl[XOFF], ctrl[XOFF] + m * INPUT), y: y.subarray(ctrl[YOFF], ctrl[YOFF] + m), m };
    let masks: Float32Array[] | undefined;
    if (ctrl[MASKS]) {
      const all = f32.get(ctrl[MID])!;
      let o = 0;
      masks = hidden.map((w) => all.subarray(o, (o += m * w)));
    }
    const act = ACTIVATIONS[ctrl[ACT]];
    const lr = ctrl[UPDATE] ? f64[LR] : null;
    const nb = Math.ceil(m / BLOCK);
    const N = ctrl[WORKING];
    if (nb === 1) {
      // one block: worker 0 (alone) does exactly what the single-threaded code does
      f64[LOSS] = gradientsInto(params, batch, grads, act, masks, ws);
      if (lr !== null) sgdUpdate(params, grads, lr);
      return;
    }
    // in waves of S blocks: each worker a contiguous run of the wave's blocks, each block's sums from zero
    // into its own slot; worker 0 then adds the slots to the total in block order (as gradientsInto does)
    const p = partials.get(ctrl[PARTIALS])!;
    const S = ctrl[SLOTS];
    if (id === 0) ws.total.fill(0);
    for (let w0 = 0, wave = 0; w0 < nb; w0 += S, wave++) {
      const count = Math.min(S, nb - w0);
      if (id !== 0) waitAtLeast(WAVE, wave); // worker 0 has read the previous wave's slots
      const lo = w0 + Math.floor((id * count) / N), hi = w0 + Math.floor(((id + 1) * count) / N);
      for (let b = lo; b < hi; b++) {
        const slot = b - w0;
        p.buf.fill(0, slot * L, (slot + 1) * L);
        blockSums(params, batch, b * BLOCK, Math.min(m, (b + 1) * BLOCK), act, masks, ws, sumsOf(p, slot));
      }
      if (Atomics.add(ctrl, BARRIER, 1) + 1 === N * (wave + 1)) Atomics.notify(ctrl, BARRIER);
      if (id !== 0) continue;
      waitAtLeast(BARRIER, N * (wave + 1));
      for (let slot = 0; slot < count; slot++) addSums(ws.total, p.buf.subarray(slot * L, (slot + 1) * L));
      Atomics.store(ctrl, WAVE, wave + 1);
      Atomics.notify(ctrl, WAVE);
    }
    if (id !== 0) return;
    f64[LOSS] = finishGradients(ws.totalSums, grads, m);
    if (lr !== null) sgdUpdate(params, grads, lr);
  }

  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  const GEN = GEN0 + id;
  const spin = spins(d.threads);
  let gen = 0; // generations start at 0; the first job may be published before this line runs
  for (;;) {
    if (!(spin && spinWhile(ctrl, GEN, gen, WORKER_SPIN_MS))) Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, QUIT)) break;
    try {
      job();
    } catch (e) {
      if (!Atomics.load(ctrl, ERR)) {
        const msg = new TextEncoder().encode(`worker ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`).subarray(0, ERR_BYTES);
        new Uint8Array(shared.err).set(msg);
        Atomics.store(ctrl, ERR, 1);
      }
      Atomics.notify(ctrl, BARRIER);
      Atomics.notify(ctrl, WAVE);
    }
    if (Atomics.add(ctrl, DONE, 1) + 1 === ctrl[WORKING]) Atomics.notify(ctrl, DONE);
  }
  port.close();
}

if (!isMainThread && (workerData as BootData | undefined)?.kind === 'mnist-duel-scratch-worker') workerMain(workerData as BootData);

/** A copy of a batch in shared memory, which worker threads read in place (no staging copy per step). */
export function sharedBatch(b: Batch): Batch {
  const x = new Float32Array(new SharedArrayBuffer(b.x.byteLength));
  x.set(b.x);
  const y = new Uint8Array(new SharedArrayBuffer(b.y.byteLength));
  y.set(b.y);
  return { x, y, m: b.m };
}

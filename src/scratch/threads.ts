/**
 * The scratch network's gradients (and its gradient-descent update) on worker threads, over
 * SharedArrayBuffers, with results bit-identical to the single-threaded `gradientsInto` + `sgdUpdate`.
 * The workers, their start, synchronisation and errors are the runtime's (src/core/pool.ts); this file is
 * what a job does.
 *
 * How the work is split: a batch is cut into blocks of SCRATCH_BLOCK samples (network.ts), handled in waves of up
 * to `slotsPerWave` blocks. In a wave, each worker computes a contiguous run of the blocks, each block's
 * sums from zero into its own slot of a shared array; after a barrier worker 0 adds the slots up in block
 * order, and after the last wave takes the 1/m and applies the update. That is exactly what
 * `gradientsInto` does on one thread (block by block, added in order), so the sums, and every bit of the
 * result, do not depend on the number of threads. A batch of one block is done whole by worker 0.
 *
 * The caller's thread computes nothing, so `threads: 1` is one worker doing the work of the calling thread.
 * That is worth having on its own: the workers load only this module and network.ts, in a fresh V8
 * isolate. Under tsx on Node 20, importing any CommonJS package (tfjs, cli-table3, …) detaches an
 * ArrayBuffer in the main isolate, which permanently turns off V8's "no ArrayBuffer is ever detached"
 * fast path and makes every typed-array access in the kernels ~25% slower there (measured); a worker's
 * isolate keeps the fast path.
 *
 * Data: parameters and gradients live in SharedArrayBuffers owned by the pool (`pool.params`,
 * `pool.grads`). A batch in shared memory is read in place; any other batch, and the dropout masks, are
 * staged (src/core/pool.ts).
 */
import { serveJobs, startPool } from '../core/pool.ts';
import { ACTIVATIONS, INPUT as INPUT_, hiddenOf, type Activation, type Batch, type Layer, type Params } from '../core/types.ts';
import { addSums, SCRATCH_BLOCK, blockSums, createWorkspace, finishGradients, gradientsInto, sgdUpdate, sumsLength, sumsView, type GradSums } from './network.ts';

const INPUT: number = INPUT_;
/** Memory for the blocks' partial sums of one wave (at least one slot per worker). */
const PARTIALS_BYTES = 64 * 1024 * 1024;
const KIND = 'mnist-duel-scratch-worker';

// job words
const M = 0, XID = 1, XOFF = 2, YID = 3, YOFF = 4, ACT = 5, UPDATE = 6, PARTIALS = 7, MID = 8, SLOTS = 9;
const JOB_WORDS = 10;
// float64 words
const LR = 0, LOSS = 1;

interface Shared {
  f64: SharedArrayBuffer; // Float64 × 2
  params: SharedArrayBuffer; // Float32: W1 | b1 | W2 | b2 | …
  grads: SharedArrayBuffer; // same layout
  sizes: number[];
}

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
  const sizes = [...layerSizes];
  const shared: Shared = {
    f64: new SharedArrayBuffer(2 * 8),
    params: new SharedArrayBuffer(paramFloats(sizes) * 4),
    grads: new SharedArrayBuffer(paramFloats(sizes) * 4),
    sizes,
  };
  const pool = startPool({ name: 'scratch', moduleUrl: import.meta.url, kind: KIND, threads, jobWords: JOB_WORDS, data: shared });
  const { job } = pool;
  const f64 = new Float64Array(shared.f64);
  let partials: SharedArrayBuffer | null = null;
  let partialsId = 0;
  const L = sumsLength(sizes);
  const slotsPerWave = Math.max(threads, opts.slotsPerWave ?? Math.floor(PARTIALS_BYTES / (L * 8)));

  return {
    threads,
    sizes,
    params: paramsView(shared.params, sizes),
    grads: paramsView(shared.grads, sizes),
    run(batch, act, masks, lr) {
      const { m } = batch;
      if (m < 1) throw new Error('gradients: empty batch');
      const nb = Math.ceil(m / SCRATCH_BLOCK);
      const slots = Math.min(nb, slotsPerWave);
      if (nb > 1 && (!partials || partials.byteLength < slots * L * 8)) {
        partials = new SharedArrayBuffer(slots * L * 8);
        partialsId = pool.register(partials);
      }
      [job[XID], job[XOFF]] = pool.place(batch.x, m * INPUT, 'x');
      [job[YID], job[YOFF]] = pool.place(batch.y, m, 'y');
      job[M] = m;
      job[ACT] = ACTIVATIONS.indexOf(act);
      job[UPDATE] = lr === null ? 0 : 1;
      job[PARTIALS] = partialsId;
      job[MID] = masks ? pool.placeAll(masks, 'masks') : 0;
      job[SLOTS] = slots;
      f64[LR] = lr ?? 0;
      pool.run(Math.min(threads, nb)); // a batch of one block is done by worker 0 alone
      return f64[LOSS];
    },
    dispose() {
      void pool.dispose();
    },
  };
}

// ---- the worker side: what a job does ----

serveJobs<Shared>(KIND, (ctx) => {
  const { id, job } = ctx;
  const { sizes } = ctx.data;
  const f64 = new Float64Array(ctx.data.f64);
  const params = paramsView(ctx.data.params, sizes);
  const grads = paramsView(ctx.data.grads, sizes);
  const hidden = hiddenOf(sizes);
  const ws = createWorkspace(sizes);
  const L = sumsLength(sizes);
  let slotSums: { id: number; views: GradSums[] } = { id: 0, views: [] };
  const sumsOf = (buf: Float64Array, slot: number): GradSums => {
    if (slotSums.id !== job[PARTIALS]) slotSums = { id: job[PARTIALS], views: [] };
    return (slotSums.views[slot] ??= sumsView(buf.subarray(slot * L, (slot + 1) * L), sizes));
  };

  return () => {
    const m = job[M];
    const batch: Batch = { x: ctx.f32(job[XID]).subarray(job[XOFF], job[XOFF] + m * INPUT), y: ctx.u8(job[YID]).subarray(job[YOFF], job[YOFF] + m), m };
    let masks: Float32Array[] | undefined;
    if (job[MID]) {
      const all = ctx.f32(job[MID]);
      let o = 0;
      masks = hidden.map((w) => all.subarray(o, (o += m * w)));
    }
    const act = ACTIVATIONS[job[ACT]];
    const lr = job[UPDATE] ? f64[LR] : null;
    const nb = Math.ceil(m / SCRATCH_BLOCK);
    if (nb === 1) {
      // one block: worker 0 (alone) does exactly what the single-threaded code does
      f64[LOSS] = gradientsInto(params, batch, grads, act, masks, ws);
      if (lr !== null) sgdUpdate(params, grads, lr);
      return;
    }
    // in waves of S blocks: each worker a contiguous run of the wave's blocks, each block's sums from zero
    // into its own slot; worker 0 then adds the slots to the total in block order (as gradientsInto does)
    const buf = ctx.f64(job[PARTIALS]);
    const S = job[SLOTS], N = ctx.working;
    if (id === 0) ws.total.fill(0);
    for (let w0 = 0; w0 < nb; w0 += S) {
      const count = Math.min(S, nb - w0);
      const lo = w0 + Math.floor((id * count) / N), hi = w0 + Math.floor(((id + 1) * count) / N);
      for (let b = lo; b < hi; b++) {
        const slot = b - w0;
        buf.fill(0, slot * L, (slot + 1) * L);
        blockSums(params, batch, b * SCRATCH_BLOCK, Math.min(m, (b + 1) * SCRATCH_BLOCK), act, masks, ws, sumsOf(buf, slot));
      }
      ctx.barrier(); // every block of the wave is in its slot
      if (id === 0) for (let slot = 0; slot < count; slot++) addSums(ws.total, buf.subarray(slot * L, (slot + 1) * L));
      if (w0 + count < nb) ctx.barrier(); // the slots are added: they may be reused
    }
    if (id !== 0) return;
    f64[LOSS] = finishGradients(ws.totalSums, grads, m);
    if (lr !== null) sgdUpdate(params, grads, lr);
  };
});

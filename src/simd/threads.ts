/**
 * scratch-simd on worker threads: one shared WebAssembly.Memory (fixed size, planned with one workspace per
 * worker), one instance of the shared-memory module per worker, and results bit-identical to the calling
 * thread's (engine.ts) for any number of threads. The workers, their start, synchronisation and errors are
 * the runtime's (src/core/pool.ts); this file is what a job does.
 *
 * How a batch is split: into blocks of SIMD_BLOCK samples, as on the calling thread. A network with wide
 * layers (more than assembly/net.ts's NARROW units, like the deep network's 400 and 100) goes in waves of
 * N blocks, one per worker, block w0 + id on worker id. Each worker computes its block's sums into its own
 * slot of partial sums (the batch's first block straight into the total), except the wide layers' dW,
 * whose float32 column sums it stores in its workspace (1.4 MB for the deep network, rather than 2.8 MB
 * of float64). After a barrier each worker adds the wave's blocks, in block order, to its own share of
 * the elements of the total: the wide dW from the workspaces (`wideFold`), the rest (db, narrow layers,
 * loss) from the slots (`foldSlots`); a second barrier, before the next wave reuses them. Without wide layers (784-10-10), waves of up to `slots`
 * blocks (all 469 of a 60,000-sample batch in one wave; the slots take at most PARTIALS_BYTES): each of the
 * N workers computes a contiguous run of the blocks into slots, then after a barrier adds the wave's slots
 * to its share of the elements. Either way each element of the total gets ((S0 + S1) + S2) + …, exactly the
 * additions the calling thread makes, whatever N. A batch of one block is done by worker 0 alone, and one
 * worker does what the calling thread does (engine.ts batchSums: each block's wide dW straight into the
 * total, measured 1.09× faster than through its slots). Each worker then applies the step's update (SGD or Adam, elementwise) to the parameters
 * of its share of the sums, the elements it folded itself (so no barrier after the last wave), and the
 * calling thread refreshes the row-major copies once: the same operations on the same elements as
 * without threads.
 *
 * Data: each worker copies its blocks' rows (images, labels, mask rows) into its workspace. A batch in
 * shared memory is read in place; any other batch, and the dropout masks, are staged (src/core/pool.ts),
 * within the bound of the wasm memory.
 */
import { serveJobs, startPool } from '../core/pool.ts';
import { ACTIVATIONS, INPUT, hiddenOf, type Activation, type Batch } from '../core/types.ts';
import { applyWritten, batchSums, createEngine, instantiate, loadModule, stage, views, writeUpdate, type Engine, type Update, type Validate } from './engine.ts';
import { SIMD_BLOCK, MAX_MEMORY_BYTES, sumsBytesOf, type Layout } from './layout.ts';

const KIND = 'mnist-duel-simd-worker';
// job words
const TASK = 0, M = 1, XID = 2, XOFF = 3, YID = 4, YOFF = 5, ACT = 6, MID = 7, OID = 8, UPD = 9;
const JOB_WORDS = 10;
const SUMS = 1, PREDICT = 2;
/** The budget of the blocks' partial sums in the shared memory (at least two blocks per worker). */
const PARTIALS_BYTES = 32 * 1024 * 1024;
const MAX_SLOTS = 512;

interface Shared {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  layout: Layout;
}

export interface SimdPool {
  readonly threads: number;
  /** the shared memory and the calling thread's instance over it */
  readonly engine: Engine;
  /** the batch's float64 sums at layout.total, computed by the workers, then the update applied */
  step(batch: Batch, act: Activation, masks: Float32Array[] | undefined, update: Update): void;
  predict(x: Float32Array, m: number, act: Activation): Uint8Array;
  dispose(): void;
}

export function createSimdPool(threads: number, sizes: readonly number[], adam: boolean, validate?: Validate): SimdPool {
  const slots = Math.max(2 * threads, Math.min(MAX_SLOTS, Math.floor(PARTIALS_BYTES / sumsBytesOf(sizes))));
  const engine = createEngine(sizes, { workspaces: threads, shared: true, adam, validate, slots });
  const data: Shared = { module: loadModule('shared', validate), memory: engine.memory, layout: engine.layout };
  const pool = startPool({ name: 'scratch-simd', moduleUrl: import.meta.url, kind: KIND, threads, jobWords: JOB_WORDS, data, maxStagingBytes: MAX_MEMORY_BYTES });
  const { job } = pool;
  const blocks = (m: number) => Math.min(threads, Math.ceil(m / SIMD_BLOCK));

  return {
    threads,
    engine,
    step(batch, act, masks, update) {
      const { m } = batch;
      job[UPD] = writeUpdate(engine, update);
      [job[XID], job[XOFF]] = pool.place(batch.x, m * INPUT, 'x');
      [job[YID], job[YOFF]] = pool.place(batch.y, m, 'y');
      job[TASK] = SUMS;
      job[M] = m;
      job[ACT] = ACTIVATIONS.indexOf(act);
      job[MID] = masks ? pool.placeAll(masks, 'masks') : 0;
      pool.run(blocks(m));
      engine.k.paramsChanged(engine.layout.net);
    },
    predict(x, m, act) {
      if (m === 0) return new Uint8Array(0);
      [job[XID], job[XOFF]] = pool.place(x, m * INPUT, 'x');
      const out = pool.staging<Uint8Array<SharedArrayBuffer>>('out', Uint8Array, m);
      job[TASK] = PREDICT;
      job[M] = m;
      job[ACT] = ACTIVATIONS.indexOf(act);
      job[OID] = pool.register(out.buffer);
      pool.run(blocks(m));
      return out.slice(0, m);
    },
    dispose() {
      void pool.dispose();
    },
  };
}

// ---- the worker side: what a job does ----

serveJobs<Shared>(KIND, (ctx) => {
  const { id, job } = ctx;
  const { layout, memory } = ctx.data;
  const k = instantiate(ctx.data.module, memory);
  const e: Engine = { layout, memory, k, ...views(memory) };
  const ws = layout.workspaces[id];
  const hidden = hiddenOf(layout.sizes);

  return () => {
    const m = job[M], N = ctx.working, act = job[ACT];
    const x = ctx.f32(job[XID]).subarray(job[XOFF], job[XOFF] + m * INPUT);
    const { net, total } = layout;
    if (job[TASK] === PREDICT) {
      const out = ctx.u8(job[OID]);
      const lo = Math.floor((id * m) / N), hi = Math.floor(((id + 1) * m) / N);
      for (let i0 = lo; i0 < hi; i0 += SIMD_BLOCK) {
        const n = Math.min(SIMD_BLOCK, hi - i0);
        stage(e, ws, x, null, i0, n, undefined);
        k.predict(net, ws.desc, n, act, ws.preds);
        out.set(e.u8.subarray(ws.preds, ws.preds + n), i0);
      }
      return;
    }
    const y = ctx.u8(job[YID]).subarray(job[YOFF], job[YOFF] + m);
    let masks: Float32Array[] | undefined;
    if (job[MID]) {
      const all = ctx.f32(job[MID]);
      let o = 0;
      masks = hidden.map((w) => all.subarray(o, (o += m * w)));
    }
    const masked = masks ? 1 : 0;
    const nb = Math.ceil(m / SIMD_BLOCK);
    const { slots, partials, sumsBytes, wide, wsTable, rest, desc } = layout;
    if (N === 1) {
      // one worker does what the calling thread does (engine.ts), block by block straight into the total
      batchSums(e, { x, y, m }, ACTIVATIONS[act], masks);
      applyWritten(e, job[UPD], m, 0, sumsBytes);
      return;
    }
    // this worker's share of the elements of the total, in whole 32-byte units (four float64 sums: the
    // update's unit); the last share ends with the loss
    const units = sumsBytes >> 5;
    const elo = Math.floor((id * units) / N) << 5, ehi = id === N - 1 ? sumsBytes : Math.floor(((id + 1) * units) / N) << 5;
    if (wide) {
      // waves of N blocks, block w0 + id on this worker; after a barrier, every worker adds the wave's
      // blocks to its share of the total: the wide layers' dW from the workspaces (wideFold), the rest from
      // the slots (foldSlots over the non-wide ranges); a second barrier before they are reused
      for (let w0 = 0; w0 < nb; w0 += N) {
        const count = Math.min(N, nb - w0);
        if (id < count) {
          const b = w0 + id, i0 = b * SIMD_BLOCK, n = Math.min(SIMD_BLOCK, m - i0);
          stage(e, ws, x, y, i0, n, masks);
          k.blockSums(net, ws.desc, n, act, masked, b === 0 ? total : partials + id * sumsBytes, total, desc.WIDE_SLOT);
        }
        ctx.barrier(); // every block of the wave is done
        k.wideFold(net, wsTable, count, total, w0 === 0 ? 1 : 0, elo, ehi);
        const skip = w0 === 0 ? 1 : 0; // the batch's first block's rest is in the total already
        for (const [r0, r1] of rest) {
          const lo = Math.max(r0, elo), hi = Math.min(r1, ehi);
          if (lo < hi && count > skip) k.foldSlots(total, partials + skip * sumsBytes, sumsBytes, count - skip, lo, hi);
        }
        if (w0 + count < nb) ctx.barrier(); // every share is added: the workspaces and slots may be reused
      }
    } else {
      for (let w0 = 0; w0 < nb; w0 += slots) {
        const count = Math.min(slots, nb - w0);
        const lo = w0 + Math.floor((id * count) / N), hi = w0 + Math.floor(((id + 1) * count) / N);
        for (let b = lo; b < hi; b++) {
          const i0 = b * SIMD_BLOCK, n = Math.min(SIMD_BLOCK, m - i0);
          stage(e, ws, x, y, i0, n, masks);
          // the batch's first block goes straight into the total (what the calling thread does too)
          k.blockSums(net, ws.desc, n, act, masked, b === 0 ? total : partials + (b - w0) * sumsBytes, total, desc.WIDE_SLOT); // (no wide layers here)
        }
        ctx.barrier(); // every block of the wave is in its slot
        const skip = w0 === 0 ? 1 : 0; // the batch's first block is in the total already, not in slot 0
        k.foldSlots(total, partials + skip * sumsBytes, sumsBytes, count - skip, elo, ehi);
        if (w0 + count < nb) ctx.barrier(); // every share is folded: the slots may be reused
      }
    }
    // the update of this worker's share of the parameters, from the sums it folded
    applyWritten(e, job[UPD], m, elo, ehi);
  };
});

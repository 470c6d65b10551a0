/**
 * The worker runtime of both thread pools (src/scratch/threads.ts, src/simd/threads.ts): N workers that
 * each load a pool's module, and a calling thread that hands them jobs and blocks until they are done.
 * A pool keeps only what a job is (how it splits a batch into blocks and folds their sums); everything
 * else is here.
 *
 * Shared memory: an Int32 control block (the runtime's words, then the pool's job words, then one job
 * generation per worker) and an error buffer. To start a job, the caller writes the job words and bumps the
 * generation of each worker it needs; each worker runs the job callback and counts itself done, and the
 * caller waits (Atomics.wait) until all have, so a job stays synchronous. A worker that fails writes its
 * message and wakes the others waiting at a barrier, which give up; once all are done, the caller throws the
 * message, and the pool stays failed.
 *
 * Spinning: waking a sleeping thread costs 10–40 µs here (futex + scheduler), as much as a whole step on a
 * small batch. So, only while the workers leave a core free (spinning threads that outnumber the cores
 * only steal time from the working ones): an idle worker spins WORKER_SPIN_MS for its next job before it
 * sleeps, and the caller spins for the result about as long as the previous job took (1.5×, at least
 * 0.05 ms, at most 1 ms): a quick result is taken without a wake-up, and a long job, or a machine too busy
 * to run the workers, costs no more than that spin. Within a job, where the caller sleeps, workers at a
 * barrier spin up to BARRIER_SPIN_MS while they do not outnumber the cores.
 *
 * Buffers: a SharedArrayBuffer the workers need (a batch, a staging copy, partial sums) is registered once:
 * it gets an id, is posted to every worker, and a job names it by id. Batches already in shared memory
 * (`sharedBatch`) are read in place; others are copied into a staging buffer of the pool first.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, receiveMessageOnPort, workerData, type MessagePort, type Worker } from 'node:worker_threads';
import { checkThreads } from './checks.ts';
import { UserError } from './errors.ts';
import type { Batch } from './types.ts';
import { tsWorker } from './workers.ts';

// the runtime's control words
const READY = 0; // workers started (or failed to)
const ERR = 1; // NO_ERROR, JOB_ERROR or BOOT_ERROR; the message is in the error buffer
const QUIT = 2; // 1: workers exit at their next generation
const DONE = 3; // workers finished with the current job
const WORKING = 4; // workers in the current job: 0 .. WORKING-1
const BARRIER = 5; // arrivals at barriers in the current job
const ERR_LOCK = 6; // taken by the first worker that fails (at start or in a job), which then writes its message
const JOB0 = 8; // the pool's job words follow
const JOB_ERROR = 1, BOOT_ERROR = 2;
const ERR_BYTES = 2048;

const START_TIMEOUT_MS = 120_000;
const JOB_TIMEOUT_MS = 10 * 60_000;
const WORKER_SPIN_MS = 0.2;
const CALLER_SPIN_MIN_MS = 0.05;
const CALLER_SPIN_MAX_MS = 1;
const BARRIER_SPIN_MS = 0.5;

/** Spins until ctrl[word] !== value or `ms` have passed; true if the value changed. */
function spinWhile(ctrl: Int32Array, word: number, value: number, ms: number): boolean {
  const t0 = performance.now();
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctrl, word) !== value) return true;
  } while (performance.now() - t0 < ms);
  return false;
}

interface Boot<D> {
  kind: string;
  id: number;
  threads: number;
  ctrl: SharedArrayBuffer;
  err: SharedArrayBuffer;
  jobWords: number;
  port: MessagePort;
  data: D;
}

type Shareable = Float32Array | Uint8Array;
type Staged = Float32Array<SharedArrayBuffer> | Uint8Array<SharedArrayBuffer>;
type StagedOf<T extends Staged> = { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };

export interface PoolSpec<D> {
  /** names the pool in errors ('scratch', 'scratch-simd') */
  name: string;
  /** the module that calls `serveJobs(kind, …)` at load (pass `import.meta.url`) */
  moduleUrl: string;
  /** tells that module's workers apart from any other worker */
  kind: string;
  threads: number;
  /** how many job words the pool writes (`pool.job`) */
  jobWords: number;
  /** what every worker gets as `ctx.data` (structured-cloneable: shared buffers, a WebAssembly.Module, …) */
  data: D;
  /** a bound on each staging buffer, in bytes (default: none) */
  maxStagingBytes?: number;
}

/** The calling thread's side of a pool. */
export interface WorkerPool {
  readonly threads: number;
  /** the pool's job words, read by the workers once a job starts */
  readonly job: Int32Array;
  /** the id under which the workers find `sab` (posted to them the first time) */
  register(sab: SharedArrayBuffer): number;
  /**
   * Where the workers find `a[0..n)`: a buffer id and an element offset. An array outside shared memory is
   * copied into the staging buffer named `slot` (kept and grown as needed).
   */
  place(a: Shareable, n: number, slot: string): [number, number];
  /** The arrays one after another in the Float32 staging buffer named `slot`; returns its id. */
  placeAll(parts: readonly Float32Array[], slot: string): number;
  /** A staging buffer of at least n elements, registered with the workers. */
  staging<T extends Staged>(slot: string, make: StagedOf<T>, n: number): T;
  /** Runs the job in `job` on workers 0 .. working-1 and blocks until all are done; throws a worker's error. */
  run(working: number): void;
  /** Ends the workers; resolves once they have exited. */
  dispose(): Promise<void>;
}

/** Starts `spec.threads` workers (they are ready on first use). */
export function startPool<D>(spec: PoolSpec<D>): WorkerPool {
  const { name, threads } = spec;
  // the one rule of checks.ts; a pool needs at least one worker (0 means: no pool, the calling thread)
  if (checkThreads(threads, `${name}: threads`) < 1) throw new UserError(`${name}: threads must be at least 1 for a pool, got 0`);
  const ctrlBuf = new SharedArrayBuffer((JOB0 + spec.jobWords + threads) * 4);
  const errBuf = new SharedArrayBuffer(ERR_BYTES);
  const ctrl = new Int32Array(ctrlBuf);
  const GEN0 = JOB0 + spec.jobWords;
  // a worker that cannot load the module (or whose setup throws) says so in one line, through the error buffer
  const onBootError = `
      const ctrl = new Int32Array(workerData.ctrl);
      if (Atomics.compareExchange(ctrl, ${ERR_LOCK}, 0, 1) === 0) {
        const msg = "worker " + workerData.id + ": " + String(e && e.message || e).split("\\n")[0];
        new Uint8Array(workerData.err).set(new TextEncoder().encode(msg).subarray(0, ${ERR_BYTES}));
        Atomics.store(ctrl, ${ERR}, ${BOOT_ERROR});
      }
      Atomics.add(ctrl, ${READY}, 1);
      Atomics.notify(ctrl, ${READY});`;
  const workers: Worker[] = [];
  const ports: MessagePort[] = [];
  for (let id = 0; id < threads; id++) {
    const { port1, port2 } = new MessageChannel();
    const boot: Boot<D> = { kind: spec.kind, id, threads, ctrl: ctrlBuf, err: errBuf, jobWords: spec.jobWords, port: port2, data: spec.data };
    const w = tsWorker(spec.moduleUrl, boot, [port2], onBootError);
    w.unref();
    port1.unref();
    workers.push(w);
    ports.push(port1);
  }

  let ready = false;
  let disposed: Promise<void> | null = null;
  const known = new Map<SharedArrayBuffer, number>();
  const stages = new Map<string, Staged>();
  const spin = threads < availableParallelism();
  let lastJobMs = 0;

  const fail = (): never => {
    const bytes = new Uint8Array(errBuf).slice();
    const end = bytes.indexOf(0);
    const msg = new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    if (Atomics.load(ctrl, ERR) === BOOT_ERROR) throw new UserError(`${name}: a worker thread could not start: ${msg}`);
    throw new Error(`${name} worker thread failed: ${msg}`);
  };
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
      if (v >= target) return Atomics.load(ctrl, ERR) ? fail() : undefined;
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`${name} worker threads: ${what} timed out after ${timeoutMs} ms`);
      Atomics.wait(ctrl, word, v, Math.min(left, 1000));
    }
  };
  const register = (sab: SharedArrayBuffer): number => {
    let id = known.get(sab);
    if (id === undefined) {
      id = known.size + 1;
      known.set(sab, id);
      for (const p of ports) p.postMessage({ id, sab });
    }
    return id;
  };
  const staging = <T extends Staged>(slot: string, make: StagedOf<T>, n: number): T => {
    const cur = stages.get(slot) as T | undefined;
    if (cur && cur.length >= n) return cur;
    const bytes = n * make.BYTES_PER_ELEMENT;
    if (spec.maxStagingBytes !== undefined && bytes > spec.maxStagingBytes) {
      throw new Error(`${name}: a batch of ${bytes} bytes would be copied to shared memory for the worker threads, over the bound of ${spec.maxStagingBytes}; pass it in a SharedArrayBuffer (sharedBatch) or split it`);
    }
    const a = new make(new SharedArrayBuffer(bytes));
    stages.set(slot, a);
    register(a.buffer);
    return a;
  };

  return {
    threads,
    job: ctrl.subarray(JOB0, GEN0),
    register,
    staging,
    place(a, n, slot) {
      if (a.buffer instanceof SharedArrayBuffer) return [register(a.buffer), a.byteOffset / a.BYTES_PER_ELEMENT];
      const s = staging(slot, a.constructor as StagedOf<Staged>, n);
      s.set(a.subarray(0, n));
      return [register(s.buffer), 0];
    },
    placeAll(parts, slot) {
      const s = staging(slot, Float32Array, parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        s.set(p, o);
        o += p.length;
      }
      return register(s.buffer);
    },
    run(working) {
      if (disposed) throw new Error(`${name} worker threads: used after dispose()`);
      if (!ready) {
        waitFor(READY, threads, START_TIMEOUT_MS, 'starting');
        ready = true;
      }
      if (Atomics.load(ctrl, ERR)) fail(); // a failed pool stays failed
      Atomics.store(ctrl, DONE, 0);
      Atomics.store(ctrl, BARRIER, 0);
      Atomics.store(ctrl, WORKING, working);
      const t0 = performance.now();
      for (let w = 0; w < working; w++) {
        Atomics.add(ctrl, GEN0 + w, 1); // publishes the job (Atomics are sequentially consistent)
        Atomics.notify(ctrl, GEN0 + w);
      }
      waitFor(DONE, working, JOB_TIMEOUT_MS, 'a job');
      lastJobMs = performance.now() - t0;
    },
    dispose() {
      if (disposed) return disposed;
      Atomics.store(ctrl, QUIT, 1);
      for (let w = 0; w < threads; w++) {
        Atomics.add(ctrl, GEN0 + w, 1);
        Atomics.notify(ctrl, GEN0 + w);
      }
      for (const p of ports) p.close();
      disposed = Promise.all(workers.map((w) => w.terminate())).then(() => {});
      return disposed;
    },
  };
}

/** A worker's side of a pool, as its job callback sees it. */
export interface WorkerContext<D> {
  /** this worker's index, 0 .. threads-1 */
  readonly id: number;
  readonly threads: number;
  /** the pool's `data` */
  readonly data: D;
  /** the pool's job words */
  readonly job: Int32Array;
  /** workers in the current job (0 .. working-1) */
  readonly working: number;
  /** a registered buffer, by id, as Float32, Uint8 or Float64 (views made once) */
  f32(id: number): Float32Array;
  u8(id: number): Uint8Array;
  f64(id: number): Float64Array;
  /** Waits until every worker of the current job has arrived; throws if one failed meanwhile. */
  barrier(): void;
}

/**
 * The worker side: if this thread is one of a pool's `kind` workers, runs `setup` once and then the job it
 * returns for every job, until the pool is disposed. Call it at the bottom of the pool's module.
 */
export function serveJobs<D>(kind: string, setup: (ctx: WorkerContext<D>) => () => void): void {
  if (isMainThread || (workerData as Boot<D> | undefined)?.kind !== kind) return;
  const d = workerData as Boot<D>;
  const { id, threads, port } = d;
  const ctrl = new Int32Array(d.ctrl);
  const GEN = JOB0 + d.jobWords + id;
  const buffers = new Map<number, SharedArrayBuffer>();
  const views = new Map<number, [Float32Array?, Uint8Array?, Float64Array?]>();
  const viewsOf = (b: number) => {
    let v = views.get(b);
    if (!v) views.set(b, (v = []));
    return v;
  };
  let arrived = 0;
  const spinBarrier = threads <= availableParallelism();
  /** waits until ctrl[word] ≥ target (spinning first if allowed); throws if a worker failed meanwhile */
  const waitAtLeast = (word: number, target: number) => {
    const t0 = performance.now();
    let v = Atomics.load(ctrl, word);
    while (spinBarrier && v < target && performance.now() - t0 < BARRIER_SPIN_MS) {
      if (Atomics.load(ctrl, ERR)) throw new Error('another worker failed');
      spinWhile(ctrl, word, v, BARRIER_SPIN_MS / 8);
      v = Atomics.load(ctrl, word);
    }
    for (; v < target; v = Atomics.load(ctrl, word)) {
      if (Atomics.load(ctrl, ERR)) throw new Error('another worker failed');
      Atomics.wait(ctrl, word, v, 100);
    }
  };
  const ctx: WorkerContext<D> = {
    id,
    threads,
    data: d.data,
    job: ctrl.subarray(JOB0, JOB0 + d.jobWords),
    working: 0,
    f32: (b) => (viewsOf(b)[0] ??= new Float32Array(buffers.get(b)!)),
    u8: (b) => (viewsOf(b)[1] ??= new Uint8Array(buffers.get(b)!)),
    f64: (b) => (viewsOf(b)[2] ??= new Float64Array(buffers.get(b)!)),
    barrier() {
      arrived += ctx.working;
      if (Atomics.add(ctrl, BARRIER, 1) + 1 === arrived) Atomics.notify(ctrl, BARRIER);
      waitAtLeast(BARRIER, arrived);
    },
  };
  const run = setup(ctx);

  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  const spin = threads < availableParallelism();
  let gen = 0; // generations start at 0; the first job may be published before this line runs
  for (;;) {
    if (!(spin && spinWhile(ctrl, GEN, gen, WORKER_SPIN_MS))) Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, QUIT)) break;
    const working = Atomics.load(ctrl, WORKING);
    (ctx as { working: number }).working = working;
    arrived = 0;
    try {
      for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
        const b = msg.message as { id: number; sab: SharedArrayBuffer };
        buffers.set(b.id, b.sab);
      }
      run();
    } catch (e) {
      if (Atomics.compareExchange(ctrl, ERR_LOCK, 0, 1) === 0) {
        const msg = new TextEncoder().encode(`worker ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`).subarray(0, ERR_BYTES);
        new Uint8Array(d.err).set(msg);
        Atomics.store(ctrl, ERR, JOB_ERROR);
      }
      Atomics.notify(ctrl, BARRIER); // the others may be waiting for this one at a barrier
    }
    if (Atomics.add(ctrl, DONE, 1) + 1 === working) Atomics.notify(ctrl, DONE);
  }
  port.close();
}

/** A copy of a batch in shared memory, which worker threads read in place (no staging copy per step). */
export function sharedBatch(b: Batch): Batch {
  const x = new Float32Array(new SharedArrayBuffer(b.x.byteLength));
  x.set(b.x);
  const y = new Uint8Array(new SharedArrayBuffer(b.y.byteLength));
  y.set(b.y);
  return { x, y, m: b.m };
}

/**
 * The hand-written trainers' runs, in a worker thread of their own: a V8 isolate that never loads tfjs, so
 * no ArrayBuffer is ever detached in it and V8 keeps its "no ArrayBuffer was ever detached" fast path for
 * typed arrays. In the main isolate tfjs-wasm's heap growth (WebAssembly.Memory.grow) detaches one as soon
 * as a tensor outgrows its initial heap, and every typed-array access of JavaScript code there is ~30%
 * slower from then on (measured; the README has the story). `npm run bench` times the same code in the
 * same kind of isolate (bench/isolate.ts), so the two reports agree.
 *
 * A whole run (warm-up, timed steps, curve points, final evaluation) happens in the worker, so no per-step
 * thread hand-off is timed. Same code, same data, same operations: results are bit-identical to a run on
 * the calling thread (tested). The worker is started by startIsolate (src/core/workers.ts).
 */
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { startIsolate } from '../core/workers.ts';
import { UserError } from '../core/errors.ts';
import type { Batch, Params } from '../core/types.ts';
import type { Dataset, Unlabelled } from '../data/index.ts';
import { sharedBatch } from '../core/pool.ts';
import { makeScratchTrainer } from './scratch-trainers.ts';
import type { TrainerId } from '../results/trainers.ts';
import { ranOn, trainOne, type ProgressEvent, type ResolvedPlan, type TrainOptions, type TrainRunOptions, type TrainerRun } from './train.ts';

type Job = { id: TrainerId; plan: ResolvedPlan; seed: number; init: Params; o: Omit<TrainOptions, 'unlabelled'>; predict: boolean };
type Request = { type: 'job'; job: Job } | { type: 'abort' };
type Reply = { type: 'progress'; e: ProgressEvent } | { type: 'done'; result: TrainerRun } | { type: 'error'; message: string; stack?: string; user: boolean };
interface Boot {
  kind: 'mnist-duel-scratch-isolate';
  data: Dataset;
  curveTrain: Batch;
  unlabelled?: Unlabelled;
  port: MessagePort;
}

export interface ScratchIsolate {
  train(id: TrainerId, plan: ResolvedPlan, seed: number, init: Params, opts: TrainRunOptions, o: TrainOptions): Promise<TrainerRun>;
  dispose(): void;
}

const share = (b: Batch): Batch => (b.x.buffer instanceof SharedArrayBuffer ? b : sharedBatch(b));

/** One worker for all hand-written runs of a plan; the data go to it once, in shared memory. */
export function createScratchIsolate(data: Dataset, curveTrain: Batch): ScratchIsolate {
  const shared: Dataset = { ...data, train: share(data.train), test: share(data.test) };
  // curveTrain is a prefix of train (or train itself): a view of the shared copy, not another copy
  const curve: Batch = curveTrain.m === data.train.m ? shared.train : { x: shared.train.x.subarray(0, curveTrain.x.length), y: shared.train.y.subarray(0, curveTrain.m), m: curveTrain.m };
  let unlabelled: Unlabelled | undefined;
  if (data.unlabelled) {
    const x = new Float32Array(new SharedArrayBuffer(data.unlabelled.x.byteLength));
    x.set(data.unlabelled.x);
    unlabelled = { ...data.unlabelled, x };
  }
  const boot: Omit<Boot, 'port'> = { kind: 'mnist-duel-scratch-isolate', data: { ...shared, unlabelled: undefined }, curveTrain: curve, unlabelled };
  const iso = startIsolate<Request, Reply>(import.meta.url, 'scratch isolate', boot);
  return {
    async train(id, plan, seed, init, opts, o) {
      opts.signal?.throwIfAborted();
      // Told to stop: the worker may be inside one long step or evaluation (a wide network) and would see
      // the request only when it ends, so it is terminated, which interrupts it wherever it is.
      const onAbort = () => {
        iso.post({ type: 'abort' });
        iso.terminate(new Error('interrupted'));
      };
      opts.signal?.addEventListener('abort', onAbort);
      try {
        const { unlabelled: want, ...rest } = o;
        return await iso.request<TrainerRun>({ type: 'job', job: { id, plan, seed, init, o: rest, predict: want !== undefined } }, (m, resolve, reject) => {
          if (m.type === 'progress') opts.onProgress?.(m.e);
          else if (m.type === 'done') resolve(m.result);
          else reject(Object.assign(m.user ? new UserError(m.message) : new Error(m.message), { stack: m.stack }));
        });
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    },
    dispose: () => iso.dispose(),
  };
}

// ---- the worker side ----

function workerMain({ data, curveTrain, unlabelled, port }: Boot): void {
  let abort = new AbortController();
  port.on('message', async (m: Request) => {
    if (m.type === 'abort') return abort.abort();
    abort = new AbortController();
    const { id, plan, seed, init, o, predict } = m.job;
    let last = 0;
    const onProgress = (e: ProgressEvent) => {
      // at most every 100 ms (and the last step): the main thread only draws a progress line
      const now = performance.now();
      if (e.done === e.total || now - last > 100) {
        last = now;
        port.postMessage({ type: 'progress', e } satisfies Reply);
      }
    };
    try {
      const t = makeScratchTrainer(id, plan, o.lrScale);
      const result = await trainOne(t, ranOn(id, plan, true), id, plan, data, seed, init, curveTrain, { onProgress, signal: abort.signal }, { ...o, unlabelled: predict ? unlabelled : undefined });
      port.postMessage({ type: 'done', result } satisfies Reply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ type: 'error', message: err.message, stack: err.stack, user: e instanceof UserError } satisfies Reply);
    }
  });
}

if (!isMainThread && (workerData as Boot | undefined)?.kind === 'mnist-duel-scratch-isolate') workerMain(workerData as Boot);

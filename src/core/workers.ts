/**
 * Worker threads that run one of this project's TypeScript modules. The module is loaded through tsx's
 * CommonJS API in the worker's own thread: no loader hooks (a parent started with `--import tsx/esm` must
 * not pass them on), and nothing that detaches an ArrayBuffer in the worker's isolate, so V8 keeps its
 * typed-array fast path there (see the README). Used by the worker runtime (pool.ts) and the isolates.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';

const tsxApi = createRequire(import.meta.url).resolve('tsx/cjs/api');

/**
 * Starts a worker that loads the module at `moduleUrl` (pass `import.meta.url`); `workerData` reaches it
 * as usual. `onBootError`: JavaScript run in the worker, with the error as `e` and `workerData` in scope,
 * if loading the module fails (default: rethrow, i.e. the worker's 'error' event).
 */
export function tsWorker(moduleUrl: string, workerData: unknown, transferList: TransferListItem[] = [], onBootError = 'throw e;'): Worker {
  const file = fileURLToPath(moduleUrl);
  const boot = `
    const { workerData } = require("node:worker_threads");
    try {
      require(${JSON.stringify(tsxApi)}).require(${JSON.stringify(file)}, ${JSON.stringify(file)});
    } catch (e) {
      ${onBootError}
    }`;
  return new Worker(boot, { eval: true, workerData, transferList, execArgv: [] });
}

/**
 * A worker of its own for a whole task (the isolates of `npm run compare` and `npm run bench`): started
 * like tsWorker, talked to through a MessagePort, and out of the way of the process's exit while idle.
 */
export interface Isolate<Req, Rep> {
  /** Posts a message that expects no reply. */
  post(msg: Req): void;
  /**
   * Posts `msg` and feeds the replies to `onReply` until it calls `resolve` or `reject`; rejects if the
   * worker has failed or exits first.
   */
  request<T>(msg: Req, onReply: (reply: Rep, resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T>;
  /**
   * Ends the worker wherever it is (inside one long step, say): a pending request rejects with `reason`,
   * and so does every later one.
   */
  terminate(reason: Error): void;
  dispose(): void;
}

/** Starts `moduleUrl` in a worker with `boot` (plus `port`: its end of the channel) as its workerData. */
export function startIsolate<Req, Rep>(moduleUrl: string, name: string, boot: object): Isolate<Req, Rep> {
  const { port1, port2 } = new MessageChannel();
  const worker = tsWorker(moduleUrl, { ...boot, port: port2 }, [port2]);
  worker.unref();
  port1.unref();
  let failed: Error | null = null;
  worker.on('error', (e) => (failed = e));
  return {
    post: (msg) => port1.postMessage(msg),
    async request<T>(msg: Req, onReply: (reply: Rep, resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> {
      if (failed) throw failed;
      port1.ref();
      try {
        port1.postMessage(msg);
        return await new Promise<T>((resolve, reject) => {
          const onExit = () => settle(() => reject(failed ?? new Error(`${name}: the worker exited`)));
          const onMessage = (m: Rep) => onReply(m, (v) => settle(() => resolve(v)), (e) => settle(() => reject(e)));
          const settle = (f: () => void) => {
            port1.off('message', onMessage);
            worker.off('exit', onExit);
            f();
          };
          worker.once('exit', onExit);
          port1.on('message', onMessage);
        });
      } finally {
        port1.unref();
      }
    },
    terminate(reason) {
      failed = reason;
      void worker.terminate();
    },
    dispose() {
      port1.close();
      void worker.terminate();
    },
  };
}

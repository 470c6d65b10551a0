/**
 * Worker threads that run one of this project's TypeScript modules. The module is loaded through tsx's
 * CommonJS API in the worker's own thread: no loader hooks (a parent started with `--import tsx/esm` must
 * not pass them on), and nothing that detaches an ArrayBuffer in the worker's isolate, so V8 keeps its
 * typed-array fast path there (see the README). Used by the thread pools and the isolates.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';

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

/** `npm run bench` flags → BenchArgs. Parsing and validation only; every problem is one UserError line. */
import { availableParallelism } from 'node:os';
import { fail, list, oneOf, parseFlags, threadCount } from '../src/cli/flags.ts';

export const SUITE_NAMES = ['forward', 'gradients', 'step', 'data'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export const BENCH_HELP = `npm run bench -- [flags]

Times the hand-written network against TensorFlow.js (wasm and cpu in this process; tfjs-node, backend
'tensorflow', in a child process with TF_NUM_INTRAOP_THREADS = TF_NUM_INTEROP_THREADS = 1 and again = 2,
where it is installed), the notebook's numpy (python3 with numpy; 1 and 2 BLAS threads) and PyTorch
(.venv-torch/ or python3 with torch; 1 and 2 threads), each skipped with the reason where absent, with
tinybench: warm-up, then several rounds with the order of implementations alternated; reports the
median, p25–p75 and sample count, samples/s, executed and dense-equivalent GFLOP/s, % of a ceiling
measured in the same run on the same thread kind, and the ratios to tfjs-wasm, numpy, PyTorch and
tfjs-node (the last three on the same number of cores). Every row says what it ran on and how many threads. Two networks:
the notebook's 784-10-10 and the deep notebook's 784-400-100-10 (forward and step at batch 256).
Writes <out>/bench.md and <out>/bench.json.

  --filter LIST    suites to run, comma-separated: ${SUITE_NAMES.join(', ')}   (default: all)
                     forward    class predictions for a batch: 1, 64, 1,000, the 10,000 test images
                                (784-400-100-10: 256)
                     gradients  loss + gradients of a batch: 1, 64, 128, the 60,000 training images
                     step       one training step (gradients + update): 1, 64, 128, 60,000
                                (784-400-100-10: 256, with the deep notebook's dropout and without)
                     data       loading the embedded MNIST (loadEmbedded)
  --threads LIST   also time the scratch network's gradients and GD step on worker threads, once per
                   count in LIST, e.g. 1,2 (0: none)       (default: 1 and 2, at most the core count)
  --no-deep        leave out the 784-400-100-10 rows
  --no-numpy       leave out the numpy rows
  --no-torch       leave out the PyTorch rows
  --no-native      leave out tfjs-node (backend 'tensorflow'; never loaded in the bench's own process)
  --smoke          seconds, not minutes: tiny time budgets, batch sizes 1 and 64, 2 rounds; numpy,
                   PyTorch and tfjs-node on 1 thread only (PyTorch: the 784-10-10 step at 64 and the
                   deep steps; tfjs-node: batch 64 and the deep rows)
  --out DIR        where to write bench.md and bench.json
                     (default reports; with --smoke, reports/smoke, so the full report is kept)
  --help           this text

Exit status: 0 ok, 2 bad input, 130 interrupted (nothing written).`;

/** Where `--smoke` writes without `--out` (relative to the working directory; git-ignored). */
export const SMOKE_OUT = 'reports/smoke';

export interface BenchArgs {
  suites: SuiteName[];
  threads: number[]; // worker-thread counts to time besides the in-process scratch network
  deep: boolean;
  numpy: boolean;
  torch: boolean;
  native: boolean;
  smoke: boolean;
  out: string;
  help: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const parsed = parseFlags(argv, ['filter', 'threads', 'out'], ['no-deep', 'no-numpy', 'no-torch', 'no-native', 'smoke']);
  const v = parsed.values;
  let suites: SuiteName[] = [...SUITE_NAMES];
  if (v.filter !== undefined) {
    const xs = list('filter', v.filter).map((s) => oneOf<SuiteName>('filter', s, SUITE_NAMES));
    suites = SUITE_NAMES.filter((s) => xs.includes(s)); // canonical order
  }
  let threads = [...new Set([1, Math.min(2, availableParallelism())])];
  if (v.threads !== undefined) {
    threads = list('threads', v.threads).map((s) => threadCount('threads', s)).filter((n) => n !== 0);
  }
  const out = v.out ?? (v.smoke ? SMOKE_OUT : 'reports'); // a smoke run never replaces the full report
  if (out.trim() === '') fail('--out must name a folder');
  return { suites, threads, deep: v['no-deep'] !== true, numpy: v['no-numpy'] !== true, torch: v['no-torch'] !== true, native: v['no-native'] !== true, smoke: v.smoke === true, out, help: v.help === true };
}

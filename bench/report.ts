/**
 * Bench results: measurements → rows with derived columns (samples/s, executed and dense-equivalent
 * GFLOP/s, % of the ceiling of the row's thread kind, ratios to tfjs-wasm, numpy, PyTorch and tfjs-node,
 * the last three on the same number of cores) → a summary and the goals → results JSON;
 * JSON → markdown and a terminal table. Rendering reads only the JSON, so a report can be re-rendered from
 * bench.json without running anything.
 */
import Table from 'cli-table3';
import type { Environment } from '../src/results/results.ts';
import type { BackendInfo } from '../src/core/backends.ts';
import type { Budget } from './budgets.ts';
import type { Measurement } from './measure.ts';
import type { RefRow } from './pyref.ts';
import { DEEP_BATCH, NETS, type TaskSpec } from './suites.ts';
import { table } from '../src/report/markdown.ts';

export const BENCH_SCHEMA = 'mnist-duel/bench';
/** 2: two networks, executed FLOPs, ceilings per thread kind, numpy rows. 3: tfjs-node in child processes
 *  (1 and 2 TensorFlow threads), numpy and PyTorch on 1 and 2 threads, `cores` per row, × torch and
 *  × tfjs-node, the summary table, the goals of the deep network against every opponent */
export const BENCH_VERSION = 3;

export type ThreadKind = 'calling thread' | 'worker thread';

export interface Ceiling {
  kernel: string; // 'scalar dot', 'scalar sparse 10-row', …
  thread: ThreadKind;
  gflops: number; // at the median call time
  medianMs: number;
  n: number;
}

export interface BenchRow {
  id: string;
  suite: string;
  net: string | null; // '784-10-10', '784-400-100-10'; null for data and ceilings
  dropout: boolean;
  impl: string;
  backend: string;
  /** scratch: worker threads of a pool (0: its own worker thread); numpy, torch, tensorflow: their threads */
  threads: number;
  /** cores the row may use: scratch 1 on its own worker thread, N on a pool of N; numpy, torch and tfjs-node
   *  their thread count; tfjs on wasm or cpu 1 (they have no threads here) */
  cores: number;
  /** where the work ran: 'calling thread', '2 worker threads', 'python, 1 BLAS thread',
   *  'tensorflow, 2 threads (child process)' */
  ranOn: string;
  size: string;
  m: number; // samples per call
  n: number; // timed calls, all rounds
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  rme: number; // % (95%) of the mean
  perRoundMedianMs: number[];
  samplesPerSec: number | null;
  /** dense-equivalent GFLOP/s: the notebook's matrix products counted in full */
  denseGflops: number | null;
  /** GFLOP/s of the work executed (zeros skipped by the scratch kernels; = dense for tfjs and numpy) */
  executedGflops: number | null;
  /** executed FLOPs per call, as counted (null: not counted, the dense figure stands for it) */
  executedFlopsPerCall: number | null;
  /** executed GFLOP/s ÷ the ceiling of this row's kind on its thread kind (scratch rows only) */
  pctCeiling: number | null;
  ceilingOf: string | null; // e.g. 'scalar sparse 10-row, worker thread'
  /** samples/s ÷ samples/s of tfjs on wasm (same suite, network, dropout, size; same optimizer for steps) */
  vsTfjsWasm: number | null;
  /** samples/s ÷ samples/s of numpy on as many cores (same suite, network, size; SGD steps, no dropout) */
  vsNumpy: number | null;
  /** samples/s ÷ samples/s of PyTorch on as many cores (same suite, network, dropout, size; SGD steps) */
  vsTorch: number | null;
  /** samples/s ÷ samples/s of tfjs-node on as many cores (same suite, network, dropout, size; same optimizer) */
  vsTfjsNode: number | null;
}

/** samples/s of one implementation at one configuration, on one core and on two (null: not timed) */
export interface SummaryRow {
  impl: string; // 'scratch-simd-gd', 'numpy-sgd', 'tfjs-sgd (tensorflow)', …
  cells: { config: string; oneCore: number | null; twoCores: number | null }[];
}

export interface Goal {
  what: string;
  target: string;
  value: number | null;
  unit: '×' | '%';
  pass: boolean | null; // null: not measured in this run
}

export interface NetInfo {
  label: string;
  sizes: number[];
  forwardFlopsPerSample: number;
  gradientsFlopsPerSample: number;
  params: number;
}

export interface BenchResults {
  schema: typeof BENCH_SCHEMA;
  version: typeof BENCH_VERSION;
  environment: Environment;
  backends: BackendInfo[];
  unavailable: { backend: string; why: string }[];
  numpy:
    | {
        python: string;
        numpy: string;
        blas: string;
        blasThreads: number | null; // in effect in the one-thread run
        coretype: string | null; // OpenBLAS's kernel (openblas_get_corename), null where not reported
        blasConfig: string | null;
        unset: string[]; // variables removed from the child's environment
        runs: { threads: number; blasThreads: number | null; coretype: string | null }[];
      }
    | { skipped: string };
  torch: { python: string; torch: string; runs: { threads: number; intraop: number; interop: number }[] } | { skipped: string };
  /** tfjs-node: one child process per thread count, with the TF_* variables it saw */
  native: { runs: { threads: number; env: Record<string, string | null>; tasks: number }[] } | { skipped: string };
  /** whether TensorFlow's library was mapped into the bench's own process at the end (null: unknown) */
  parent: { tensorflowLoaded: boolean | null };
  plan: {
    smoke: boolean;
    suites: string[];
    threads: number[];
    rounds: number;
    budgets: Record<string, Budget>;
    sizes: string[];
    forwardSizes: string[];
    deep: boolean;
    referenceThreads: number[]; // thread counts of numpy, PyTorch and tfjs-node
  };
  nets: NetInfo[];
  flops: { sgdPerParam: number; adamPerParam: number };
  ceilings: Ceiling[];
  rows: BenchRow[];
  summary: { configs: string[]; rows: SummaryRow[] };
  goals: Goal[];
  wallSeconds: number;
}

/** A reference run (numpy, PyTorch) at one thread count. */
export interface RefRun {
  backend: 'numpy' | 'torch';
  threads: number;
  rows: RefRow[];
}

/** Where a task ran: a pool of N worker threads, the isolate (a worker thread of its own), or the calling thread (tfjs). */
const ranOnOf = (threads: number, backend: string): string =>
  threads > 0 ? `${threads} worker thread${threads > 1 ? 's' : ''}` : backend === 'js' || backend === 'wasm-simd' ? 'own worker thread' : 'calling thread';

/**
 * The ceiling a row is held against, on its thread kind: the scalar sparse kernel for the plain-TS scratch
 * network, the SIMD sparse kernel for scratch-simd (the kernel shapes of their hot loops).
 */
function ceilingFor(r: { impl: string; backend: string; threads: number; suite: string }, ceilings: Ceiling[]): Ceiling | null {
  if (!r.impl.startsWith('scratch') || r.suite === 'ceiling') return null;
  const kernel = r.backend === 'wasm-simd' ? 'simd sparse 3-vector' : r.backend === 'js' ? 'scalar sparse 10-row' : null;
  // every hand-written row runs on a worker thread: the isolate, or a pool's
  return ceilings.find((c) => c.kernel === kernel && c.thread === 'worker thread') ?? null;
}

const family = (impl: string) => (impl.endsWith('adam') ? 'adam' : 'sgd');

/** `executed`: work counts of the tasks timed in the isolate (their closures ran there, not here). */
const REF_BACKENDS = ['numpy', 'torch', 'tensorflow'];
/** The columns filled in once every row is there. */
const UNDERIVED = { pctCeiling: null, ceilingOf: null, vsTfjsWasm: null, vsNumpy: null, vsTorch: null, vsTfjsNode: null } as const;
/** Cores a row may use (see BenchRow.cores). */
export const coresOf = (r: { backend: string; threads: number }): number => (REF_BACKENDS.includes(r.backend) ? r.threads : Math.max(1, r.threads));

export function deriveRows(tasks: TaskSpec[], ms: Map<string, Measurement>, executed: Map<string, number | null>, refs: RefRun[] = []): { rows: BenchRow[]; ceilings: Ceiling[] } {
  const ceilings: Ceiling[] = tasks
    .filter((t) => t.suite === 'ceiling')
    .map((t) => {
      const x = ms.get(t.id)!;
      return { kernel: t.impl, thread: t.backend === 'js-main' ? ('calling thread' as const) : ('worker thread' as const), gflops: t.flops! / (x.medianMs * 1e6), medianMs: x.medianMs, n: x.samples.length };
    });
  const rows: BenchRow[] = tasks.map((t) => {
    const x = ms.get(t.id)!;
    const counted = executed.has(t.id) ? executed.get(t.id)! : (t.executed?.() ?? null);
    const executedFlops = t.flops === null ? null : (counted ?? t.flops);
    return {
      id: t.id,
      suite: t.suite,
      net: t.net ? NETS[t.net].label : null,
      dropout: t.dropout,
      impl: t.impl,
      backend: t.backend,
      threads: t.threads,
      cores: coresOf(t),
      ranOn: t.ranOn ?? ranOnOf(t.threads, t.backend),
      size: t.size,
      m: t.m,
      n: x.samples.length,
      medianMs: x.medianMs,
      p25Ms: x.p25Ms,
      p75Ms: x.p75Ms,
      rme: x.rme,
      perRoundMedianMs: x.perRoundMedianMs,
      samplesPerSec: t.m > 0 ? (t.m * 1000) / x.medianMs : null,
      denseGflops: t.flops === null ? null : t.flops / (x.medianMs * 1e6),
      executedGflops: executedFlops === null ? null : executedFlops / (x.medianMs * 1e6),
      executedFlopsPerCall: counted,
      ...UNDERIVED,
    };
  });
  // threaded scratch rows do the same work per call as the calling-thread row of the same suite and size
  for (const r of rows) {
    if (r.threads === 0 || r.executedFlopsPerCall !== null || !r.impl.startsWith('scratch')) continue;
    const twin = rows.find((o) => o.suite === r.suite && o.net === r.net && o.dropout === r.dropout && o.size === r.size && o.impl === r.impl && o.threads === 0 && o.executedFlopsPerCall !== null);
    if (twin) {
      r.executedFlopsPerCall = twin.executedFlopsPerCall;
      r.executedGflops = twin.executedFlopsPerCall! / (r.medianMs * 1e6);
    }
  }
  for (const run of refs) rows.push(...run.rows.map((x) => refRow(x, run.backend, run.threads)));
  for (const r of rows) {
    const c = ceilingFor(r, ceilings);
    if (c && r.executedGflops !== null && r.executedFlopsPerCall !== null) {
      r.pctCeiling = (100 * r.executedGflops) / c.gflops;
      r.ceilingOf = `${c.kernel}, ${c.thread}`;
    }
    if (r.samplesPerSec === null || r.suite === 'data' || r.suite === 'ceiling') continue;
    const same = (o: BenchRow) => o.suite === r.suite && o.net === r.net && o.size === r.size;
    const sameCores = (o: BenchRow) => same(o) && o.cores === r.cores && o.dropout === r.dropout;
    const tfImpl = (o: BenchRow) => (r.suite === 'step' ? o.impl === `tfjs-${family(r.impl)}` : o.impl === 'tfjs');
    const sgd = r.suite !== 'step' || family(r.impl) === 'sgd';
    const per = (o: BenchRow | undefined) => (o?.samplesPerSec ? r.samplesPerSec! / o.samplesPerSec : null);
    r.vsTfjsWasm = per(rows.find((o) => same(o) && o.threads === 0 && o.dropout === r.dropout && o.backend === 'wasm' && tfImpl(o)));
    if (!r.dropout && sgd) r.vsNumpy = per(rows.find((o) => sameCores(o) && o.backend === 'numpy'));
    if (sgd) r.vsTorch = per(rows.find((o) => sameCores(o) && o.backend === 'torch'));
    r.vsTfjsNode = per(rows.find((o) => sameCores(o) && o.backend === 'tensorflow' && tfImpl(o)));
  }
  return { rows, ceilings };
}

function refRow(x: RefRow, backend: 'numpy' | 'torch', threads: number): BenchRow {
  const sizes = x.layers;
  let dense = 0;
  for (let l = 1; l < sizes.length; l++) dense += 2 * sizes[l] * sizes[l - 1] * (x.what === 'forward' ? 1 : l >= 2 ? 3 : 2);
  let params = 0;
  for (let l = 1; l < sizes.length; l++) params += sizes[l] * sizes[l - 1] + sizes[l];
  const flops = x.m * dense + (x.what === 'step' ? 2 * params : 0);
  const th = `${threads} ${backend === 'numpy' ? 'BLAS ' : ''}thread${threads === 1 ? '' : 's'}`;
  return {
    id: `${x.id} · ${th}`,
    suite: x.what,
    net: sizes.join('-'),
    dropout: x.keep !== null,
    impl: x.impl,
    backend,
    threads,
    cores: threads,
    ranOn: `python${backend === 'torch' ? ' (torch)' : ''}, ${th}`,
    size: x.size,
    m: x.m,
    n: x.n,
    medianMs: x.medianMs,
    p25Ms: x.p25Ms,
    p75Ms: x.p75Ms,
    rme: NaN,
    perRoundMedianMs: x.perRoundMedianMs,
    samplesPerSec: x.samplesPerSec,
    denseGflops: flops / (x.medianMs * 1e6),
    executedGflops: flops / (x.medianMs * 1e6),
    executedFlopsPerCall: null,
    ...UNDERIVED,
  };
}

/**
 * The performance goals, read off the rows, each of which can fail. The plain-TS scratch network against
 * tfjs-wasm (on the calling thread and on one worker thread), and its executed work against the ceiling
 * of the same kernel shape on the same thread kind.
 */
export function goals(rows: BenchRow[]): Goal[] {
  const out: Goal[] = [];
  const find = (suite: string, net: string, impl: string, threads: number, size: string, dropout = false) =>
    rows.find((r) => r.suite === suite && r.net === net && r.impl === impl && r.threads === threads && r.size === size && r.dropout === dropout);
  const ratio = (what: string, row: BenchRow | undefined, key: 'vsTfjsWasm' | 'vsNumpy', min: number): Goal => {
    const v = row?.[key] ?? null;
    return { what, target: `≥ ${min}×`, value: v, unit: '×', pass: v === null ? null : v >= min };
  };
  for (const threads of [0, 1]) {
    if (threads > 0 && !rows.some((r) => r.suite === 'step' && r.threads === threads)) continue;
    const who = `scratch-gd (${ranOnOf(threads, 'js')})`;
    out.push(
      ratio(`${who}: 784-10-10 step at batch 64 vs tfjs-wasm SGD, samples/s`, find('step', '784-10-10', 'scratch-gd', threads, '64'), 'vsTfjsWasm', 2.5),
      ratio(`${who}: 784-10-10 step at batch 128 vs tfjs-wasm SGD, samples/s`, find('step', '784-10-10', 'scratch-gd', threads, '128'), 'vsTfjsWasm', 2.5),
      ratio(`${who}: 784-10-10 full-batch iteration (60,000) vs tfjs-wasm SGD, samples/s`, find('step', '784-10-10', 'scratch-gd', threads, 'full'), 'vsTfjsWasm', 2),
    );
    const at128 = find('step', '784-10-10', 'scratch-gd', threads, '128')?.pctCeiling ?? null;
    out.push({ what: `${who}: 784-10-10 step at batch 128, executed GFLOP/s as % of the scalar sparse-kernel ceiling (on a worker thread)`, target: '≥ 50%', value: at128, unit: '%', pass: at128 === null ? null : at128 >= 50 });
  }
  // scratch-simd: the notebook's numpy beaten on its own ground, tfjs-wasm by a margin
  const simd = (suite: string, net: string, impl: string, threads: number, size: string, dropout = false) => find(suite, net, impl, threads, size, dropout);
  /** a reference row: numpy, torch or tensorflow (tfjs-node, SGD for steps) on `threads` threads */
  const ref = (suite: string, net: string, backend: string, threads: number, size: string, dropout = false) =>
    rows.find((r) => r.suite === suite && r.net === net && r.backend === backend && r.threads === threads && r.size === size && r.dropout === dropout && (suite !== 'step' || r.impl.endsWith('-sgd')));
  /** a ÷ b in samples/s; not measured when either row is missing */
  const versus = (what: string, a: BenchRow | undefined, b: BenchRow | undefined, min: number): Goal => {
    const v = a?.samplesPerSec && b?.samplesPerSec ? a.samplesPerSec / b.samplesPerSec : null;
    return { what, target: `≥ ${min}×`, value: v, unit: '×', pass: v === null ? null : v >= min };
  };
  out.push(
    ratio('scratch-simd-gd (own worker thread): 784-10-10 step at batch 64 vs numpy (1 BLAS thread), samples/s', simd('step', '784-10-10', 'scratch-simd-gd', 0, '64'), 'vsNumpy', 1),
    ratio('scratch-simd-gd (own worker thread): 784-10-10 step at batch 128 vs numpy (1 BLAS thread), samples/s', simd('step', '784-10-10', 'scratch-simd-gd', 0, '128'), 'vsNumpy', 1),
    versus('scratch-simd-gd (2 worker threads: both cores): 784-10-10 full-batch iteration vs numpy (1 BLAS thread), samples/s', simd('step', '784-10-10', 'scratch-simd-gd', 2, 'full'), ref('step', '784-10-10', 'numpy', 1, 'full'), 1),
    ratio('scratch-simd (own worker thread): 784-10-10 forward at batch 64 vs tfjs-wasm, samples/s', simd('forward', '784-10-10', 'scratch-simd', 0, '64'), 'vsTfjsWasm', 2),
    ratio('scratch-simd (own worker thread): 784-10-10 forward at batch 1,000 vs tfjs-wasm, samples/s', simd('forward', '784-10-10', 'scratch-simd', 0, '1000'), 'vsTfjsWasm', 2),
    ratio('scratch-simd (own worker thread): 784-10-10 forward, the 10,000 test images, vs tfjs-wasm, samples/s', simd('forward', '784-10-10', 'scratch-simd', 0, 'full'), 'vsTfjsWasm', 2),
    ratio('scratch-simd-gd (own worker thread): 784-400-100-10 step at batch 256 with dropout vs tfjs-wasm SGD, samples/s', simd('step', '784-400-100-10', 'scratch-simd-gd', 0, '256', true), 'vsTfjsWasm', 1.5),
  );
  const pct = (what: string, row: BenchRow | undefined, min: number): Goal => {
    const v = row?.pctCeiling ?? null;
    return { what, target: `≥ ${min}%`, value: v, unit: '%', pass: v === null ? null : v >= min };
  };
  // executed work against the SIMD ceiling: at 784-10-10 a sample is ~3,000 multiply-adds, so per-sample
  // overhead (nonzero lists, softmax, copying the batch in) weighs; the deep network is compute-bound
  out.push(
    pct('scratch-simd-gd (own worker thread): 784-10-10 step at batch 128, executed GFLOP/s as % of the SIMD sparse-kernel ceiling', simd('step', '784-10-10', 'scratch-simd-gd', 0, '128'), 10),
    pct('scratch-simd-gd (own worker thread): 784-400-100-10 step at batch 256 with dropout, executed GFLOP/s as % of the SIMD sparse-kernel ceiling', simd('step', '784-400-100-10', 'scratch-simd-gd', 0, '256', true), 25),
  );
  // the deep network against every opponent, on one core each and on both cores
  const D = '784-400-100-10', B = String(DEEP_BATCH);
  const one = simd('step', D, 'scratch-simd-gd', 0, B), oneDrop = simd('step', D, 'scratch-simd-gd', 0, B, true);
  const two = simd('step', D, 'scratch-simd-gd', 2, B), twoDrop = simd('step', D, 'scratch-simd-gd', 2, B, true);
  const who = 'scratch-simd-gd (own worker thread)';
  out.push(
    versus(`${who}: ${D} step at batch ${B}, one core each, vs numpy (1 BLAS thread), samples/s`, one, ref('step', D, 'numpy', 1, B), 1),
    versus(`${who}: ${D} step at batch ${B}, one core each, vs PyTorch (1 thread), samples/s`, one, ref('step', D, 'torch', 1, B), 1.2),
    versus(`${who}: ${D} step at batch ${B} with dropout, one core each, vs PyTorch with dropout (1 thread), samples/s`, oneDrop, ref('step', D, 'torch', 1, B, true), 1.5),
    versus(`${who}: ${D} step at batch ${B} with dropout, one core each, vs tfjs-node SGD with dropout (1 TensorFlow thread), samples/s`, oneDrop, ref('step', D, 'tensorflow', 1, B, true), 1.5),
    versus(`scratch-simd-gd (2 worker threads: both cores): ${D} step at batch ${B} vs its own one-core row, samples/s`, two, one, 1.7),
    versus(`scratch-simd-gd (2 worker threads: both cores): ${D} step at batch ${B} with dropout vs its own one-core row, samples/s`, twoDrop, oneDrop, 1.7),
    versus(`scratch-simd-gd (2 worker threads: both cores): ${D} step at batch ${B} vs PyTorch (2 threads), samples/s`, two, ref('step', D, 'torch', 2, B), 1),
    versus(`scratch-simd (own worker thread): ${D} forward at batch ${B} vs numpy (1 BLAS thread), samples/s`, simd('forward', D, 'scratch-simd', 0, B), ref('forward', D, 'numpy', 1, B), 1.5),
    versus(`${who}: 784-10-10 step at batch 64, one core each, vs numpy (1 BLAS thread), samples/s (a margin that survives noise)`, simd('step', '784-10-10', 'scratch-simd-gd', 0, '64'), ref('step', '784-10-10', 'numpy', 1, '64'), 1.3),
    versus(`${who}: 784-10-10 step at batch 128, one core each, vs numpy (1 BLAS thread), samples/s (a margin that survives noise)`, simd('step', '784-10-10', 'scratch-simd-gd', 0, '128'), ref('step', '784-10-10', 'numpy', 1, '128'), 1.3),
    pct(`${who}: ${D} step at batch ${B}, executed GFLOP/s as % of the SIMD sparse-kernel ceiling`, one, 50),
  );
  return out;
}

/** The summary's configurations: SGD steps (label, suite, network, batch size, dropout). */
const SUMMARY_CONFIGS = [
  ['784-10-10 step, batch 64', 'step', '784-10-10', '64', false],
  ['784-10-10 step, batch 128', 'step', '784-10-10', '128', false],
  ['784-10-10 full-batch iteration', 'step', '784-10-10', 'full', false],
  [`784-400-100-10 step, batch ${DEEP_BATCH}`, 'step', '784-400-100-10', String(DEEP_BATCH), false],
  [`784-400-100-10 step, batch ${DEEP_BATCH}, dropout`, 'step', '784-400-100-10', String(DEEP_BATCH), true],
] as const;

/**
 * samples/s of each implementation's SGD step at the summary's configurations, on one core (scratch: its
 * own worker thread; numpy, PyTorch, tfjs-node: 1 thread; tfjs-wasm: it has no threads) and on two
 * (scratch: 2 worker threads; the references: 2 threads; tfjs-wasm: none).
 */
export function summary(rows: BenchRow[]): { configs: string[]; rows: SummaryRow[] } {
  const impls: [string, (r: BenchRow) => boolean][] = [
    ['scratch-simd-gd', (r) => r.impl === 'scratch-simd-gd'],
    ['scratch-gd', (r) => r.impl === 'scratch-gd'],
    ['numpy-sgd', (r) => r.backend === 'numpy'],
    ['torch-sgd', (r) => r.backend === 'torch'],
    ['tfjs-sgd (tensorflow)', (r) => r.backend === 'tensorflow' && r.impl === 'tfjs-sgd'],
    ['tfjs-sgd (wasm)', (r) => r.backend === 'wasm' && r.impl === 'tfjs-sgd'],
  ];
  const out: SummaryRow[] = [];
  for (const [impl, is] of impls) {
    const mine = rows.filter((r) => r.suite === 'step' && is(r));
    if (mine.length === 0) continue;
    const sps = (r: BenchRow | undefined) => r?.samplesPerSec ?? null;
    out.push({
      impl,
      cells: SUMMARY_CONFIGS.map(([config, , net, size, dropout]) => {
        const at = mine.filter((r) => r.net === net && r.size === size && r.dropout === dropout);
        const oneCore = at.find((r) => (r.impl.startsWith('scratch') ? r.threads === 0 : r.cores === 1));
        const twoCores = at.find((r) => r.cores === 2);
        return { config, oneCore: sps(oneCore), twoCores: sps(twoCores) };
      }),
    });
  }
  return { configs: SUMMARY_CONFIGS.map((c) => c[0]), rows: out };
}

// ---- formatting ----

export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x < 1) return `${(x * 1000).toPrecision(3)} µs`;
  if (x < 1000) return `${x.toPrecision(3)} ms`;
  return `${(x / 1000).toPrecision(3)} s`;
}

/** p25–p75 in the unit of the median. */
function fmtRange(lo: number, hi: number, med: number): string {
  const [div, unit] = med < 1 ? [1e-3, 'µs'] : med < 1000 ? [1, 'ms'] : [1e3, 's'];
  const f = (v: number) => String(Number((v / div).toPrecision(3)));
  return `${f(lo)}–${f(hi)} ${unit}`;
}

function sig3(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1000) return Math.round(Number(x.toPrecision(3))).toLocaleString('en-US');
  return x.toPrecision(3);
}

const dash = (x: number | null, f: (v: number) => string) => (x === null || !Number.isFinite(x) ? '—' : f(x));

export const COLUMNS = ['suite', 'network', 'implementation', 'ran on', 'batch', 'median', 'p25–p75', 'n', 'samples/s', 'executed GFLOP/s', 'dense-eq. GFLOP/s', '% ceiling', '× tfjs-wasm', '× numpy', '× torch', '× tfjs-node'] as const;

function implLabel(r: BenchRow): string {
  const be = ['js', 'numpy', 'torch'].includes(r.backend) ? '' : ` (${r.backend})`;
  return `${r.impl}${be}`;
}

function sizeText(r: BenchRow): string {
  if (r.suite === 'data') return `${r.m.toLocaleString('en-US')} images`;
  return r.size === 'full' ? `full (${r.m.toLocaleString('en-US')})` : r.size;
}

export function cells(r: BenchRow): string[] {
  return [
    r.suite,
    r.net ? `${r.net}${r.dropout ? ' + dropout' : ''}` : '—',
    implLabel(r),
    r.ranOn,
    sizeText(r),
    fmtMs(r.medianMs),
    fmtRange(r.p25Ms, r.p75Ms, r.medianMs),
    String(r.n),
    dash(r.samplesPerSec, sig3),
    dash(r.executedGflops, (v) => v.toFixed(2) + (r.executedFlopsPerCall === null && r.backend === 'js' ? '*' : '')),
    dash(r.denseGflops, (v) => v.toFixed(2)),
    dash(r.pctCeiling, (v) => `${v.toFixed(0)}%`),
    dash(r.vsTfjsWasm, (v) => `${v.toFixed(2)}×`),
    dash(r.vsNumpy, (v) => `${v.toFixed(2)}×`),
    dash(r.vsTorch, (v) => `${v.toFixed(2)}×`),
    dash(r.vsTfjsNode, (v) => `${v.toFixed(2)}×`),
  ];
}

/** Rows in reading order: by suite, network, dropout, batch size, then implementation as built. */
function ordered(rows: BenchRow[]): BenchRow[] {
  const suiteOrder = ['forward', 'gradients', 'step', 'data'];
  const sizeKey = (r: BenchRow) => (r.size === 'full' ? Infinity : Number(r.size) || 0);
  return rows
    .map((r, i) => ({ r, i }))
    .filter((x) => x.r.suite !== 'ceiling')
    .sort((a, b) => suiteOrder.indexOf(a.r.suite) - suiteOrder.indexOf(b.r.suite) || (a.r.net ?? '').length - (b.r.net ?? '').length || Number(b.r.dropout) - Number(a.r.dropout) || sizeKey(a.r) - sizeKey(b.r) || a.i - b.i)
    .map((x) => x.r);
}

export function goalValue(g: Goal): string {
  if (g.value === null) return 'not measured';
  return g.unit === '%' ? `${g.value.toFixed(0)}%` : `${g.value.toFixed(2)}×`;
}

const threadsText = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
const fmtSps = (v: number | null) => (v === null ? '—' : Math.round(v).toLocaleString('en-US'));

/** The summary as a markdown table: one row per implementation, two columns (1 core, 2 cores) per configuration. */
export function summaryTable(res: BenchResults): string {
  const head = ['implementation', ...res.summary.configs.flatMap((c) => [`${c}: 1 core`, '2 cores'])];
  return table(head, res.summary.rows.map((r) => [r.impl, ...r.cells.flatMap((c) => [fmtSps(c.oneCore), fmtSps(c.twoCores)])]), [':--', ...res.summary.configs.flatMap(() => ['--:', '--:'])]);
}

export function terminalTable(res: BenchResults): string {
  const t = new Table({ head: [...COLUMNS], colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'], style: { head: [], border: [], compact: true } });
  for (const r of ordered(res.rows)) t.push(cells(r));
  const lines = [t.toString(), 'samples/s of an SGD step, 1 core / 2 cores:'];
  for (const r of res.summary.rows) lines.push(`  ${r.impl.padEnd(22)} ${r.cells.map((c) => `${c.config}: ${fmtSps(c.oneCore)} / ${fmtSps(c.twoCores)}`).join(' · ')}`);
  for (const c of res.ceilings) lines.push(`ceiling ${c.kernel} (${c.thread}): ${c.gflops.toFixed(2)} GFLOP/s`);
  for (const g of res.goals) lines.push(`${g.pass === null ? 'n/a ' : g.pass ? 'PASS' : 'FAIL'}  ${g.what}: ${goalValue(g)} (target ${g.target})`);
  return lines.join('\n');
}

const SUITE_TITLES: Record<string, string> = {
  forward: 'Forward pass: class predictions for a batch of test images (full = all 10,000)',
  gradients: 'Gradients: loss and gradients of the batch-mean cross-entropy (full = all 60,000 training images)',
  step: 'Training step: gradients + parameter update (full = one full-batch iteration over 60,000 images)',
  data: 'Data loading: `loadEmbedded()`, the 60,000 + 10,000 embedded MNIST images, raw IDX bytes → Float32Array',
};

export function renderBench(res: BenchResults): string {
  const e = res.environment;
  const be = (b: BackendInfo) => `${b.name} (tfjs ${b.tfjsVersion}${b.name === 'wasm' ? `, SIMD ${b.simd ? 'on' : 'off'}, threads ${b.threads ? 'on' : 'off'}` : ''}${b.name === 'tensorflow' ? ', in child processes' : ''})`;
  const p = res.plan;
  const calls = (n: number) => `${n} call${n === 1 ? '' : 's'}`;
  const budget = (b: Budget) => `≥ ${calls(b.iterations)} and ≥ ${b.time} ms per round, warm-up ${calls(b.warmupIterations)}${b.warmupTime ? ` / ${b.warmupTime} ms` : ''}${b.warmupEveryRound ? ' every round' : ' in the first round'}`;
  const np =
    'skipped' in res.numpy
      ? `not timed: ${res.numpy.skipped}`
      : `python ${res.numpy.python}, numpy ${res.numpy.numpy}, ${res.numpy.blas}${res.numpy.coretype ? ` (kernel: ${res.numpy.coretype})` : ''}; timed on ${res.numpy.runs.map((r) => `${threadsText(r.threads)} (BLAS threads in effect: ${r.blasThreads ?? 'not reported'})`).join(' and on ')}; ${res.numpy.unset.join(' and ')} removed from its environment`;
  const th = 'skipped' in res.torch ? `not timed: ${res.torch.skipped}` : `python ${res.torch.python}, torch ${res.torch.torch}; timed on ${res.torch.runs.map((r) => `${threadsText(r.threads)} (in effect: intra-op ${r.intraop}, inter-op ${r.interop})`).join(' and on ')}`;
  const nat = 'skipped' in res.native ? `not timed: ${res.native.skipped}` : `one child process per thread count: ${res.native.runs.map((r) => Object.entries(r.env).map(([k, v]) => `${k}=${v ?? 'unset'}`).join(' ')).join('; ')}`;
  const out: string[] = [];
  out.push('# mnist-duel: benchmark', '');
  out.push(`_Generated from \`bench.json\` (bench schema v${res.version})${p.smoke ? ' — **smoke run: tiny budgets, numbers are not meaningful**' : ''}._`, '');

  out.push('## Summary', '');
  out.push(
    `Samples/s of an SGD step (gradients + update), each implementation on one core (scratch: its own worker thread; numpy, PyTorch, tfjs-node: 1 thread) and on both (scratch: 2 worker threads; the others: 2 threads). tfjs-wasm has no threads here: one core only.${res.parent.tensorflowLoaded === false ? ' tfjs-node ran in child processes; TensorFlow was never loaded in the bench\'s own process.' : ''}`,
    '',
    summaryTable(res),
    '',
  );

  out.push('## Goals', '');
  out.push(table(['goal', 'target', 'measured', ''], res.goals.map((g) => [g.what, g.target, goalValue(g), g.pass === null ? 'n/a' : g.pass ? 'pass' : 'FAIL']), [':--', '--:', '--:', ':-:']), '');

  out.push('## Environment', '');
  out.push(
    table(
      ['', ''],
      [
        ['tfjs backends timed', res.backends.map(be).join('; ') || 'none'],
        ...(res.unavailable.length ? [['not available', res.unavailable.map((u) => `${u.backend}: ${u.why}`).join('; ')]] : []),
        ['numpy reference', np],
        ['PyTorch reference', th],
        ['tfjs-node', nat],
        ['networks', res.nets.map((n) => `${n.label} (${n.params.toLocaleString('en-US')} parameters)`).join('; ')],
        ['scratch threads', `the calling thread${p.threads.length ? `, and ${p.threads.join(', ')} worker thread(s) (rows say so)` : ''}`],
        ['machine', `${e.cpu}, ${e.cores} cores, ${e.os}, Node ${e.node}`],
        ...(e.simd ? [['scratch-simd build', e.simd === 'relaxed' ? 'relaxed SIMD: fused multiply-adds (f32x4.relaxed_madd), and the SIMD ceilings measured with them' : 'plain 128-bit SIMD (multiply, then add)']] : []),
        ['commit, date', `${e.commit ?? 'n/a'}, ${e.date}`],
        ['command', `\`${e.command}\``],
        ['wall time', `${res.wallSeconds.toFixed(1)} s`],
      ],
      [':--', ':--'],
    ),
    '',
  );

  out.push('## Ceilings', '');
  out.push(
    'What one thread of this machine sustains in the tightest loop of each kind, on data in the L1 cache, timed in the same run (bench/ceiling.ts): the yardstick of the **% ceiling** column, always the ceiling of the kernel shape the row ran (scalar for scratch, SIMD for scratch-simd), timed on a worker thread as every hand-written row is. The scalar sparse kernel is also timed on the calling thread, where tfjs runs: the difference is what tfjs-wasm\'s heap growth costs typed-array code there (see the README).',
    '',
    table(['kernel', 'thread', 'GFLOP/s', 'median per call', 'n'], res.ceilings.map((c) => [c.kernel, c.thread, c.gflops.toFixed(2), fmtMs(c.medianMs), String(c.n)])),
    '',
  );

  out.push('## How it was measured', '');
  const nb = res.nets.find((n) => n.label === '784-10-10');
  out.push(
    `- [tinybench](https://github.com/tinylibs/tinybench) times each call. ${p.rounds} rounds; in each, every group of comparable tasks (one suite, network and batch size) runs as one tinybench \`Bench\`, ` +
      'with the order of the implementations rotated by the round number and reversed on odd rounds. Samples of all rounds are pooled: **median**, **p25–p75** and **n** (timed calls) are over the pool.',
    `- Budgets: batches up to 1,000 and the ceilings: ${budget(p.budgets.light)}; full batches and data loading: ${budget(p.budgets.heavy)}.`,
    '- Each implementation cycles through consecutive batches of the training (or test) set, one batch per call, from the same initial weights (784-10-10: uniform(−0.5, 0.5); 784-400-100-10: He; seed 1); the trainers really train while being timed (SGD α = 0.1, Adam α = 0.001). Dropout rows cycle through 8 seeded mask sets drawn before timing.',
    '- forward: `Trainer.predict`. gradients: scratch `gradientsInto` with a reused workspace; tfjs `gradients()` (autodiff, reading the gradients back). step: `Trainer.step` of each trainer, including its copy of the batch into tensors for tfjs.',
    '- **ran on**: tfjs runs on the calling thread. The hand-written networks run in a worker thread of their own (bench/isolate.ts: the same tasks, built there, timed there by tinybench, in every round before or after the calling thread\'s share), which never loads tfjs: in the calling thread tfjs-wasm\'s heap growth detaches an ArrayBuffer and V8 then checks every typed-array access, ~30% slower. `npm run compare` runs its hand-written trainers the same way, so the two reports agree. Rows with N worker threads are a pool (`threads: N`, src/scratch/threads.ts, src/simd/threads.ts) driven from the calling thread, which only hands out the job and waits; results are bit-identical whatever N (tested). The training data are in SharedArrayBuffers, so workers read batches in place; the forward suite (no pools) reads the test images from an ordinary ArrayBuffer, since copying a batch out of shared memory is up to 1.5× slower for every implementation.',
    `- **numpy** runs the notebook's equations in numpy float32 (bench/numpy_ref.py) in a python child with every BLAS thread variable set to the row's thread count (1, then 2), on the same consecutive batches, timed in the same run with the same budgets; its gradients are checked against a float64 implementation in the tests. **PyTorch** (bench/torch_ref.py) is the same equations in torch float32 through the same runner (bench/pyref.ts), with torch.set_num_threads and the OMP/MKL thread variables at the row's count; its dropout rows cycle through 8 mask sets of the same keep probabilities drawn by torch's generator.`,
    `- **tfjs-node** (backend 'tensorflow') runs in a child process of its own per thread count (bench/native.ts), never in the bench's process, with TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS both set to the count before it loads (TensorFlow reads them only then); the child times the same tfjs tasks with the same measure() and budgets. Loaded beside the hand-written rows, TensorFlow's thread pools would share their cores.`,
    `- **FLOPs**: dense counts of the matrix products, per sample${nb ? ` (784-10-10: forward ${nb.forwardFlopsPerSample.toLocaleString('en-US')}, gradients ${nb.gradientsFlopsPerSample.toLocaleString('en-US')})` : ''}; a step adds ${res.flops.sgdPerParam} (SGD) or ${res.flops.adamPerParam} (Adam) FLOPs per parameter. **executed GFLOP/s** counts what was really multiplied: the scratch kernels skip zero inputs (MNIST's ~80% zero pixels, dead and dropped units) and count the multiply-adds they execute (a threaded row takes the count of the calling-thread row of the same task, marked *); tfjs and numpy compute every product, so theirs equals the dense figure. **dense-eq. GFLOP/s** is the same dense count for everyone, and can exceed what the hardware does for an implementation that skips work.`,
    '- **× tfjs-wasm**: samples/s ÷ those of tfjs on the wasm backend for the same suite, network, dropout and batch size (steps: the same optimizer). **× numpy**, **× torch**, **× tfjs-node**: the same against numpy (SGD steps without dropout, forward, gradients), PyTorch (SGD steps, forward) and tfjs-node (same optimizer) on as many cores as the row (a scratch row on its own worker thread: 1; on N worker threads: N).',
    '- Other processes on the machine are not controlled for; the spread columns show how much that mattered.',
    '',
  );

  const rows = ordered(res.rows);
  for (const s of ['forward', 'gradients', 'step', 'data']) {
    for (const net of [...new Set(rows.filter((r) => r.suite === s).map((r) => r.net))]) {
      const rs = rows.filter((r) => r.suite === s && r.net === net);
      if (rs.length === 0) continue;
      out.push(`## ${SUITE_TITLES[s]}${net ? `, ${net}` : ''}`, '');
      out.push(table(COLUMNS.slice(1).map(String), rs.map((r) => cells(r).slice(1)), [':--', ':--', ':--', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:']), '');
    }
  }
  return out.join('\n');
}

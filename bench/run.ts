/**
 * `npm run bench`: the scratch network vs TensorFlow.js (wasm and cpu here; tfjs-node in child processes,
 * bench/native.ts, never loaded in this process), numpy and PyTorch (python children, bench/pyref.ts) →
 * <out>/bench.json (results) and <out>/bench.md (report), written all at once; a table on stdout.
 */
import '../src/cli/main.ts'; // first: it installs the SIGINT/SIGTERM handlers before the slow imports (tfjs)
import { checkOutDir, writeAllAtomic } from '../src/results/files.ts';
import { join } from 'node:path';
import { UserError } from '../src/core/errors.ts';
import { loadEmbedded } from '../src/data/index.ts';
import { environment } from '../src/harness/run.ts';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { BACKEND_NAMES, type BackendInfo, type BackendName } from '../src/core/backends.ts';
import { initBackend } from '../src/tfjs/backend.ts';
import { EXIT, main } from '../src/cli/main.ts';
import { progressReporter } from '../src/cli/progress.ts';
import { sharedBatch } from '../src/core/pool.ts';
import { BENCH_HELP, parseBenchArgs } from './args.ts';
import { FULL_PLAN, SMOKE_PLAN } from './budgets.ts';
import { measure } from './measure.ts';
import { BENCH_SCHEMA, BENCH_VERSION, deriveRows, goals, renderBench, summary, terminalTable, type BenchResults } from './report.ts';
import { ADAM_FLOPS_PER_PARAM, DEEP_BATCH, NETS, SGD_FLOPS_PER_PARAM, buildSuites, flopsPerSample, paramCount } from './suites.ts';
import { createBenchIsolate } from './isolate.ts';
import { runNumpy, type NumpyConfig, type NumpyResult } from './numpy.ts';
import { runTorch, type TorchResult } from './torch.ts';
import { runNative, type NativeResult } from './native.ts';
import type { RefConfig } from './pyref.ts';

/** Is TensorFlow's library mapped into this process (Linux: /proc/self/maps)? null where that cannot be read. */
function tensorflowLoaded(): boolean | null {
  try {
    return /libtensorflow|tfjs_binding/.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return null;
  }
}


await main(async (signal) => {
  const argv = process.argv.slice(2);
  const args = parseBenchArgs(argv);
  if (args.help) {
    process.stdout.write(BENCH_HELP + '\n');
    return EXIT.ok;
  }
  checkOutDir(args.out, ['bench.json', 'bench.md']); // before minutes of timing, not after
  const t0 = performance.now();
  // Shared memory, so that the scratch network's worker threads read the images in place; every other
  // implementation reads them exactly as from an ordinary ArrayBuffer (tfjs copies each batch anyway).
  const loaded = loadEmbedded();
  const data = { ...loaded, train: sharedBatch(loaded.train), test: sharedBatch(loaded.test) };

  // Every backend that initialises here, in the order tfjs's `auto` would prefer them; tfjs-node
  // ('tensorflow') only ever in a child process (below), so its thread pools never share this one's cores.
  const backends: BackendInfo[] = [];
  const unavailable: { backend: string; why: string }[] = [];
  for (const name of BACKEND_NAMES.filter((b) => b !== 'tensorflow')) {
    try {
      backends.push(await initBackend(name));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      unavailable.push({ backend: name, why: e.message.replace(/^backend '\w+' is not available: /, '') });
    }
  }

  const plan = args.smoke ? SMOKE_PLAN : FULL_PLAN;
  const sizes = args.smoke ? [1, 64] : [1, 64, 128];
  const forwardSizes = args.smoke ? [1, 64] : [1, 64, 1000];
  const ctx = {
    data,
    testPlain: loaded.test,
    backends: backends.map((b) => b.name as BackendName),
    sizes,
    forwardSizes,
    full: !args.smoke,
    deep: args.deep,
    threads: args.threads,
  };
  const suites = await buildSuites(args.suites, ctx);
  // the hand-written networks' tasks on no pool are timed in a worker thread of their own (isolate.ts)
  const isolate = createBenchIsolate(args.suites, ctx);
  const executed = new Map<string, number | null>();
  let results: BenchResults;
  const progress = progressReporter();
  try {
    const ms = await measure(
      suites.tasks,
      plan,
      (p) => progress.update({ label: `round ${p.round}/${p.rounds} · ${p.group}`, done: p.done, total: p.total }),
      signal,
      isolate,
      executed,
    );
    // the references, one at a time after the hand-written rows and on the same consecutive batches, on one
    // thread and on both cores (a smoke run: one thread)
    const refThreads = args.smoke ? [1] : [...new Set([1, Math.min(2, availableParallelism())])];
    const nb = NETS.notebook.sizes, deep = NETS.deep.sizes;
    const numpy: NumpyResult[] = [];
    let numpyInfo: BenchResults['numpy'] = { skipped: 'left out (--no-numpy)' };
    if (args.numpy) {
      const configs: NumpyConfig[] = [];
      if (args.suites.includes('forward')) configs.push(...forwardSizes.map((m) => ({ layers: nb, what: 'forward' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'forward' as const, batch: 'full' as const }]));
      if (args.suites.includes('gradients')) configs.push(...sizes.map((m) => ({ layers: nb, what: 'gradients' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'gradients' as const, batch: 'full' as const }]));
      if (args.suites.includes('step')) configs.push(...sizes.map((m) => ({ layers: nb, what: 'step' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'step' as const, batch: 'full' as const }]));
      if (args.deep) for (const what of ['forward', 'step'] as const) if (args.suites.includes(what)) configs.push({ layers: deep, what, batch: DEEP_BATCH });
      for (const threads of refThreads) {
        const r = await runNumpy(configs, {
          plan,
          signal,
          threads,
          unsetTuning: true, // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE slow a current numpy down
          onProgress: (p) => progress.update({ label: `numpy ×${threads} · round ${p.round}/${p.rounds} · ${p.id}`, done: p.done, total: p.total }),
        });
        if ('skipped' in r) {
          numpyInfo = r;
          break;
        }
        numpy.push(r);
      }
      if (numpy.length) {
        const r = numpy[0], blas = r.blas.build;
        numpyInfo = {
          python: r.python.version,
          numpy: r.numpy,
          blas: `${blas.name ?? 'BLAS'} ${blas.version ?? ''}`.trim(),
          blasThreads: r.threads.blas,
          coretype: r.blas.runtime?.corename ?? null,
          blasConfig: r.blas.runtime?.config ?? r.blas.build['openblas configuration'] ?? null,
          unset: ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'],
          runs: numpy.map((x) => ({ threads: x.plan.threads, blasThreads: x.threads.blas, coretype: x.blas.runtime?.corename ?? null })),
        };
      }
    }
    const torch: TorchResult[] = [];
    let torchInfo: BenchResults['torch'] = { skipped: 'left out (--no-torch)' };
    if (args.torch) {
      const configs: RefConfig[] = [];
      const nbSizes = args.smoke ? [64] : [64, 128, 'full' as const];
      for (const what of ['forward', 'step'] as const) if (args.suites.includes(what) && !(args.smoke && what === 'forward')) configs.push(...nbSizes.map((batch) => ({ layers: nb, what, batch })));
      if (args.deep) {
        if (args.suites.includes('forward') && !args.smoke) configs.push({ layers: deep, what: 'forward', batch: DEEP_BATCH });
        if (args.suites.includes('step')) configs.push({ layers: deep, what: 'step', batch: DEEP_BATCH, keep: NETS.deep.keep }, { layers: deep, what: 'step', batch: DEEP_BATCH });
      }
      for (const threads of configs.length ? refThreads : []) {
        const r = await runTorch(configs, {
          plan,
          signal,
          threads,
          onProgress: (p) => progress.update({ label: `torch ×${threads} · round ${p.round}/${p.rounds} · ${p.id}`, done: p.done, total: p.total }),
        });
        if ('skipped' in r) {
          torchInfo = r;
          break;
        }
        torch.push(r);
      }
      if (!torch.length && !('skipped' in torchInfo && torchInfo.skipped !== 'left out (--no-torch)')) torchInfo = { skipped: 'no PyTorch configuration in the suites chosen' };
      if (torch.length) torchInfo = { python: torch[0].python.version, torch: torch[0].torch, runs: torch.map((x) => ({ threads: x.plan.threads, intraop: x.threads.intraop, interop: x.threads.interop })) };
    }
    const native: NativeResult[] = [];
    let nativeInfo: BenchResults['native'] = { skipped: 'left out (--no-native)' };
    if (args.native && !args.suites.some((x) => ['forward', 'gradients', 'step'].includes(x))) nativeInfo = { skipped: 'no tfjs task in the suites chosen' };
    else if (args.native) {
      for (const threads of refThreads) {
        const r = await runNative(
          // a smoke run: batch 64 only (loading TensorFlow takes seconds already)
          { suites: args.suites, sizes: args.smoke ? [64] : sizes, forwardSizes: args.smoke ? [64] : forwardSizes, full: !args.smoke, deep: args.deep, smoke: args.smoke },
          { threads, signal, onProgress: (p) => progress.update({ label: `tfjs-node ×${threads} · round ${p.round}/${p.rounds} · ${p.id}`, done: p.done, total: p.total }) },
        );
        if ('skipped' in r) {
          nativeInfo = r;
          break;
        }
        native.push(r);
      }
      if (native.length) {
        backends.unshift(native[0].backend);
        nativeInfo = { runs: native.map((x) => ({ threads: x.threads, env: x.env, tasks: x.tasks.length })) };
      }
    }
    if ('skipped' in nativeInfo) unavailable.unshift({ backend: 'tensorflow', why: nativeInfo.skipped });
    progress.done();
    const tasks = [...suites.tasks, ...native.flatMap((n) => n.tasks)];
    for (const n of native) for (const [k, v] of n.ms) ms.set(k, v);
    const { rows, ceilings } = deriveRows(tasks, ms, executed, [
      ...numpy.map((r) => ({ backend: 'numpy' as const, threads: r.plan.threads, rows: r.rows })),
      ...torch.map((r) => ({ backend: 'torch' as const, threads: r.plan.threads, rows: r.rows })),
    ]);
    results = {
      schema: BENCH_SCHEMA,
      version: BENCH_VERSION,
      environment: environment(backends.find((b) => b.name === 'wasm') ?? backends[0] ?? null, ['npm run bench --', ...argv].join(' ').replace(/ --$/, '')),
      backends,
      unavailable,
      numpy: numpyInfo,
      torch: torchInfo,
      native: nativeInfo,
      parent: { tensorflowLoaded: tensorflowLoaded() },
      plan: {
        smoke: args.smoke,
        suites: args.suites,
        threads: args.threads,
        rounds: plan.rounds,
        budgets: plan.budgets,
        sizes: [...sizes.map(String), ...(args.smoke ? [] : ['full'])],
        forwardSizes: [...forwardSizes.map(String), ...(args.smoke ? [] : ['full'])],
        deep: args.deep,
        referenceThreads: refThreads,
      },
      nets: (args.deep ? [NETS.notebook, NETS.deep] : [NETS.notebook]).map((n) => {
        const f = flopsPerSample(n.sizes);
        return { label: n.label, sizes: n.sizes, forwardFlopsPerSample: f.forward, gradientsFlopsPerSample: f.gradients, params: paramCount(n.sizes) };
      }),
      flops: { sgdPerParam: SGD_FLOPS_PER_PARAM, adamPerParam: ADAM_FLOPS_PER_PARAM },
      ceilings,
      rows,
      summary: summary(rows),
      goals: goals(rows),
      wallSeconds: 0,
    };
  } finally {
    suites.dispose();
    isolate.dispose();
  }
  results.wallSeconds = (performance.now() - t0) / 1000;
  const json = join(args.out, 'bench.json');
  const md = join(args.out, 'bench.md');
  writeAllAtomic([
    { path: json, data: JSON.stringify(results, null, 2) + '\n' },
    { path: md, data: renderBench(results) },
  ]);
  process.stdout.write(terminalTable(results) + '\n');
  if (unavailable.length) process.stdout.write(`not timed: ${unavailable.map((u) => `${u.backend} (${u.why})`).join('; ')}\n`);
  process.stdout.write(`${results.wallSeconds.toFixed(1)} s · wrote ${md} and ${json}\n`);
  return EXIT.ok;
});

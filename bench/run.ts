/**
 * `npm run bench`: the scratch network vs TensorFlow.js on every tfjs backend that initialises here →
 * <out>/bench.json (results) and <out>/bench.md (report), written all at once; a table on stdout.
 */
import '../src/cli/main.ts'; // first: it installs the SIGINT/SIGTERM handlers before the slow imports (tfjs)
import { checkOutDir, writeAllAtomic } from '../src/results/files.ts';
import { join } from 'node:path';
import { UserError } from '../src/core/errors.ts';
import { loadEmbedded } from '../src/data/index.ts';
import { environment } from '../src/harness/run.ts';
import { BACKEND_NAMES, type BackendInfo, type BackendName } from '../src/core/backends.ts';
import { initBackend } from '../src/tfjs/backend.ts';
import { EXIT, main } from '../src/cli/main.ts';
import { progressReporter } from '../src/cli/progress.ts';
import { sharedBatch } from '../src/core/pool.ts';
import { BENCH_HELP, parseBenchArgs } from './args.ts';
import { FULL_PLAN, SMOKE_PLAN } from './budgets.ts';
import { measure } from './measure.ts';
import { BENCH_SCHEMA, BENCH_VERSION, deriveRows, goals, renderBench, terminalTable, type BenchResults } from './report.ts';
import { ADAM_FLOPS_PER_PARAM, DEEP_BATCH, NETS, SGD_FLOPS_PER_PARAM, buildSuites, flopsPerSample, paramCount } from './suites.ts';
import { createBenchIsolate } from './isolate.ts';
import { runNumpy, type NumpyConfig, type NumpyResult } from './numpy.ts';


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

  // Every backend that initialises here, in the order tfjs's `auto` would prefer them.
  const backends: BackendInfo[] = [];
  const unavailable: { backend: string; why: string }[] = [];
  for (const name of BACKEND_NAMES) {
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
    // numpy, in the same run, on the same consecutive batches
    let numpy: NumpyResult | null = null;
    let numpyInfo: BenchResults['numpy'] = { skipped: 'left out (--no-numpy)' };
    if (args.numpy) {
      const configs: NumpyConfig[] = [];
      const nb = NETS.notebook.sizes, deep = NETS.deep.sizes;
      if (args.suites.includes('forward')) configs.push(...forwardSizes.map((m) => ({ layers: nb, what: 'forward' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'forward' as const, batch: 'full' as const }]));
      if (args.suites.includes('gradients')) configs.push(...sizes.map((m) => ({ layers: nb, what: 'gradients' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'gradients' as const, batch: 'full' as const }]));
      if (args.suites.includes('step')) configs.push(...sizes.map((m) => ({ layers: nb, what: 'step' as const, batch: m })), ...(args.smoke ? [] : [{ layers: nb, what: 'step' as const, batch: 'full' as const }]));
      if (args.deep) for (const what of ['forward', 'step'] as const) if (args.suites.includes(what)) configs.push({ layers: deep, what, batch: DEEP_BATCH });
      const r = await runNumpy(configs, {
        plan,
        signal,
        onProgress: (p) => progress.update({ label: `numpy · round ${p.round}/${p.rounds} · ${p.id}`, done: p.done, total: p.total }),
      });
      if ('skipped' in r) numpyInfo = r;
      else {
        numpy = r;
        const blas = r.blas.build;
        numpyInfo = { python: r.python.version, numpy: r.numpy, blas: `${blas.name ?? 'BLAS'} ${blas.version ?? ''}`.trim(), blasThreads: r.threads.blas };
      }
    }
    progress.done();
    const { rows, ceilings } = deriveRows(suites.tasks, ms, executed, numpy);
    results = {
      schema: BENCH_SCHEMA,
      version: BENCH_VERSION,
      environment: environment(backends.find((b) => b.name === 'wasm') ?? backends[0] ?? null, ['npm run bench --', ...argv].join(' ').replace(/ --$/, '')),
      backends,
      unavailable,
      numpy: numpyInfo,
      plan: {
        smoke: args.smoke,
        suites: args.suites,
        threads: args.threads,
        rounds: plan.rounds,
        budgets: plan.budgets,
        sizes: [...sizes.map(String), ...(args.smoke ? [] : ['full'])],
        forwardSizes: [...forwardSizes.map(String), ...(args.smoke ? [] : ['full'])],
        deep: args.deep,
      },
      nets: (args.deep ? [NETS.notebook, NETS.deep] : [NETS.notebook]).map((n) => {
        const f = flopsPerSample(n.sizes);
        return { label: n.label, sizes: n.sizes, forwardFlopsPerSample: f.forward, gradientsFlopsPerSample: f.gradients, params: paramCount(n.sizes) };
      }),
      flops: { sgdPerParam: SGD_FLOPS_PER_PARAM, adamPerParam: ADAM_FLOPS_PER_PARAM },
      ceilings,
      rows,
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

/**
 * `npm run bench`: the scratch network vs TensorFlow.js on every tfjs backend that initialises here →
 * <out>/bench.json (results) and <out>/bench.md (report), written all at once; a table on stdout.
 */
import '../src/cli/main.ts'; // first: it installs the SIGINT/SIGTERM handlers before the slow imports (tfjs)
import { checkOutDir } from '../src/harness/files.ts';
import { join } from 'node:path';
import { UserError } from '../src/core/errors.ts';
import { netSizes } from '../src/core/types.ts';
import { loadEmbedded } from '../src/data/index.ts';
import { writeAllAtomic } from '../src/harness/files.ts';
import { environment } from '../src/harness/run.ts';
import { BACKEND_NAMES, initBackend, type BackendInfo, type BackendName } from '../src/tfjs/backend.ts';
import { EXIT, main } from '../src/cli/main.ts';
import { progressReporter } from '../src/cli/progress.ts';
import { sharedBatch } from '../src/scratch/threads.ts';
import { BENCH_HELP, parseBenchArgs } from './args.ts';
import { FULL_PLAN, SMOKE_PLAN, measure } from './measure.ts';
import { BENCH_SCHEMA, BENCH_VERSION, deriveRows, goals, renderBench, terminalTable, type BenchResults } from './report.ts';
import { ADAM_FLOPS_PER_PARAM, SGD_FLOPS_PER_PARAM, buildSuites, flopsPerSample, paramCount } from './suites.ts';


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
  const suites = await buildSuites(args.suites, {
    data,
    hidden: args.hidden,
    backends: backends.map((b) => b.name as BackendName),
    sizes,
    full: !args.smoke,
    threads: args.threads,
  });
  let results: BenchResults;
  try {
    const progress = progressReporter();
    const ms = await measure(
      suites.tasks,
      plan,
      (p) => progress.update({ label: `round ${p.round}/${p.rounds} · ${p.group}`, done: p.done, total: p.total }),
      signal,
    );
    progress.done();
    const { rows, ceilingGflops } = deriveRows(suites.tasks, ms);
    const f = flopsPerSample(netSizes([args.hidden]));
    results = {
      schema: BENCH_SCHEMA,
      version: BENCH_VERSION,
      environment: environment(backends.find((b) => b.name === 'wasm') ?? backends[0] ?? null, ['npm run bench --', ...argv].join(' ').replace(/ --$/, '')),
      backends,
      unavailable,
      plan: {
        smoke: args.smoke,
        suites: args.suites,
        hidden: args.hidden,
        threads: args.threads,
        rounds: plan.rounds,
        budgets: plan.budgets,
        sizes: [...sizes.map(String), ...(args.smoke ? [] : ['full'])],
      },
      flops: { forwardPerSample: f.forward, gradientsPerSample: f.gradients, params: paramCount(netSizes([args.hidden])), sgdPerParam: SGD_FLOPS_PER_PARAM, adamPerParam: ADAM_FLOPS_PER_PARAM },
      ceiling: ceilingGflops === null ? null : { gflops: ceilingGflops, kernel: 'a dot product of two 1,024-element Float32Arrays (in L1) with four independent double accumulators, 256 passes per call, 2 FLOPs per element' },
      rows,
      goals: goals(rows),
      wallSeconds: 0,
    };
  } finally {
    suites.dispose();
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

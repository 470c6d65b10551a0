/**
 * The child process of bench/native.ts: times the tfjs tasks on backend 'tensorflow' (tfjs-node) with the
 * thread counts its environment gives TensorFlow (TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS, read when
 * tfjs-node loads). Argument: the NativeRequest as JSON. Stdout: one NativeChildOutput JSON line; stderr:
 * {"progress": …} lines. Exit 3 with {"skipped": reason} on stdout when tfjs-node does not load.
 */
import { UserError } from '../src/core/errors.ts';
import { loadEmbedded } from '../src/data/index.ts';
import { initBackend } from '../src/tfjs/backend.ts';
import { FULL_PLAN, SMOKE_PLAN } from './budgets.ts';
import { measure } from './measure.ts';
import { TF_THREAD_VARS } from '../src/core/backends.ts';
import type { NativeChildOutput, NativeRequest } from './native.ts';
import { buildSuites } from './suites.ts';

const req = JSON.parse(process.argv[2] ?? '{}') as NativeRequest;
const env = Object.fromEntries(TF_THREAD_VARS.map((k) => [k, process.env[k] ?? null]));
let backend;
try {
  backend = await initBackend('tensorflow');
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  process.stdout.write(JSON.stringify({ skipped: e.message.replace(/^backend '\w+' is not available: /, '') }) + '\n');
  process.exit(3);
}
const loaded = loadEmbedded();
const suites = await buildSuites(req.suites, {
  data: loaded,
  testPlain: loaded.test,
  backends: ['tensorflow'],
  sizes: req.sizes,
  forwardSizes: req.forwardSizes,
  full: req.full,
  deep: req.deep,
  threads: [],
  tfjsOnly: true,
});
try {
  const ms = await measure(suites.tasks, req.smoke ? SMOKE_PLAN : FULL_PLAN, (p) =>
    process.stderr.write(JSON.stringify({ progress: { round: p.round, rounds: p.rounds, id: p.group, done: p.done, total: p.total } }) + '\n'),
  );
  const out: NativeChildOutput = {
    backend,
    env,
    tasks: suites.tasks.map(({ fn: _f, before: _b, executed: _e, ...t }) => t),
    measurements: [...ms.values()],
  };
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  suites.dispose();
}

/** `npm run compare`: flags → plan → harness → results JSON + markdown report, written all at once. */
import { checkpoint } from './main.ts'; // first: it takes over the SIGINT/SIGTERM handlers before the slow imports (tfjs)
import { checkOutDir, lockOut } from '../results/files.ts';
import { checkOutputs, dataInputs } from '../harness/paths.ts';
import { checkPlanMemory } from '../harness/memory.ts';
import { GALLERY_DIR } from '../report/gallery.ts';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { submissionCsv } from '../data/submission.ts';
import { loadDataset } from '../data/index.ts';
import { planData } from '../harness/data.ts';
import { pct } from '../report/markdown.ts';
import { summary } from '../report/stats.ts';
import { swapCompareReport } from '../report/write.ts';
import { meanSd } from '../core/metrics.ts';
import { COMPARE_HELP, parseCompareArgs } from './args.ts';
import { EXIT, main, testSignalAt } from './main.ts';
import { progressReporter } from './progress.ts';

const MNIST = { train: 60_000, test: 10_000 }; // the embedded data set, and the size assumed before --data is read

await main(async (signal) => {
  const argv = process.argv.slice(2);
  const { plan, out, help } = parseCompareArgs(argv);
  if (help) {
    process.stdout.write(COMPARE_HELP + '\n');
    return EXIT.ok;
  }
  // Before any work, not after training: every output against every input and every other output, then
  // the folders they go to, then the plan's memory; then the folders are taken for this run.
  checkOutputs(
    [...dataInputs(plan.data), ...(plan.predict ? [{ path: plan.predict, role: '--predict' }] : [])],
    [
      { path: join(out, 'compare.json'), role: 'the report file' },
      { path: join(out, 'compare.md'), role: 'the report file' },
      ...(plan.submission ? [{ path: plan.submission, role: '--submission' }] : []),
    ],
    [{ dir: join(out, GALLERY_DIR), names: /^test-\d+\.png$/, role: 'its gallery images' }],
  );
  checkOutDir(out, ['compare.json', 'compare.md', `${GALLERY_DIR}/`]);
  if (plan.submission) checkOutDir(dirname(plan.submission), [basename(plan.submission)]);
  checkPlanMemory(plan, MNIST.train, MNIST.test);
  const cores = availableParallelism();
  if (plan.threads > cores) {
    process.stderr.write(`warning: --threads ${plan.threads} is more than the ${cores} cores here: each thread costs memory and the steps will be slower, not faster\n`);
  }
  lockOut(out);
  if (plan.submission) lockOut(dirname(plan.submission));
  const t0 = Date.now();
  const data = loadDataset({ data: plan.data, seed: plan.seeds[0], predict: plan.predict });
  await checkpoint(signal); // a signal while the data was read: stop here, not after the warm-up
  if (plan.submission && !data.unlabelled) {
    throw new UserError(`--submission needs images to predict: --predict FILE, or --data with an unlabelled Kaggle test.csv beside train.csv (the test set here: ${data.testSource})`);
  }
  if (plan.predict && !plan.submission) throw new UserError('--predict is only used with --submission FILE');
  checkPlanMemory(plan, data.train.m, data.test.m); // with the real sizes
  // tfjs and the training code load only now: --help, bad flags and bad files load neither (tested)
  const { runPlan } = await import('../harness/run.ts');
  await checkpoint(signal);
  const progress = progressReporter();
  let labels: Uint8Array | null = null;
  const results = await runPlan(plan, data, {
    command: ['npm run compare --', ...argv].join(' ').replace(/ --$/, ''),
    onProgress: progress.update,
    onSubmission: (l) => (labels = l),
    signal,
  });
  progress.done();
  testSignalAt('after-run');
  await checkpoint(signal); // a signal during the last steps or the evaluation: no report
  const json = join(out, 'compare.json');
  const md = join(out, 'compare.md');
  const extra = plan.submission && labels ? [{ path: plan.submission, data: submissionCsv(labels) }] : [];
  const swapped = swapCompareReport(results, planData(plan, data).test, out, { json: true, extra });
  testSignalAt('after-swap');
  try {
    await checkpoint(signal); // a signal while the files were written: the previous report comes back
  } catch (e) {
    swapped.rollBack();
    throw e;
  }
  swapped.commit();
  for (const s of summary(results)) {
    const acc = s.test.length ? `${pct(meanSd(s.test).mean)}% test` : 'no finished run';
    process.stdout.write(`${s.trainer.padEnd(18)} ${acc}${s.diverged.length ? `, ${s.diverged.length} diverged` : ''}\n`);
  }
  if (results.submission) process.stdout.write(`submission ${results.submission.file}: ${results.submission.images} images, from ${results.submission.trainer} seed ${results.submission.seed}\n`);
  const others = [...new Set(results.runs.map((r) => r.backend).filter((b) => b && b !== results.environment.tfjs?.name))];
  process.stdout.write(`backend ${results.environment.tfjs?.name ?? 'none'}${others.length ? ` (also ${others.join(', ')})` : ''} · ${((Date.now() - t0) / 1000).toFixed(1)} s · wrote ${md} and ${json}\n`);
  const diverged = results.runs.filter((r) => r.status === 'diverged');
  for (const d of diverged) process.stderr.write(`warning: ${d.trainer} diverged at step ${d.diverged!.step} (seed ${d.seed}, learning rate ${d.lr}, loss ${d.diverged!.loss})\n`);
  return diverged.length > 0 ? EXIT.diverged : EXIT.ok;
});

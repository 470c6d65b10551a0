/** `npm run compare`: flags → plan → harness → results JSON + markdown report, written all at once. */
import { checkpoint } from './main.ts'; // first: it installs the SIGINT/SIGTERM handlers before anything slow
import { checkOutDir } from '../results/files.ts';
import { GALLERY_DIR } from '../report/gallery.ts';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { submissionCsv } from '../data/submission.ts';
import { loadDataset } from '../data/index.ts';
import { planData } from '../harness/data.ts';
import { pct } from '../report/markdown.ts';
import { summary } from '../report/stats.ts';
import { writeCompareReport } from '../report/write.ts';
import { meanSd } from '../core/metrics.ts';
import { COMPARE_HELP, parseCompareArgs } from './args.ts';
import { EXIT, main } from './main.ts';
import { progressReporter } from './progress.ts';

await main(async (signal) => {
  const argv = process.argv.slice(2);
  const { plan, out, help } = parseCompareArgs(argv);
  if (help) {
    process.stdout.write(COMPARE_HELP + '\n');
    return EXIT.ok;
  }
  checkOutDir(out, ['compare.json', 'compare.md', `${GALLERY_DIR}/`]); // before any work, not after training
  if (plan.submission) checkOutDir(dirname(plan.submission), [basename(plan.submission)]);
  const t0 = Date.now();
  const data = loadDataset({ data: plan.data, seed: plan.seeds[0], predict: plan.predict });
  await checkpoint(signal); // a signal while the data was read: stop here, not after the warm-up
  if (plan.submission && !data.unlabelled) {
    throw new UserError(`--submission needs images to predict: --predict FILE, or --data with an unlabelled Kaggle test.csv beside train.csv (the test set here: ${data.testSource})`);
  }
  if (plan.predict && !plan.submission) throw new UserError('--predict is only used with --submission FILE');
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
  const json = join(out, 'compare.json');
  const md = join(out, 'compare.md');
  const extra = plan.submission && labels ? [{ path: plan.submission, data: submissionCsv(labels) }] : [];
  writeCompareReport(results, planData(plan, data).test, out, { json: true, extra });
  for (const s of summary(results)) {
    const acc = s.test.length ? `${pct(meanSd(s.test).mean)}% test` : 'no finished run';
    process.stdout.write(`${s.trainer.padEnd(18)} ${acc}${s.diverged.length ? `, ${s.diverged.length} diverged` : ''}\n`);
  }
  if (results.submission) process.stdout.write(`submission ${results.submission.file}: ${results.submission.images} images, from ${results.submission.trainer} seed ${results.submission.seed}\n`);
  process.stdout.write(`backend ${results.environment.tfjs?.name ?? 'none'} · ${((Date.now() - t0) / 1000).toFixed(1)} s · wrote ${md} and ${json}\n`);
  const diverged = results.runs.filter((r) => r.status === 'diverged');
  for (const d of diverged) process.stderr.write(`warning: ${d.trainer} diverged at step ${d.diverged!.step} (seed ${d.seed}, learning rate ${d.lr}, loss ${d.diverged!.loss})\n`);
  return diverged.length > 0 ? EXIT.diverged : EXIT.ok;
});

/** `npm run report -- [results.json] [--out report.md]`: re-render a results JSON without training. */
import { checkpoint } from './main.ts'; // first: it takes over the SIGINT/SIGTERM handlers before the slow imports
import { checkOutDir, JOURNAL, lockOut } from '../results/files.ts';
import { checkOutputs, dataInputs } from '../harness/paths.ts';
import { readResults } from '../results/results-file.ts';
import { GALLERY_DIR } from '../report/gallery.ts';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { loadDataset } from '../data/index.ts';
import { planData } from '../harness/data.ts';
import { swapCompareReport } from '../report/write.ts';
import { parseFlags } from './flags.ts';
import { EXIT, main } from './main.ts';

const HELP = `npm run report -- [RESULTS_JSON] [--out DIR]

Re-renders compare.md and its gallery images from a results JSON (default reports/compare.json),
without training. The JSON must be a regular file that follows src/results/results.schema.json.
  --out DIR    where to write (default: the JSON's folder)`;

await main(async (signal) => {
  const a = parseFlags(process.argv.slice(2), ['out'], [], true);
  if (a.values.help) {
    process.stdout.write(HELP + '\n');
    return EXIT.ok;
  }
  if (a.positionals.length > 1) throw new UserError('give one results JSON file');
  const file = a.positionals[0] ?? join('reports', 'compare.json');
  // a run killed between its renames left a journal beside the JSON: put its previous report back first
  if (existsSync(join(dirname(file), JOURNAL))) lockOut(dirname(file));
  const results = readResults(file);
  const out = a.values.out ?? dirname(file);
  checkOutputs(
    [{ path: file, role: 'the results JSON' }, ...dataInputs(results.plan.data)],
    [{ path: join(out, 'compare.md'), role: 'the report file' }],
    [{ dir: join(out, GALLERY_DIR), names: /^test-\d+\.png$/, role: 'its gallery images' }],
  );
  checkOutDir(out, ['compare.md', `${GALLERY_DIR}/`]);
  lockOut(out);
  // the gallery's pixels come from the data set the results were made with
  const test = planData(results.plan, loadDataset({ data: results.plan.data, seed: results.plan.seeds[0] })).test;
  if (test.m !== results.dataset.test) throw new UserError(`${file}: was made on ${results.dataset.test} test images, the data set now has ${test.m}`);
  await checkpoint(signal);
  const swapped = swapCompareReport(results, test, out, { json: false });
  try {
    await checkpoint(signal);
  } catch (e) {
    swapped.rollBack();
    throw e;
  }
  swapped.commit();
  process.stdout.write(`wrote ${swapped.paths.at(-1)} (and ${swapped.paths.length - 1} gallery images)\n`);
  return EXIT.ok;
});

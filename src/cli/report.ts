/** `npm run report -- [results.json] [--out report.md]`: re-render a results JSON without training. */
import './main.ts'; // first: it installs the SIGINT/SIGTERM handlers before the slow imports (tfjs)
import { checkOutDir } from '../results/files.ts';
import { GALLERY_DIR } from '../report/gallery.ts';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { loadDataset } from '../data/index.ts';
import { RESULTS_SCHEMA, RESULTS_VERSION, type Results } from '../results/results.ts';
import { planData } from '../harness/data.ts';
import { writeCompareReport } from '../report/write.ts';
import { parseFlags } from './flags.ts';
import { EXIT, main } from './main.ts';

const HELP = `npm run report -- [RESULTS_JSON] [--out DIR]

Re-renders compare.md and its gallery images from a results JSON (default reports/compare.json),
without training.
  --out DIR    where to write (default: the JSON's folder)`;

await main(async () => {
  const a = parseFlags(process.argv.slice(2), ['out'], [], true);
  if (a.values.help) {
    process.stdout.write(HELP + '\n');
    return EXIT.ok;
  }
  if (a.positionals.length > 1) throw new UserError('give one results JSON file');
  const file = a.positionals[0] ?? join('reports', 'compare.json');
  let results: Results;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(e as Error).message})`}`);
  }
  if (results?.schema !== RESULTS_SCHEMA || results.version !== RESULTS_VERSION) {
    throw new UserError(`${file}: not a ${RESULTS_SCHEMA} v${RESULTS_VERSION} file (schema ${results?.schema}, version ${results?.version})`);
  }
  const out = a.values.out ?? dirname(file);
  checkOutDir(out, ['compare.md', `${GALLERY_DIR}/`]);
  // the gallery's pixels come from the data set the results were made with
  const test = planData(results.plan, loadDataset({ data: results.plan.data, seed: results.plan.seeds[0] })).test;
  if (test.m !== results.dataset.test) throw new UserError(`${file}: was made on ${results.dataset.test} test images, the data set now has ${test.m}`);
  const written = writeCompareReport(results, test, out, { json: false });
  process.stdout.write(`wrote ${written.at(-1)} (and ${written.length - 1} gallery images)\n`);
  return EXIT.ok;
});

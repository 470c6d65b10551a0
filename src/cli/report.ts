/** `npm run report -- [results.json] [--out report.md]`: re-render a results JSON without training. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../core/errors.ts';
import { writeAllAtomic } from '../harness/files.ts';
import { RESULTS_SCHEMA, RESULTS_VERSION, type Results } from '../harness/results.ts';
import { renderCompare } from '../report/markdown.ts';
import { EXIT, main } from './main.ts';

const HELP = `npm run report -- [RESULTS_JSON] [--out FILE]

Re-renders the markdown report from a results JSON (default reports/compare.json) without training.
  --out FILE   where to write (default: compare.md beside the JSON)`;

await main(async () => {
  let a;
  try {
    a = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
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
  const out = a.values.out ?? join(dirname(file), 'compare.md');
  writeAllAtomic([{ path: out, data: renderCompare(results) }]);
  process.stdout.write(`wrote ${out}\n`);
  return EXIT.ok;
});

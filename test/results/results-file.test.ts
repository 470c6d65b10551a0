// A results JSON from anywhere (src/results/results-file.ts): regular files only, a size limit, the JSON
// Schema, and what the schema cannot say. The valid base is a committed report.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResults, RESULTS_MAX_BYTES } from '../../src/results/results-file.ts';
import { expectUserError } from '../data/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'mnist-duel-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BASE = readFileSync(new URL('../../reports/compare.json', import.meta.url), 'utf8');
let n = 0;
/** The committed report with `edit` applied, as a file. */
function variant(edit: (r: any) => void, text?: (s: string) => string): string {
  const r = JSON.parse(BASE);
  edit(r);
  const f = join(dir, `v${n++}.json`);
  writeFileSync(f, (text ?? ((s) => s))(JSON.stringify(r)));
  return f;
}

describe('readResults', () => {
  it('the committed report passes (so the refusals below are about their one change)', () => {
    const r = readResults(variant(() => {}));
    expect(r.runs.length).toBeGreaterThan(0);
  });

  it('not a regular file: a FIFO (no hang), /dev/zero (no endless read), a folder, /dev/stdin; a missing file', () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expectUserError(() => readResults(fifo), fifo, 'is a FIFO (named pipe), not a results JSON file');
    expectUserError(() => readResults('/dev/zero'), '/dev/zero', 'is a character device');
    mkdirSync(join(dir, 'folder.json'));
    expectUserError(() => readResults(join(dir, 'folder.json')), 'is a folder');
    expectUserError(() => readResults(join(dir, 'missing.json')), 'no such file');
  });

  it('over the size limit: refused from its size, before reading (a sparse file)', () => {
    const f = join(dir, 'huge.json');
    writeFileSync(f, '');
    truncateSync(f, RESULTS_MAX_BYTES + 1);
    expectUserError(() => readResults(f), `${RESULTS_MAX_BYTES + 1} bytes, more than a results JSON can be`);
    expectUserError(() => readResults(variant(() => {}), 1000), 'more than a results JSON can be (1000 bytes)');
  });

  it('the schema, with the first offending field named', () => {
    expectUserError(() => readResults(variant((r) => delete r.runs)), 'runs is missing');
    expectUserError(() => readResults(variant((r) => (r.runs = {}))), 'runs must be array');
    expectUserError(() => readResults(variant((r) => (r.tensors = null))), 'tensors must be array');
    expectUserError(() => readResults(variant((r) => (r.runs[0].final.testAcc = 'abc'))), 'runs[0].final.testAcc must be number');
    expectUserError(() => readResults(variant((r) => (r.plan.seeds = []))), 'plan.seeds must NOT have fewer than 1 items');
    expectUserError(() => readResults(variant((r) => (r.runs[1].status = 'fine'))), 'runs[1].status must be equal to one of the allowed values');
    expectUserError(() => readResults(variant((r) => (r.schema = 'other'))), 'not a mnist-duel');
    expectUserError(() => readResults(variant(() => {}, (s) => s.slice(0, -10))), 'not valid JSON');
  });

  it('what a schema cannot say: indices in range, numbers finite, runs that belong to the plan', () => {
    expectUserError(() => readResults(variant((r) => (r.gallery.indices[2] = 1e9))), 'gallery.indices[2] 1000000000 is not a test image (the data set has 10000)');
    expectUserError(() => readResults(variant((r) => (r.runs[0].gallery.wrong[0].index = 10000))), 'runs[0].gallery.wrong[0].index 10000 is not a test image');
    expectUserError(() => readResults(variant((r) => (r.runs[0].final.trainAcc = 0.5), (s) => s.replace('"trainAcc":0.5', '"trainAcc":1e999'))), /runs\[0\]\.final\.trainAcc (must be <= 1|is not a finite number)/);
    expectUserError(() => readResults(variant((r) => (r.runs[0].timing.totalMs = 5), (s) => s.replace('"totalMs":5', '"totalMs":1e999'))), 'runs[0].timing.totalMs is not a finite number');
    expectUserError(() => readResults(variant((r) => (r.runs[0].seed = 99))), 'runs[0].seed 99 is not one of plan.seeds');
    expectUserError(() => readResults(variant((r) => (r.runs = []))), 'runs is empty');
  });
});

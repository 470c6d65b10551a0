/** Kaggle CSV: same tensors as IDX, the seeded holdout split, test.csv handling, and every kind of bad file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { permutation, rng } from '../../src/core/rng.ts';
import type { Batch } from '../../src/core/types.ts';
import { loadDataset, readIdxImages, readIdxLabels, readKaggleCsv, readKaggleCsvUnlabelled, submissionCsv } from '../../src/data/index.ts';
import { CSV_HEADER, EMBEDDED_DIR, csvText, csvTextUnlabelled, embeddedRaw, expectUserError, PIXELS, tmpDir, writeIdxDir } from './util.ts';
import { expectBitEqual } from '../helpers/index.ts';

const tmp = tmpDir();
afterAll(tmp.cleanup);

let files = 0;
/** Writes `content` to a new file in the tmp dir (in its own subdirectory) and returns its path. */
function write(content: string | Buffer, name = 'train.csv'): string {
  const d = join(tmp.dir, `c${files++}`);
  mkdirSync(d);
  const f = join(d, name);
  writeFileSync(f, content);
  return f;
}

/** A valid row: label then 784 pixels; `edit` changes fields by index (0 = label). */
function row(label: number | string, edit: Record<number, string> = {}): string {
  const fields: string[] = [String(label), ...Array.from({ length: PIXELS }, (_, i) => String(i % 256))];
  for (const [i, v] of Object.entries(edit)) fields[Number(i)] = v;
  return fields.join(',');
}

const first = embeddedRaw('train', 60); // 60 distinct MNIST digits
/** Exact float32 of byte/255, the scaling the loader promises. */
const scaled = (bytes: Uint8Array) => Float32Array.from(bytes, (b) => b / 255);

describe('readKaggleCsv', () => {
  it('loads exactly the tensors of the IDX source it was written from', () => {
    const k = 12;
    const f = write(csvText(first.images, first.labels, k));
    const csv = readKaggleCsv(f);
    const idx = readIdxImages(join(EMBEDDED_DIR, 'train-images-idx3-ubyte'));
    const labels = readIdxLabels(join(EMBEDDED_DIR, 'train-labels-idx1-ubyte'));
    expect(csv.m).toBe(k);
    expectBitEqual(csv.x, idx.x.subarray(0, k * PIXELS), 'CSV pixels vs IDX');
    expect(csv.y).toEqual(labels.subarray(0, k));
    expect([...csv.y]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5]);
  });

  it('accepts CRLF line ends, a UTF-8 BOM, quoted header names, blank trailing lines, no final newline, gzip', () => {
    const plain = readKaggleCsv(write(csvText(first.images, first.labels, 5)));
    const crlf = '\uFEFF' + csvText(first.images, first.labels, 5, '\r\n').replace(/^label,pixel0/, '"label","pixel0"');
    expect(readKaggleCsv(write(crlf + '\r\n\r\n'))).toEqual(plain);
    expect(readKaggleCsv(write(csvText(first.images, first.labels, 5).trimEnd()))).toEqual(plain);
    expect(readKaggleCsv(write(crlf.trimEnd()))).toEqual(plain);
    expect(readKaggleCsv(write(gzipSync(csvText(first.images, first.labels, 5)), 'train.csv.gz'))).toEqual(plain);
  });
});

/** The original row index of each row of b, found by matching pixels against the first 60 digits. */
function rowIndices(b: Batch): number[] {
  const index = new Map<string, number>(); // raw bytes of a digit → its row
  for (let i = 0; i < 60; i++) index.set(first.images.subarray(i * PIXELS, (i + 1) * PIXELS).join(','), i);
  return Array.from({ length: b.m }, (_, r) => {
    const bytes = Array.from(b.x.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => Math.round(v * 255));
    const i = index.get(bytes.join(','));
    expect(i).toBeDefined();
    expect(b.y[r]).toBe(first.labels[i!]);
    return i!;
  });
}

describe('holdout split of train.csv', () => {
  const f = write(csvText(first.images, first.labels, 60));

  it('holds out the first `holdout` indices of permutation(rng(seed, "holdout"), m); train+test partition the rows', () => {
    const ds = loadDataset({ data: f, holdout: 10, seed: 7 });
    expect(ds.test.m).toBe(10);
    expect(ds.train.m).toBe(50);
    const test = rowIndices(ds.test);
    const train = rowIndices(ds.train);
    const perm = permutation(rng(7, 'holdout'), 60);
    expect(test).toEqual([...perm.subarray(0, 10)].sort((a, b) => a - b));
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // both splits keep the original file order
    expect(train).toEqual([...train].sort((a, b) => a - b));
    expect(test).toEqual([...test].sort((a, b) => a - b));
    expect(ds.source).toContain('10 rows held out');
    expect(ds.source).toContain('seed 7');
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = loadDataset({ data: f, holdout: 10, seed: 1 });
    const b = loadDataset({ data: f, holdout: 10, seed: 1 });
    const c = loadDataset({ data: f, holdout: 10, seed: 2 });
    expect(b.test).toEqual(a.test);
    expect(b.train).toEqual(a.train);
    expect(rowIndices(c.test)).not.toEqual(rowIndices(a.test));
  });

  it('holds out 1000 rows by default (seed 1)', () => {
    const big = embeddedRaw('train', 1100);
    const g = write(csvText(big.images, big.labels));
    const ds = loadDataset({ data: g });
    expect(ds.test.m).toBe(1000);
    expect(ds.train.m).toBe(100);
    expect(ds.source).toContain('seed 1');
    const again = loadDataset({ data: g, seed: 1, holdout: 1000 });
    expect(again.test).toEqual(ds.test);
  });

  it('a directory with train.csv and Kaggle’s unlabelled test.csv: holdout from train', () => {
    const d = join(tmp.dir, 'kaggle');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv'), csvText(first.images, first.labels, 30));
    const unlabelled = [CSV_HEADER.replace('label,', ''), row(0).replace(/^0,/, '')].join('\n');
    writeFileSync(join(d, 'test.csv'), unlabelled);
    const ds = loadDataset({ data: d, holdout: 5 });
    expect([ds.train.m, ds.test.m]).toEqual([25, 5]);
    expect(ds.name).toBe('kaggle');
    // ... and test.csv's images come back as `unlabelled`
    expect(ds.unlabelled?.m).toBe(1);
    expectBitEqual(ds.unlabelled!.x, Float32Array.from({ length: PIXELS }, (_, i) => (i % 256) / 255), 'unlabelled pixels');
    expect(ds.unlabelled?.source).toBe(join(d, 'test.csv'));
  });

  it('a directory with train.csv and a labelled test.csv: that is the test set', () => {
    const d = join(tmp.dir, 'labelled');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv'), csvText(first.images, first.labels, 30));
    const t = embeddedRaw('t10k', 8);
    writeFileSync(join(d, 'test.csv'), '\uFEFF' + csvText(t.images, t.labels, 8, '\r\n')); // as Excel saves it
    const ds = loadDataset({ data: d });
    expect([ds.train.m, ds.test.m]).toEqual([30, 8]);
    expect([...ds.test.y]).toEqual([7, 2, 1, 0, 4, 1, 4, 9]);
    expect(ds.source).toContain('test.csv');
    expect(ds.unlabelled).toBeUndefined();
  });

  it('--data folder/train.csv is the same as --data folder: a labelled test.csv beside it is the test set', () => {
    const d = join(tmp.dir, 'by-file-labelled');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv'), csvText(first.images, first.labels, 30));
    const t = embeddedRaw('t10k', 8);
    writeFileSync(join(d, 'test.csv'), csvText(t.images, t.labels, 8));
    const byFile = loadDataset({ data: join(d, 'train.csv') });
    const byDir = loadDataset({ data: d });
    expect([byFile.train.m, byFile.test.m]).toEqual([30, 8]); // no rows held out
    expect(byFile.test.x).toEqual(scaled(t.images));
    expect([...byFile.test.y]).toEqual([...t.labels]);
    expect(byFile).toEqual(byDir);
    expect(byFile.name).toBe('by-file-labelled');
    expect(byFile.testSource).toBe(`${join(d, 'test.csv')} (labelled)`);
    expect(byFile.source).toContain('the test set: ');
  });

  it('--data folder/train.csv with Kaggle’s unlabelled test.csv beside it: holdout as test, test.csv to predict; the source says so', () => {
    const d = join(tmp.dir, 'by-file-unlabelled');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv.gz'), gzipSync(csvText(first.images, first.labels, 30)));
    const t = embeddedRaw('t10k', 4);
    writeFileSync(join(d, 'test.csv'), csvTextUnlabelled(t.images, 4));
    const byFile = loadDataset({ data: join(d, 'train.csv.gz'), holdout: 5, seed: 3 });
    expect(byFile).toEqual(loadDataset({ data: d, holdout: 5, seed: 3 }));
    expect([byFile.train.m, byFile.test.m]).toEqual([25, 5]);
    expect(byFile.unlabelled).toEqual({ x: scaled(t.images), m: 4, source: join(d, 'test.csv') });
    expect(byFile.testSource).toBe(`5 rows of ${join(d, 'train.csv.gz')} held out (seed 3)`);
    expect(byFile.source).toContain(`${join(d, 'test.csv')} has no labels: the images to predict`);
    // another name is a CSV on its own: nothing beside it is looked at
    writeFileSync(join(d, 'mine.csv'), csvText(first.images, first.labels, 30));
    const alone = loadDataset({ data: join(d, 'mine.csv'), holdout: 5 });
    expect(alone.unlabelled).toBeUndefined();
    expect(alone.name).toBe('mine.csv');
    expect(alone.testSource).toBe(`5 rows of ${join(d, 'mine.csv')} held out (seed 1)`);
  });

  it('holdout ≥ number of rows, or not a positive integer, is an error', () => {
    expectUserError(() => loadDataset({ data: f, holdout: 60 }), f, 'holdout 60', 'number of rows (60)');
    expectUserError(() => loadDataset({ data: f, holdout: 500 }), f, 'holdout 500');
    expectUserError(() => loadDataset({ data: f, holdout: 0 }), 'holdout must be a positive integer');
  });
});

describe('bad CSV input: one-line UserError naming the file and the problem', () => {
  const ok = row(3);

  it('empty CSV', () => {
    const f = write('');
    expectUserError(() => readKaggleCsv(f), f, 'empty CSV');
    const g = write(CSV_HEADER + '\n');
    expectUserError(() => readKaggleCsv(g), g, 'empty CSV', 'no data rows');
    const h = write('\n\n');
    expectUserError(() => loadDataset({ data: h }), h, 'empty CSV');
  });

  it('missing header', () => {
    const f = write([ok, ok].join('\n'));
    expectUserError(() => readKaggleCsv(f), f, 'missing header', 'label,pixel0');
  });

  it('invalid header: wrong column count or name', () => {
    const f = write([CSV_HEADER.replace(',pixel783', ''), ok].join('\n'));
    expectUserError(() => readKaggleCsv(f), f, 'invalid header', '784 columns, expected 785');
    const g = write([CSV_HEADER.replace('pixel5,', 'pixel_5,'), ok].join('\n'));
    expectUserError(() => readKaggleCsv(g), g, 'invalid header', "column 7 is 'pixel_5'", "expected 'pixel5'");
    const d = join(tmp.dir, 'badtest');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv'), [CSV_HEADER, ok, ok].join('\n'));
    writeFileSync(join(d, 'test.csv'), 'id,whatever\n1,2\n');
    expectUserError(() => loadDataset({ data: d, holdout: 1 }), join(d, 'test.csv'), 'invalid header', "'id'");
  });

  it('row with the wrong number of fields: gives the line number', () => {
    const f = write([CSV_HEADER, ok, ok, ok.replace(/,\d+$/, ''), ok].join('\n'));
    expectUserError(() => readKaggleCsv(f), f, 'line 4 has 784 fields, expected 785');
    const g = write([CSV_HEADER, ok + ',7'].join('\r\n'));
    expectUserError(() => readKaggleCsv(g), g, 'line 2 has 786 fields');
    const h = write([CSV_HEADER, ok, '5'].join('\n'));
    expectUserError(() => readKaggleCsv(h), h, 'line 3 has 1 fields');
  });

  it('non-numeric, non-integer or out-of-range pixel: gives line and column', () => {
    const cases: [string, string][] = [
      ['abc', "'abc'"],
      ['1.5', "'1.5'"],
      ['256', "'256'"],
      ['-1', "'-1'"],
      ['', "''"],
      [' 7', "' 7'"],
    ];
    for (const [bad, shown] of cases) {
      const f = write([CSV_HEADER, ok, ok, row(2, { 101: bad })].join('\n'));
      expectUserError(() => readKaggleCsv(f), f, 'line 4, column 102 (pixel100)', shown, 'not an integer 0..255');
    }
    const last = write([CSV_HEADER, row(2, { 784: '300' })].join('\n'));
    expectUserError(() => readKaggleCsv(last), last, 'line 2, column 785 (pixel783)', "'300'");
  });

  it('label outside 0..9 or not a number: gives the line', () => {
    const f = write([CSV_HEADER, ok, row(10)].join('\n'));
    expectUserError(() => readKaggleCsv(f), f, 'line 3, column 1 (label)', "'10'", 'not a label 0..9');
    const g = write([CSV_HEADER, row('x')].join('\n'));
    expectUserError(() => readKaggleCsv(g), g, 'line 2, column 1 (label)', "'x'");
  });

  it('a missing CSV file', () => {
    const f = join(tmp.dir, 'missing.csv');
    expectUserError(() => loadDataset({ data: f }), f, 'no such file');
    expectUserError(() => readKaggleCsv(f), f, 'file not found');
    // a path with a newline and a terminal escape in it: echoed escaped, on one line
    const odd = join(tmp.dir, 'a\nb\u001b[2J.csv');
    expect(expectUserError(() => loadDataset({ data: odd }), 'no such file')).toBe(`${join(tmp.dir, 'a\\nb\\x1b[2J.csv')}: no such file or directory`);
  });
});

const PIXEL_HEADER = CSV_HEADER.replace(/^label,/, '');

describe('readKaggleCsvUnlabelled: Kaggle’s test.csv (pixel0..pixel783, no label)', () => {
  const t = embeddedRaw('t10k', 7);

  it('reads the images in file order, pixels/255; raw, gzipped, CRLF + BOM alike', () => {
    const text = csvTextUnlabelled(t.images, 7);
    const r = readKaggleCsvUnlabelled(write(text, 'test.csv'));
    expect(r.m).toBe(7);
    expectBitEqual(r.x, scaled(t.images), 'pixels');
    expect(Object.keys(r).sort()).toEqual(['m', 'x']);
    expect(readKaggleCsvUnlabelled(write(gzipSync(text), 'test.csv.gz'))).toEqual(r);
    expect(readKaggleCsvUnlabelled(write('\uFEFF' + csvTextUnlabelled(t.images, 7, '\r\n'), 'test.csv'))).toEqual(r);
  });

  it('a labelled header, a wrong name, a missing header, no rows: one line naming the file', () => {
    const f = write(csvText(t.images, t.labels, 2), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(f), f, 'invalid header', '785 columns, expected 784', "'pixel0,...,pixel783'");
    const g = write([PIXEL_HEADER.replace('pixel9,', 'px9,'), csvTextUnlabelled(t.images, 1).split('\n')[1]].join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(g), g, "column 10 is 'px9'", "expected 'pixel9'");
    const h = write(csvTextUnlabelled(t.images, 2).split('\n').slice(1).join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(h), h, 'missing header', "expected 'pixel0,...,pixel783'");
    const e = write(PIXEL_HEADER + '\n', 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(e), e, 'empty CSV', 'no data rows');
  });

  it('a row with a label column (785 fields) or too few: line number and the count', () => {
    const rows = csvTextUnlabelled(t.images, 3).trimEnd().split('\n');
    const f = write([...rows.slice(0, 2), '5,' + rows[2]].join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(f), f, 'line 3 has 785 fields', 'expected 784 (784 pixels, no label)');
    const g = write([rows[0], rows[1].replace(/,\d+$/, '')].join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(g), g, 'line 2 has 783 fields');
  });

  it('a pixel outside 0..255: line, column and pixel number', () => {
    const bad = Array.from({ length: PIXELS }, (_, i) => (i === 0 ? '256' : '0')).join(',');
    const f = write([PIXEL_HEADER, bad].join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(f), f, 'line 2, column 1 (pixel0)', "'256'", 'not an integer 0..255');
    const last = Array.from({ length: PIXELS }, (_, i) => (i === PIXELS - 1 ? 'x' : '1')).join(',');
    const g = write([PIXEL_HEADER, bad.replace('256', '0'), last].join('\n'), 'test.csv');
    expectUserError(() => readKaggleCsvUnlabelled(g), g, 'line 3, column 784 (pixel783)', "'x'");
  });
});

describe('loadDataset({ predict }): images to predict, returned as `unlabelled`', () => {
  const t = embeddedRaw('t10k', 6);

  it('an unlabelled CSV, or a labelled one with its labels dropped; beside any --data', () => {
    const u = write(csvTextUnlabelled(t.images, 6), 'test.csv');
    const l = write(csvText(t.images, t.labels, 6), 'labelled.csv');
    const idx = join(tmp.dir, 'idx-predict');
    mkdirSync(idx);
    writeIdxDir(idx, 20, 10);
    expect(loadDataset({ predict: u }).unlabelled).toEqual({ x: scaled(t.images), m: 6, source: u }); // the embedded MNIST
    expect(loadDataset({ data: idx, predict: u }).unlabelled).toEqual({ x: scaled(t.images), m: 6, source: u });
    expect(loadDataset({ data: idx, predict: l }).unlabelled).toEqual({ x: scaled(t.images), m: 6, source: l });
    expect(loadDataset({ data: idx }).unlabelled).toBeUndefined();
  });

  it('replaces the test.csv found beside train.csv', () => {
    const d = join(tmp.dir, 'kaggle-predict');
    mkdirSync(d);
    writeFileSync(join(d, 'train.csv'), csvText(first.images, first.labels, 20));
    writeFileSync(join(d, 'test.csv'), csvTextUnlabelled(first.images, 3));
    const p = write(csvTextUnlabelled(t.images, 6), 'other.csv');
    expect(loadDataset({ data: d, holdout: 5 }).unlabelled?.m).toBe(3);
    expect(loadDataset({ data: d, holdout: 5, predict: p }).unlabelled).toEqual({ x: scaled(t.images), m: 6, source: p });
  });

  it('a missing file, a non-CSV name, a bad header: one line naming the file', () => {
    const missing = join(tmp.dir, 'nope.csv');
    expectUserError(() => loadDataset({ predict: missing }), missing, 'file not found');
    const idx = join(EMBEDDED_DIR, 't10k-images-idx3-ubyte');
    expectUserError(() => loadDataset({ predict: idx }), idx, 'expected a .csv file');
    const bad = write('ImageId,Label\n1,2\n', 'sub.csv');
    expectUserError(() => loadDataset({ predict: bad }), bad, 'invalid header', "'ImageId'");
  });
});

describe('submissionCsv', () => {
  it('ImageId from 1, one row per image, in order', () => {
    expect(submissionCsv(Uint8Array.from([2, 0, 9, 9]))).toBe('ImageId,Label\n1,2\n2,0\n3,9\n4,9\n');
    expect(submissionCsv(new Uint8Array(0))).toBe('ImageId,Label\n');
    const big = submissionCsv(Uint8Array.from({ length: 28000 }, (_, i) => i % 10)).split('\n');
    expect(big).toHaveLength(28002); // header, 28,000 rows, the empty string after the last newline
    expect(big[28000]).toBe('28000,9');
  });

  it('refuses a prediction that is not a digit', () => {
    expect(() => submissionCsv(Uint8Array.from([1, 10]))).toThrow(/prediction 10 for image 2/);
  });
});

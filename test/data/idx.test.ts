/** IDX reading: gzip, --data DIR with the four files, name variants, and every kind of bad file. */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { limitBatch, loadDataset, readIdxImages, readIdxLabels } from '../../src/data/index.ts';
import { embeddedRaw, expectUserError, idxImages, idxLabels, PIXELS, tmpDir, writeIdxDir } from './util.ts';
import { expectBitEqual } from '../helpers/index.ts';

const tmp = tmpDir();
afterAll(tmp.cleanup);

/** A new empty subdirectory of the test's tmp dir. */
let dirs = 0;
function subdir(): string {
  const d = join(tmp.dir, `d${dirs++}`);
  mkdirSync(d);
  return d;
}

/** Exact float32 of byte/255, the scaling the loader promises. */
const scaled = (bytes: Uint8Array) => Float32Array.from(bytes, (b) => b / 255);

describe('readIdxImages / readIdxLabels', () => {
  it('reads a small IDX pair exactly', () => {
    const d = subdir();
    const { images, labels } = embeddedRaw('train', 30);
    writeFileSync(join(d, 'img'), idxImages(30, 28, 28, images));
    writeFileSync(join(d, 'lab'), idxLabels(labels));
    const r = readIdxImages(join(d, 'img'));
    expect([r.n, r.rows, r.cols]).toEqual([30, 28, 28]);
    expectBitEqual(r.x, scaled(images), 'pixels');
    expect(readIdxLabels(join(d, 'lab'))).toEqual(labels);
  });

  it('reads gzipped copies (by .gz name or by gzip magic) to the same tensors as raw', () => {
    const d = subdir();
    const { images, labels } = embeddedRaw('t10k', 25);
    writeFileSync(join(d, 'img'), idxImages(25, 28, 28, images));
    writeFileSync(join(d, 'lab'), idxLabels(labels));
    writeFileSync(join(d, 'img.gz'), gzipSync(readFileSync(join(d, 'img'))));
    writeFileSync(join(d, 'lab.gz'), gzipSync(readFileSync(join(d, 'lab'))));
    writeFileSync(join(d, 'img-gz-without-suffix'), gzipSync(readFileSync(join(d, 'img'))));
    const raw = readIdxImages(join(d, 'img'));
    expect(readIdxImages(join(d, 'img.gz'))).toEqual(raw);
    expect(readIdxImages(join(d, 'img-gz-without-suffix'))).toEqual(raw);
    expect(readIdxLabels(join(d, 'lab.gz'))).toEqual(readIdxLabels(join(d, 'lab')));
    expectBitEqual(raw.x, scaled(images), 'pixels');
  });

  it('accepts other image sizes at this level (the 28×28 check is the loader’s)', () => {
    const d = subdir();
    writeFileSync(join(d, 'img'), idxImages(2, 3, 4, Uint8Array.from({ length: 24 }, (_, i) => i * 10)));
    const r = readIdxImages(join(d, 'img'));
    expect([r.n, r.rows, r.cols]).toEqual([2, 3, 4]);
    expect(r.x[23]).toBe(Math.fround(230 / 255));
  });
});

describe('loadDataset({ data: DIR }) with IDX files', () => {
  it('loads the four files: 50 train / 20 test copied from the embedded data', () => {
    const d = subdir();
    writeIdxDir(d, 50, 20);
    const ds = loadDataset({ data: d });
    const tr = embeddedRaw('train', 50);
    const te = embeddedRaw('t10k', 20);
    expect(ds.train.m).toBe(50);
    expect(ds.test.m).toBe(20);
    expectBitEqual(ds.train.x, scaled(tr.images), 'train pixels');
    expect(ds.train.y).toEqual(tr.labels);
    expectBitEqual(ds.test.x, scaled(te.images), 'test pixels');
    expect([...ds.test.y.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(ds.source).toContain(d);
    expect(ds.testSource).toBe(`t10k-images-idx3-ubyte + t10k-labels-idx1-ubyte (${d})`);
  });

  it('accepts .gz files and the dotted names (train-images.idx3-ubyte), mixed', () => {
    const d = subdir();
    writeIdxDir(d, 40, 10);
    const plain = loadDataset({ data: d });
    for (const f of ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(d, `${f}.gz`), gzipSync(readFileSync(join(d, f))));
      rmSync(join(d, f));
    }
    renameSync(join(d, 'train-labels-idx1-ubyte'), join(d, 'train-labels.idx1-ubyte'));
    writeFileSync(join(d, 't10k-images.idx3-ubyte.gz'), gzipSync(readFileSync(join(d, 't10k-images-idx3-ubyte'))));
    rmSync(join(d, 't10k-images-idx3-ubyte'));
    const mixed = loadDataset({ data: d });
    expect(mixed.testSource).toBe(`t10k-images.idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz (${d})`);
    expect(mixed.train).toEqual(plain.train);
    expect(mixed.test).toEqual(plain.test);
  });

  it('limitBatch rejects a limit that is not a positive integer', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const ds = loadDataset({ data: d });
    expectUserError(() => limitBatch(ds.train, 0), 'limit', '0');
    expectUserError(() => limitBatch(ds.train, 2.5), 'limit', '2.5');
  });
});

describe('bad IDX input: one-line UserError naming the file and the problem', () => {
  it('missing file: says which one and where it looked', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    rmSync(join(d, 't10k-labels-idx1-ubyte'));
    expectUserError(() => loadDataset({ data: d }), 'missing file t10k-labels-idx1-ubyte', `looked in ${d}`, 't10k-labels.idx1-ubyte.gz');
  });

  it('missing file given directly', () => {
    const f = join(tmp.dir, 'nope-idx3-ubyte');
    expectUserError(() => readIdxImages(f), f, 'file not found');
  });

  it('wrong magic number: expected and found in hex', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 'train-images-idx3-ubyte');
    // a label file where the images should be
    copyFileSync(join(d, 'train-labels-idx1-ubyte'), f);
    expectUserError(() => loadDataset({ data: d }), f, 'wrong magic number', 'expected 0x00000803', 'found 0x00000801');
    // garbage magic
    writeFileSync(f, idxImages(5, 28, 28, new Uint8Array(5 * PIXELS), 0xdeadbeef));
    expectUserError(() => readIdxImages(f), f, 'expected 0x00000803', 'found 0xdeadbeef');
    const l = join(d, 'lab-bad');
    writeFileSync(l, idxLabels(new Uint8Array(3), 0x803));
    expectUserError(() => readIdxLabels(l), l, 'expected 0x00000801', 'found 0x00000803');
  });

  it('wrong dimensions: not 28×28', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 't10k-images-idx3-ubyte');
    writeFileSync(f, idxImages(5, 27, 28, new Uint8Array(5 * 27 * 28)));
    expectUserError(() => loadDataset({ data: d }), f, '27×28', 'expected 28×28');
  });

  it('truncated data: expected N bytes, found M', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 'train-images-idx3-ubyte');
    writeFileSync(f, readFileSync(f).subarray(0, 16 + 5 * PIXELS - 100));
    expectUserError(() => loadDataset({ data: d }), f, 'truncated', `expected ${16 + 5 * PIXELS} bytes`, `found ${16 + 5 * PIXELS - 100}`);
    const l = join(d, 'train-labels-idx1-ubyte');
    writeFileSync(l, readFileSync(l).subarray(0, 11));
    expectUserError(() => readIdxLabels(l), l, 'truncated', 'expected 13 bytes', 'found 11');
    writeFileSync(l, Buffer.from([0, 0, 8, 1, 0]));
    expectUserError(() => readIdxLabels(l), l, 'truncated', 'header');
    writeFileSync(l, Buffer.alloc(0));
    expectUserError(() => readIdxLabels(l), l, 'truncated');
  });

  it('trailing bytes after the data', () => {
    const d = subdir();
    const f = join(d, 'img');
    writeFileSync(f, Buffer.concat([idxImages(1, 28, 28, new Uint8Array(PIXELS)), Buffer.alloc(3)]));
    expectUserError(() => readIdxImages(f), f, 'wrong size', `expected ${16 + PIXELS} bytes`, `found ${16 + PIXELS + 3}`);
  });

  it('image/label count mismatch', () => {
    const d = subdir();
    writeIdxDir(d, 6, 5);
    const l = join(d, 'train-labels-idx1-ubyte');
    writeFileSync(l, idxLabels(embeddedRaw('train', 4).labels));
    expectUserError(() => loadDataset({ data: d }), 'count mismatch', join(d, 'train-images-idx3-ubyte'), '6 images', l, '4 labels');
  });

  it('label outside 0..9: gives the index', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const l = join(d, 't10k-labels-idx1-ubyte');
    writeFileSync(l, idxLabels(Uint8Array.from([1, 2, 3, 10, 4])));
    expectUserError(() => loadDataset({ data: d }), l, 'label 10 at index 3', 'outside 0..9');
  });

  it('corrupt gzip', () => {
    const d = subdir();
    const f = join(d, 'train-images-idx3-ubyte.gz');
    writeFileSync(f, gzipSync(idxImages(1, 28, 28, new Uint8Array(PIXELS))).subarray(0, 30));
    expectUserError(() => readIdxImages(f), f, 'not valid gzip');
  });

  it('--data path that does not exist, a non-CSV file, or a directory without data', () => {
    const missing = join(tmp.dir, 'no-such-dir');
    expectUserError(() => loadDataset({ data: missing }), missing, 'no such file or directory');
    const d = subdir();
    const f = join(d, 'notes.txt');
    writeFileSync(f, 'hello');
    expectUserError(() => loadDataset({ data: f }), f, 'expected a directory');
    expectUserError(() => loadDataset({ data: d }), d, 'no data found', 'train-images-idx3-ubyte', 'train.csv');
  });
});

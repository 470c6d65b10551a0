/**
 * Data input that must fail fast: anything but a regular file (a FIFO would block forever, /dev/zero
 * never ends), gzip bombs, absurd IDX dimensions, files whose size contradicts their header, oversized CSVs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, readIdxImages, readIdxLabels, readKaggleCsv } from '../../src/data/index.ts';
import { readBytes } from '../../src/data/files.ts';
import { CSV_HEADER, expectUserError, idxImages, idxLabels, PIXELS, tmpDir, writeGzipBomb, writeIdxDir } from './util.ts';

const tmp = tmpDir();
const servers: Server[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  tmp.cleanup();
});

let dirs = 0;
function subdir(): string {
  const d = join(tmp.dir, `l${dirs++}`);
  mkdirSync(d);
  return d;
}

/** A 16-byte IDX image header claiming n×rows×cols. */
const imagesHeader = (n: number, rows = 28, cols = 28) => idxImages(n, rows, cols, new Uint8Array(0));
/** An 8-byte IDX label header claiming n labels. */
function labelsHeader(n: number): Buffer {
  const h = idxLabels(new Uint8Array(0));
  h.writeUInt32BE(n, 4);
  return h;
}

/** Runs fn and returns how long it took, in ms. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

describe('only regular files are read', () => {
  it('a FIFO named like an IDX file: refused at once (not opened, so nothing blocks)', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 'train-images-idx3-ubyte');
    execFileSync('rm', [f]);
    execFileSync('mkfifo', [f]);
    let ms = timed(() => expectUserError(() => loadDataset({ data: d }), f, 'is a FIFO (named pipe)', 'expected a regular file'));
    expect(ms).toBeLessThan(5000);
    ms = timed(() => expectUserError(() => readIdxLabels(f), f, 'FIFO'));
    expect(ms).toBeLessThan(5000);
  });

  it('a symlink to /dev/zero: a character device, refused without reading', () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 't10k-labels-idx1-ubyte');
    execFileSync('rm', [f]);
    symlinkSync('/dev/zero', f);
    expectUserError(() => loadDataset({ data: d }), f, 'is a character device', 'expected a regular file');
    const csv = join(d, 'zero.csv');
    symlinkSync('/dev/zero', csv);
    expectUserError(() => loadDataset({ data: csv }), csv, 'is a character device');
  });

  it('a directory or a socket where a data file should be', async () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    const f = join(d, 't10k-images-idx3-ubyte');
    execFileSync('rm', [f]);
    mkdirSync(f);
    expectUserError(() => loadDataset({ data: d }), f, 'is a directory', 'expected a regular file');
    const sock = join(d, 'train.csv');
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    expectUserError(() => readKaggleCsv(sock), sock, 'is a socket');
  });

  it('a test.csv beside train.csv that is a FIFO', () => {
    const d = subdir();
    writeFileSync(join(d, 'train.csv'), [CSV_HEADER, ['3', ...new Array(PIXELS).fill('0')].join(',')].join('\n'));
    execFileSync('mkfifo', [join(d, 'test.csv')]);
    const ms = timed(() => expectUserError(() => loadDataset({ data: d, holdout: 1 }), join(d, 'test.csv'), 'FIFO'));
    expect(ms).toBeLessThan(5000);
  });
});

describe('IDX: the header fixes the size; nothing beyond it is read or inflated', () => {
  it('a gzip bomb (1 GiB of zeros after a valid 60000×28×28 header) stops at the expected 47 MB', () => {
    const d = subdir();
    const f = join(d, 'train-images-idx3-ubyte.gz');
    writeGzipBomb(f, imagesHeader(60000), 1024);
    expect(readFileSync(f).length).toBeLessThan(2e6); // the test itself stays cheap
    const ms = timed(() =>
      expectUserError(() => readIdxImages(f), f, 'wrong size', 'header says 60000×28×28 images', `expected ${16 + 60000 * PIXELS} bytes`, 'found more'),
    );
    expect(ms).toBeLessThan(20_000); // in practice ~0.2 s; inflating the whole GiB would take several
  });

  it('a label-file bomb and a bomb that is shorter than its header claims', () => {
    const d = subdir();
    const l = join(d, 'labels.gz');
    writeGzipBomb(l, labelsHeader(60000), 64);
    expectUserError(() => readIdxLabels(l), l, 'wrong size', 'header says 60000 labels', 'expected 60008 bytes', 'found more');
    const f = join(d, 'short.gz');
    writeGzipBomb(f, imagesHeader(100_000), 64); // wants 78.4 MB, holds 64 MiB
    expectUserError(() => readIdxImages(f), f, 'truncated', `expected ${16 + 100_000 * PIXELS} bytes`, `found ${16 + 64 * 2 ** 20}`);
  });

  it('absurd dimensions are refused from the header alone', () => {
    const d = subdir();
    const many = join(d, 'many');
    writeFileSync(many, imagesHeader(20_000_000));
    expectUserError(() => readIdxImages(many), many, 'header says 20000000 images', 'more than the 150000 accepted');
    const big = join(d, 'big.gz');
    writeFileSync(big, gzipSync(imagesHeader(100_000, 1000, 1000)));
    expectUserError(() => readIdxImages(big), big, 'header says 100000×1000×1000 images', 'more than the 2 GiB accepted');
    const labels = join(d, 'labels');
    writeFileSync(labels, labelsHeader(2 ** 32 - 1));
    expectUserError(() => readIdxLabels(labels), labels, 'header says 4294967295 labels');
  });

  it('a raw file whose size contradicts its header is refused from stat, without reading it', () => {
    const d = subdir();
    const f = join(d, 'train-images-idx3-ubyte');
    writeFileSync(f, imagesHeader(60000));
    truncateSync(f, 3 * 2 ** 30); // a sparse 3 GiB file: reading it would take seconds and 3 GiB
    const ms = timed(() => expectUserError(() => readIdxImages(f), f, 'wrong size', `expected ${16 + 60000 * PIXELS} bytes`, `found ${3 * 2 ** 30}`));
    expect(ms).toBeLessThan(2000);
  });

  it('a valid file that is just the header (0 images) still reads', () => {
    const d = subdir();
    const f = join(d, 'empty.gz');
    writeFileSync(f, gzipSync(imagesHeader(0)));
    expect(readIdxImages(f).n).toBe(0);
  });

  it('an empty .gz and a .gz cut inside its gzip header are truncated or invalid, not a crash', () => {
    const d = subdir();
    const f = join(d, 'empty.gz');
    closeSync(openSync(f, 'w'));
    expectUserError(() => readIdxImages(f), f, 'truncated');
    const g = join(d, 'cut.gz');
    writeFileSync(g, gzipSync(imagesHeader(1)).subarray(0, 6));
    expectUserError(() => readIdxImages(g), g, 'truncated');
  });
});

describe('CSV: at most 1 GiB, raw or after gunzip', () => {
  it('a raw CSV over 1 GiB is refused from stat', () => {
    const d = subdir();
    const f = join(d, 'train.csv');
    writeFileSync(f, CSV_HEADER + '\n');
    truncateSync(f, 1.5 * 2 ** 30); // sparse
    const ms = timed(() => expectUserError(() => loadDataset({ data: f }), f, 'too large for a CSV file', 'at most 1 GiB', `found ${1.5 * 2 ** 30} bytes`));
    expect(ms).toBeLessThan(2000);
  });

  it('a .gz is inflated up to the bound and no further (readBytes with a small bound)', () => {
    const d = subdir();
    const f = join(d, 'bomb.csv.gz');
    writeGzipBomb(f, Buffer.from(CSV_HEADER + '\n'), 8);
    expectUserError(() => readBytes(f, 2 ** 20, 'a CSV file'), f, 'too large for a CSV file', 'at most 1 MiB', 'more than that after gunzip');
    expect(readBytes(f, 9 * 2 ** 20, 'a CSV file').length).toBe(CSV_HEADER.length + 1 + 8 * 2 ** 20);
  });
});

/**
 * Data input that must fail fast: anything but a regular file (a FIFO would block forever, /dev/zero
 * never ends), gzip bombs, absurd IDX dimensions, files whose size contradicts their header, oversized CSVs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, readIdxImages, readIdxLabels, readKaggleCsv } from '../../src/data/index.ts';
import { readBytes } from '../../src/data/files.ts';
import { CSV_HEADER, csvText, embeddedRaw, expectUserError, idxImages, idxLabels, PIXELS, tmpDir, writeGzipBomb, writeGzipRepeat, writeIdxDir } from './util.ts';

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
    expectUserError(() => loadDataset({ data: d }), f, 'is a folder', 'expected a regular file');
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

describe('CSV: at most 449 MiB (150,000 rows of the longest form), raw or after gunzip', () => {
  it('a raw CSV over 449 MiB is refused from stat', () => {
    const d = subdir();
    const f = join(d, 'train.csv');
    writeFileSync(f, CSV_HEADER + '\n');
    truncateSync(f, 1.5 * 2 ** 30); // sparse
    const ms = timed(() => expectUserError(() => loadDataset({ data: f }), f, 'too large for a CSV file', 'at most 449 MiB', `found ${1.5 * 2 ** 30} bytes`));
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

/**
 * loadDataset in a child process (node with the tsx loader, as the CLI runs): what it threw (one line)
 * or what it loaded, and its peak memory (max RSS, MiB). A child of its own, so that the peak is this
 * load's and nothing else's; a bare node process with the data modules loaded is ~80 MiB.
 */
async function loadInChild(opts: { data: string; predict?: string }): Promise<{ error?: string; loaded?: number[]; rssMiB: number; ms: number }> {
  const script = join(tmp.dir, 'load-child.mts');
  writeFileSync(
    script,
    `import { loadDataset } from ${JSON.stringify(new URL('../../src/data/index.ts', import.meta.url).pathname)};
const t0 = performance.now();
let r;
try {
  const d = loadDataset(${JSON.stringify(opts)});
  r = { loaded: [d.train.m, d.test.m, d.unlabelled?.m ?? 0] };
} catch (e) {
  r = { error: e.constructor.name + ': ' + e.message };
}
process.stdout.write(JSON.stringify({ ...r, ms: performance.now() - t0, rssMiB: process.resourceUsage().maxRSS / 1024 }));
`,
  );
  // asynchronous, so that the test runner's worker is not blocked while the child works
  const c = await promisify(execFile)(process.execPath, ['--import', 'tsx/esm', script], { encoding: 'utf8', timeout: 120_000 });
  const r = JSON.parse(c.stdout);
  console.log(`${opts.data}: ${r.error ?? `loaded ${r.loaded}`} (${r.ms.toFixed(0)} ms, peak ${r.rssMiB.toFixed(0)} MiB)`);
  return r;
}

/** A row of 784 zero pixels with label 0, as Kaggle writes it. */
const ZERO_ROW = '0' + ',0'.repeat(PIXELS) + '\n';

describe('memory decided by the headers: every size known before the body is kept', () => {
  it('blank lines are not rows: a header and 10 million blank lines is an empty CSV, at a bare process’s memory', async () => {
    const d = subdir();
    const f = join(d, 'train.csv');
    writeFileSync(f, Buffer.concat([Buffer.from(CSV_HEADER + '\n'), Buffer.alloc(10_000_000, '\n')])); // 10 MB
    const r = await loadInChild({ data: f });
    expect(r.error).toBe(`UserError: ${f}: empty CSV: a header but no data rows`); // not a RangeError for 10 M rows of 784 floats
    expect(r.rssMiB).toBeLessThan(200);
    // ... and between rows they are skipped, CRLF ones too: 3 rows, whatever surrounds them
    const { images, labels } = embeddedRaw('train', 3);
    const rows = csvText(images, labels).split('\n');
    const g = join(d, 'rows.csv');
    writeFileSync(g, [rows[0], '', '\r', rows[1], '', '', rows[2], '\r', rows[3], '', ''].join('\n'));
    const csv = readKaggleCsv(g);
    expect(csv.m).toBe(3);
    expect([...csv.y]).toEqual([...labels]);
  });

  it('a 400 MB line with no newline (a sparse file): refused at 64 KiB, without reading on; at 600 MB, from its size', async () => {
    const d = subdir();
    const f = join(d, 'train.csv');
    writeFileSync(f, CSV_HEADER + '\n');
    truncateSync(f, 400_000_000); // under the 449 MiB bound: the line length refuses it
    const r = await loadInChild({ data: f });
    expect(r.error).toBe(`UserError: ${f}: line 2 is longer than 65536 bytes (a row of 784 pixels takes at most 3138)`);
    truncateSync(f, 600_000_000); // over it: refused from stat, before reading
    expect((await loadInChild({ data: f })).error).toBe(`UserError: ${f}: too large for a CSV file: at most 449 MiB is accepted, found 600000000 bytes`);
    expect(r.rssMiB).toBeLessThan(200);
    // the header line too, and a line that is all digits and commas, gzipped
    const g = join(d, 'long.csv.gz');
    writeGzipRepeat(g, Buffer.from(CSV_HEADER + '\n'), Buffer.from('0,'.repeat(1 << 19)), 100); // a 100 MiB line
    expectUserError(() => readKaggleCsv(g), g, 'line 2 is longer than 65536 bytes');
    const h = join(d, 'head.csv');
    writeFileSync(h, 'label' + ',pixel'.repeat(20_000));
    expectUserError(() => readKaggleCsv(h), h, 'line 1 is longer than 65536 bytes');
  });

  it('a 2 MB .csv.gz of 894 MB of valid rows: refused at row 150,001, nothing kept', async () => {
    const d = subdir();
    const f = join(d, 'train.csv.gz');
    writeGzipRepeat(f, Buffer.from(CSV_HEADER + '\n'), Buffer.from(ZERO_ROW.repeat(640)), 890); // 569,600 rows
    expect(statSync(f).size).toBeLessThan(2.5e6);
    const r = await loadInChild({ data: f });
    expect(r.error).toBe(`UserError: ${f}: too many rows: more than 150,000, the most accepted (150,000 images in all, 470 MB as float32)`);
    expect(r.rssMiB).toBeLessThan(250); // the rows are counted, not kept: 150,000 of them would be 470 MB
    rmSync(f);
  });

  it('a .csv.gz of blank lines inflating past 449 MiB: refused as the inflated bytes reach 449 MiB', async () => {
    const d = subdir();
    const f = join(d, 'train.csv.gz');
    writeGzipRepeat(f, Buffer.from(CSV_HEADER + '\n'), Buffer.alloc(1 << 20, '\n'), 1030); // 1030 MiB of blank lines, 1 MB on disk
    const r = await loadInChild({ data: f });
    expect(r.error).toBe(`UserError: ${f}: too large for a CSV file: at most 449 MiB is accepted, found more than that after gunzip`);
    expect(r.rssMiB).toBeLessThan(250);
    rmSync(f);
  });

  it('IDX: a 1,000,000-image header (a 770 KB .gz) beside 3,000 labels is refused from the header', async () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    rmSync(join(d, 'train-images-idx3-ubyte'));
    const f = join(d, 'train-images-idx3-ubyte.gz');
    writeGzipBomb(f, imagesHeader(1_000_000), 747); // 784 MB of zeros: a valid body for 1,000,000 images
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idxLabels(embeddedRaw('train', 3000).labels));
    const r = await loadInChild({ data: d });
    expect(r.error).toBe(`UserError: ${f}: header says 1000000 images, more than the 150000 accepted`);
    expect(r.rssMiB).toBeLessThan(200);
  });

  it('IDX: counts and image sizes are checked from the headers alone (the bodies here are cut off after the header)', async () => {
    const d = subdir();
    writeIdxDir(d, 5, 5);
    rmSync(join(d, 'train-images-idx3-ubyte'));
    const f = join(d, 'train-images-idx3-ubyte.gz');
    // Only the header: reading the body would say "truncated"; the headers say what is wrong first.
    writeFileSync(f, gzipSync(imagesHeader(100_000)));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idxLabels(embeddedRaw('train', 3000).labels));
    expectUserError(() => loadDataset({ data: d }), 'image/label count mismatch', `${f} has 100000 images`, 'has 3000 labels');
    writeFileSync(f, gzipSync(imagesHeader(3000, 56, 56)));
    expectUserError(() => loadDataset({ data: d }), f, 'images are 56×56, expected 28×28');
    // the test pair's headers are checked before the train pair's bodies are read, too
    writeFileSync(f, gzipSync(imagesHeader(3000)));
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), labelsHeader(7));
    expectUserError(() => loadDataset({ data: d }), 'count mismatch', 't10k-images-idx3-ubyte has 5 images', 't10k-labels-idx1-ubyte has 7 labels');
  });

  it('at most 150,000 images in all: the headers of sparse files say 100,000 train + 60,000 test', async () => {
    const d = subdir();
    const file = (name: string, header: Buffer, size: number) => {
      writeFileSync(join(d, name), header);
      truncateSync(join(d, name), size); // sparse: zero pixels, zero labels
    };
    file('train-images-idx3-ubyte', imagesHeader(100_000), 16 + 100_000 * PIXELS);
    file('train-labels-idx1-ubyte', labelsHeader(100_000), 8 + 100_000);
    file('t10k-images-idx3-ubyte', imagesHeader(60_000), 16 + 60_000 * PIXELS);
    file('t10k-labels-idx1-ubyte', labelsHeader(60_000), 8 + 60_000);
    const r = await loadInChild({ data: d });
    expect(r.error).toBe(
      `UserError: ${join(d, 't10k-images-idx3-ubyte')}: too many images: 60,000, only 50,000 left of the 150,000 images accepted in all (train, test and images to predict)`,
    );
    expect(r.rssMiB).toBeLessThan(200); // no body was read: the train images alone are 313 MB as float32
    // 40,000 test images fit: 140,000 in all, loaded within the 600 MB bound
    file('t10k-images-idx3-ubyte', imagesHeader(40_000), 16 + 40_000 * PIXELS);
    file('t10k-labels-idx1-ubyte', labelsHeader(40_000), 8 + 40_000);
    const ok = await loadInChild({ data: d });
    expect(ok.loaded).toEqual([100_000, 40_000, 0]);
    expect(ok.rssMiB).toBeLessThan(600); // 439 MB of float32 pixels, and nothing else of that size
  });
});

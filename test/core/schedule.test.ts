import { describe, expect, it } from 'vitest';
import { makeSchedule, stepsForEpochs } from '../../src/core/schedule.ts';
import type { Batch } from '../../src/core/types.ts';

// 100 samples whose pixel 0 holds the sample index, so a batch tells which rows it holds
function indexed(n: number): Batch {
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 784] = i;
    y[i] = i % 10;
  }
  return { x, y, m: n };
}
const rows = (b: Batch) => Array.from({ length: b.m }, (_, i) => b.x[i * 784]);

describe('batch schedule', () => {
  it('each epoch visits every row once (last partial batch dropped) in a fresh order', () => {
    const data = indexed(100);
    const s = makeSchedule(data, 1, { batch: 25, steps: 8 });
    expect(s.stepsPerEpoch).toBe(4);
    const epochs: number[][] = [[], []];
    for (let t = 0; t < 8; t++) {
      const b = s.batch(t);
      rows(b).forEach((r, i) => expect(b.y[i]).toBe(r % 10)); // labels travel with their rows
      epochs[Math.floor(t / 4)].push(...rows(b));
    }
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochs[0]).not.toEqual(epochs[1]);
  });

  it('is a function of the seed only (not of which steps were read)', () => {
    const data = indexed(100);
    const a = makeSchedule(data, 3, { batch: 10, steps: 30 });
    const b = makeSchedule(data, 3, { batch: 10, steps: 30 });
    const ra: number[][] = [];
    for (let t = 0; t < 30; t++) ra.push(rows(a.batch(t)));
    expect(rows(b.batch(25))).toEqual(ra[25]);
    expect(rows(makeSchedule(data, 4, { batch: 10, steps: 30 }).batch(0))).not.toEqual(ra[0]);
  });

  it('full batch gives the whole set every step', () => {
    const data = indexed(50);
    const s = makeSchedule(data, 1, { batch: 'full', steps: 3 });
    expect(s.batch(2)).toBe(data);
    expect(stepsForEpochs(60000, 'full', 500)).toBe(500);
    expect(stepsForEpochs(60000, 64, 2)).toBe(1874);
  });
});

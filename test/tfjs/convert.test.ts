// The seed layout ↔ tfjs kernel layout conversion: exact transposes, bit-exact round trips.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { allocParams, CLASSES, INPUT, PARAM_NAMES } from '../../src/core/types.ts';
import { fromKernels, toKernels, transpose } from '../../src/tfjs/convert.ts';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('convert', () => {
  it('transposes a hand-made 2×3 matrix', () => {
    // [[1, 2, 3], [4, 5, 6]] → [[1, 4], [2, 5], [3, 6]]
    expect(Array.from(transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('toKernels puts W1[j][k] at k1[k][j] and W2[c][j] at k2[j][c]', () => {
    const h = 3;
    const p = allocParams(h);
    // W1[j][k] = 1000·j + k, W2[c][j] = 10·c + j: every entry tells where it came from.
    for (let j = 0; j < h; j++) for (let k = 0; k < INPUT; k++) p.W1[j * INPUT + k] = 1000 * j + k;
    for (let c = 0; c < CLASSES; c++) for (let j = 0; j < h; j++) p.W2[c * h + j] = 10 * c + j;
    p.b1.set([7, 8, 9]);
    p.b2.forEach((_, i) => (p.b2[i] = -i));
    const k = toKernels(p);
    expect(k.k1.length).toBe(INPUT * h);
    expect(k.k2.length).toBe(h * CLASSES);
    // k1 is 784×h row-major: row k = pixel, column j = hidden unit
    expect(Array.from(k.k1.subarray(0, 3))).toEqual([0, 1000, 2000]); // pixel 0
    expect(Array.from(k.k1.subarray(5 * h, 6 * h))).toEqual([5, 1005, 2005]); // pixel 5
    expect(Array.from(k.k1.subarray(783 * h))).toEqual([783, 1783, 2783]);
    // k2 is h×10: row j = hidden unit, column c = class
    expect(Array.from(k.k2.subarray(0, 10))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(Array.from(k.k2.subarray(20, 30))).toEqual([2, 12, 22, 32, 42, 52, 62, 72, 82, 92]);
    expect(Array.from(k.b1)).toEqual([7, 8, 9]);
    expect(Array.from(k.b2)).toEqual([-0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
  });

  it('round trip is bit-exact and copies (no aliasing) for several hidden widths', () => {
    for (const h of [1, 10, 33]) {
      const p = initParams(h, h, 'he');
      p.W1[0] = -0; // signed zero, NaN payload-free oddities survive too
      p.W1[1] = 1e-45; // subnormal
      const k = toKernels(p);
      const q = fromKernels(k);
      for (const n of PARAM_NAMES) {
        expect(bits(q[n])).toEqual(bits(p[n]));
        expect(q[n]).not.toBe(p[n]);
      }
      // every array is fresh: nothing shares memory with the input (tfjs may adopt these as backing stores)
      const buffers = (o: object) => Object.values(o).map((a: Float32Array) => a.buffer);
      for (const b of buffers(k)) expect(buffers(p)).not.toContain(b);
      for (const b of buffers(q)) expect(buffers(k)).not.toContain(b);
      k.b1[0] += 1;
      k.k1[0] += 1;
      expect(q.b1[0]).toBe(p.b1[0]);
      expect(bits(q.W1)).toEqual(bits(p.W1));
      // and the other way round
      const k2 = toKernels(fromKernels(k));
      expect(bits(k2.k1)).toEqual(bits(k.k1));
      expect(bits(k2.k2)).toEqual(bits(k.k2));
    }
  });

  it('rejects inconsistent shapes', () => {
    const k = toKernels(initParams(1, 4));
    expect(() => fromKernels({ ...k, k2: new Float32Array(3) })).toThrow(/k2/);
    expect(() => fromKernels({ ...k, k1: new Float32Array(784 * 5) })).toThrow(/k1/);
    expect(() => toKernels({ ...initParams(1, 4), W2: new Float32Array(5) })).toThrow(/W2/);
  });
});

// The notebook layout ↔ tfjs kernel layout conversion: exact transposes, bit-exact round trips, any layer list.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { allocParams, INPUT, sizesOf, tensors } from '../../src/core/types.ts';
import { fromKernels, toKernels, transpose } from '../../src/tfjs/convert.ts';
import { expectBitEqual } from '../helpers/index.ts';

describe('convert', () => {
  it('transposes a hand-made 2×3 matrix', () => {
    // [[1, 2, 3], [4, 5, 6]] → [[1, 4], [2, 5], [3, 6]]
    expect(Array.from(transpose(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('toKernels puts W_l[j][k] at K_l[k][j] in every layer', () => {
    const sizes = [784, 3, 4, 10];
    const p = allocParams(sizes);
    // W_l[j][k] = 10000·l + 1000·j + k: every entry tells where it came from
    p.layers.forEach((layer, l) => {
      const inp = sizes[l], out = sizes[l + 1];
      for (let j = 0; j < out; j++) for (let k = 0; k < inp; k++) layer.W[j * inp + k] = 10000 * l + 1000 * j + k;
      layer.b.forEach((_, i) => (layer.b[i] = -(10 * l + i)));
    });
    const k = toKernels(p);
    expect(k.map((x) => x.k.length)).toEqual([784 * 3, 3 * 4, 4 * 10]);
    // K1 is 784×3 row-major: row k = pixel, column j = hidden unit
    expect(Array.from(k[0].k.subarray(0, 3))).toEqual([0, 1000, 2000]); // pixel 0
    expect(Array.from(k[0].k.subarray(5 * 3, 6 * 3))).toEqual([5, 1005, 2005]); // pixel 5
    expect(Array.from(k[0].k.subarray(783 * 3))).toEqual([783, 1783, 2783]);
    // K2 is 3×4: row j = input unit, column c = output unit
    expect(Array.from(k[1].k.subarray(0, 4))).toEqual([10000, 11000, 12000, 13000]);
    expect(Array.from(k[1].k.subarray(8, 12))).toEqual([10002, 11002, 12002, 13002]);
    // K3 is 4×10
    expect(Array.from(k[2].k.subarray(0, 10))).toEqual(Array.from({ length: 10 }, (_, c) => 20000 + 1000 * c));
    expect(Array.from(k[2].b)).toEqual(Array.from({ length: 10 }, (_, i) => -(20 + i)));
    expect(Array.from(k[0].b)).toEqual([-0, -1, -2]);
  });

  it('round trip is bit-exact and copies (no aliasing) for several layer lists', () => {
    for (const sizes of [[784, 1, 10], [784, 10, 10], [784, 33, 7, 10]]) {
      const p = initParams(sizes[1], sizes, 'he');
      p.layers[0].W[0] = -0; // signed zero and subnormals survive too
      p.layers[0].W[1] = 1e-45;
      const k = toKernels(p);
      const q = fromKernels(k, sizes);
      const tp = tensors(p), tq = tensors(q);
      tq.forEach((a, i) => {
        expectBitEqual(a, tp[i], `${sizes.join('-')} tensor ${i}`);
        expect(a).not.toBe(tp[i]);
      });
      // every array is fresh: nothing shares memory with the input (tfjs may adopt these as backing stores)
      const kb = k.flatMap((x) => [x.k.buffer, x.b.buffer]);
      for (const b of kb) expect(tp.map((a) => a.buffer)).not.toContain(b);
      for (const a of tq) expect(kb).not.toContain(a.buffer);
      k[0].b[0] += 1;
      k[0].k[0] += 1;
      expect(q.layers[0].b[0]).toBe(p.layers[0].b[0]);
      expectBitEqual(q.layers[0].W, p.layers[0].W, 'W1 after the kernels changed');
      // and the other way round
      const k2 = toKernels(fromKernels(k, sizes));
      expectBitEqual(k2.map((x) => x.k), k.map((x) => x.k), 'kernels → params → kernels');
      expect(sizesOf(q)).toEqual(sizes);
    }
  });

  it('rejects inconsistent shapes', () => {
    const sizes = [784, 4, 10];
    const k = toKernels(initParams(1, sizes));
    expect(() => fromKernels([k[0], { ...k[1], k: new Float32Array(3) }], sizes)).toThrow(/kernel 2/);
    expect(() => fromKernels([{ ...k[0], k: new Float32Array(INPUT * 5) }, k[1]], sizes)).toThrow(/kernel 1/);
    expect(() => fromKernels(k, [784, 4, 5, 10])).toThrow(/2 kernels for 3 layers/);
    const bad = initParams(1, sizes);
    bad.layers[1].W = new Float32Array(5);
    expect(() => toKernels(bad)).toThrow(/W2/);
  });
});

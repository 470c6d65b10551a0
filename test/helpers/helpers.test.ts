// The test helpers themselves: each check passes on what it should and fails on what it should, so a
// test built on them can fail.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { cloneParams, tensors, type Params } from '../../src/core/types.ts';
import { to64 } from '../../src/scratch/reference64.ts';
import { AGREEMENT_THRESHOLDS, bitsOf, expectAgree, expectBitEqual, flat, mnistData, mnistSlice, sameBits, syntheticBatch, ulps, ulpStats, uniformBatch } from './index.ts';

/** The next float32 above x (x > 0). */
const nextUp = (x: number) => Math.fround(x * (1 + 2 ** -23));

describe('ulps', () => {
  it('counts the float32 values between two numbers', () => {
    expect(ulps(1, 1)).toBe(0);
    expect(ulps(1, 1 + 2 ** -23)).toBe(1);
    expect(ulps(1 + 2 ** -23, 1)).toBe(1);
    expect(ulps(1, 1 - 2 ** -24)).toBe(1); // below 1 the spacing halves
    expect(ulps(2, 1)).toBe(2 ** 23);
    expect(ulps(-0, 0)).toBe(0);
    expect(ulps(0, 2 ** -149)).toBe(1); // the smallest subnormal
    expect(ulps(-(2 ** -149), 2 ** -149)).toBe(2);
    expect(ulps(-1, 1)).toBe(2 * 0x3f800000); // 1.0f is 0x3f800000
    expect(ulps(Math.fround(-1e-30), Math.fround(1e-30))).toBeGreaterThan(1e6);
  });

  it('ulpStats: the worst distance and the bit-identical count, element by element', () => {
    const a = Float32Array.of(1, 2, 0, 5);
    const b = Float32Array.of(1, nextUp(2), -0, 5);
    expect(ulpStats(a, b)).toEqual({ worst: 1, identical: 2, total: 4 }); // −0 is 0 ULP from 0 but not the same bits
    expect(() => ulpStats(a, b.subarray(1))).toThrow(/length 4 vs 3/);
  });
});

describe('bit equality', () => {
  it('bitsOf reads the IEEE-754 patterns of a view, not of its whole buffer', () => {
    const buf = new Float32Array([0, 1, -2, -0]);
    expect(Array.from(bitsOf(buf.subarray(1)))).toEqual([0x3f800000, 0xc0000000, 0x80000000]);
  });

  it('sameBits and expectBitEqual accept identical tensors and reject one ULP, −0 for 0, another length or tensor count', () => {
    const p = initParams(3, [784, 10, 10]);
    const q = cloneParams(p);
    expect(sameBits(p, q)).toBe(true);
    expectBitEqual(p, q, 'clone');
    expectBitEqual(tensors(p), tensors(q), 'as a list');
    q.layers[1].b[7] = nextUp(q.layers[1].b[7]);
    expect(sameBits(p, q)).toBe(false);
    expect(() => expectBitEqual(p, q, 'one ULP')).toThrow(/one ULP: not bit-identical[\s\S]*tensor 3: 1 of 10 values differ \(first at 7/);
    expect(sameBits(Float32Array.of(0), Float32Array.of(-0))).toBe(false);
    expect(sameBits(Float32Array.of(NaN), Float32Array.of(NaN))).toBe(true); // the same NaN
    expect(() => expectBitEqual(Float32Array.of(1, 2), Float32Array.of(1), 'length')).toThrow(/length 2 vs 1/);
    expect(() => expectBitEqual(p, initParams(3, [784, 10, 10, 10]), 'count')).toThrow(/4 tensors vs 6/);
  });
});

describe('flat and expectAgree', () => {
  it('flat lists W1 b1 W2 b2 … of float32 and float64 parameters, and throws on anything else', () => {
    const p = initParams(1, [784, 10, 10]);
    expect(flat(p)).toEqual([p.layers[0].W, p.layers[0].b, p.layers[1].W, p.layers[1].b]);
    expect(flat(to64(p)).map((a) => a.length)).toEqual([7840, 10, 100, 10]);
    for (const bad of [null, {}, [], tensors(p), { W1: p.layers[0].W }, { layers: [{ W: p.layers[0].W }] }, { layers: [{ W: [1], b: [1] }] }]) {
      expect(() => flat(bad as unknown as Params)).toThrow(/flat: /);
    }
  });

  it('expectAgree passes on a copy and on a one-ULP perturbation of every element of a tensor', () => {
    const p = initParams(2, [784, 16, 10]);
    expectAgree(cloneParams(p), p, 'copy');
    const q = cloneParams(p);
    q.layers[0].W.forEach((v, i, a) => (a[i] = v > 0 ? nextUp(v) : v));
    expect(sameBits(p, q)).toBe(false);
    expectAgree(q, p, 'one ULP');
    expectAgree(to64(p), p, 'float64 copy');
  });

  it('expectAgree fails on a perturbed tensor, each threshold on its own', () => {
    const p = initParams(2, [784, 16, 10]);
    // relative L2 and cosine: every element of b2 off by 1%
    const q = cloneParams(p);
    q.layers[1].b.forEach((v, i, a) => (a[i] = v * 1.01 + 1e-3));
    expect(() => expectAgree(q, p, 'b2 off')).toThrow(/b2 off b2 relative L2/);
    // max|a−b|/max|b| alone: one element of W1 (7,840 values) off by 2e-5 of the largest, which moves the
    // relative L2 of the whole tensor by far less than 1e-5
    const r = cloneParams(p);
    const W1 = r.layers[0].W, big = Math.max(...W1.map(Math.abs));
    W1[100] += 2 * AGREEMENT_THRESHOLDS.maxAbsRel * big;
    expect(() => expectAgree(r, p, 'one W1')).toThrow(/one W1 W1 max\|a−b\|\/max\|b\|/);
    // a sign flip of a tensor: cosine −1
    const s = cloneParams(p);
    s.layers[1].W.forEach((v, i, a) => (a[i] = -v));
    expect(() => expectAgree(s, p, 'flipped')).toThrow(/flipped W2/);
  });

  it('expectAgree fails on mismatched shapes, a different tensor count, no tensors, or an all-zero reference', () => {
    const p = initParams(2, [784, 16, 10]);
    expect(() => expectAgree(initParams(2, [784, 17, 10]), p, 'widths')).toThrow(/widths W1: length/);
    expect(() => expectAgree(initParams(2, [784, 16, 10, 10]), p, 'depth')).toThrow(/depth: tensor count/);
    expect(() => expectAgree({ layers: [] }, { layers: [] }, 'empty')).toThrow(/empty: the reference has no tensors/);
    const z = cloneParams(p);
    z.layers[1].b.fill(0);
    expect(() => expectAgree(cloneParams(z), z, 'zeros')).toThrow(/zeros b2: the reference is all zeros/);
    expect(() => expectAgree(p, {} as Params, 'not params')).toThrow(/flat: expected a parameter list/);
  });
});

describe('batches', () => {
  it('mnistSlice: rows of the training set as views; out-of-range rows are an error', () => {
    const t = mnistData().train;
    const b = mnistSlice(10, 3);
    expect(b.m).toBe(3);
    expect(Array.from(b.y)).toEqual(Array.from(t.y.subarray(10, 13)));
    expect(b.x.buffer).toBe(t.x.buffer);
    expect(b.x.byteOffset).toBe(t.x.byteOffset + 10 * 784 * 4);
    expect(() => mnistSlice(t.m - 1, 2)).toThrow(/outside the 60000 training images/);
  });

  it('synthetic batches are seeded: ~80% zero pixels (syntheticBatch) or dense uniform ones (uniformBatch)', () => {
    const s = syntheticBatch(50, 3), u = uniformBatch(50, 3);
    expectBitEqual(syntheticBatch(50, 3).x, s.x, 'same seed');
    expect(sameBits(syntheticBatch(50, 4).x, s.x)).toBe(false);
    const zeros = (x: Float32Array) => x.filter((v) => v === 0).length / x.length;
    expect(zeros(s.x)).toBeGreaterThan(0.77);
    expect(zeros(s.x)).toBeLessThan(0.83);
    expect(zeros(u.x)).toBeLessThan(0.001);
    for (const b of [s, u]) {
      expect(b.x.length).toBe(50 * 784);
      expect(b.x.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(b.y.every((v) => v <= 9)).toBe(true);
      expect(new Set(b.y).size).toBeGreaterThan(5);
    }
  });
});

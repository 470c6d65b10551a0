import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { tensors } from '../../src/core/types.ts';
import { permutation, rng } from '../../src/core/rng.ts';
import { expectBitEqual, sameBits } from '../helpers/index.ts';

describe('seeded RNG', () => {
  it('is deterministic per (seed, stream) and streams differ', () => {
    const draw = (seed: number, s: 'init' | 'batches') => Array.from({ length: 5 }, ((r) => () => r.float())(rng(seed, s)));
    expect(draw(1, 'init')).toEqual(draw(1, 'init'));
    expect(draw(1, 'init')).not.toEqual(draw(1, 'batches'));
    expect(draw(1, 'init')).not.toEqual(draw(2, 'init'));
  });

  it('uniform floats have mean ½ and variance 1/12', () => {
    const r = rng(3, 'test');
    let s = 0, s2 = 0, outside = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = r.float();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005); // 5 sd of the mean is ~0.003
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
  });

  it('normals have mean 0 and variance 1', () => {
    const r = rng(4, 'test');
    let s = 0, s2 = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.012);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it('permutation is a permutation', () => {
    const p = permutation(rng(1, 'batches'), 1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('rejects seeds that are not 31-bit integers', () => {
    for (const s of [-1, 1.5, 2 ** 31, NaN]) expect(() => rng(s, 'init')).toThrow(/seed/);
  });
});

describe('initialisation', () => {
  it('uniform(−0.5, 0.5) for every weight and bias, as the seed', () => {
    const p = initParams(1, [784, 10, 10]);
    for (const a of tensors(p)) for (const v of a) expect(v >= -0.5 && v < 0.5).toBe(true);
    const W1 = p.layers[0].W;
    const mean = W1.reduce((a, b) => a + b, 0) / W1.length;
    expect(Math.abs(mean)).toBeLessThan(0.01); // sd of the mean over 7,840 values ≈ 0.0033
  });

  it('He-normal: weights with sd √(2/fan_in) in every layer, zero biases', () => {
    const sizes = [784, 400, 100, 10];
    const p = initParams(1, sizes, 'he');
    p.layers.forEach((l, i) => {
      const sd = Math.sqrt(l.W.reduce((a, b) => a + b * b, 0) / l.W.length);
      const want = Math.sqrt(2 / sizes[i]);
      // the sd of a sample sd is ≈ σ/√(2n): ≤ 0.3% for W1's 313,600 values, 2.2% for W3's 1,000
      expect(Math.abs(sd - want) / want, `W${i + 1}`).toBeLessThan(0.08);
      expect(l.b.every((v) => v === 0)).toBe(true);
    });
    // the first layer's fan-in is 784, the second's 400: a swapped scale would be off by 40%
    const sd1 = Math.sqrt(p.layers[0].W.reduce((a, b) => a + b * b, 0) / p.layers[0].W.length);
    expect(Math.abs(sd1 - Math.sqrt(2 / 784)) / Math.sqrt(2 / 784)).toBeLessThan(0.01);
  });

  it('same seed → identical weights, different seed → different; the draw order is W1, b1, W2, b2', () => {
    expectBitEqual(initParams(7, [784, 10, 10]).layers[0].W, initParams(7, [784, 10, 10]).layers[0].W, 'same seed');
    expect(sameBits(initParams(7, [784, 10, 10]).layers[0].W, initParams(8, [784, 10, 10]).layers[0].W)).toBe(false);
    // a deeper net starts with the same W1 and b1 draws as a shallow one of the same first width
    const a = initParams(7, [784, 10, 10]), b = initParams(7, [784, 10, 5, 10]);
    expectBitEqual([b.layers[0].W, b.layers[0].b], [a.layers[0].W, a.layers[0].b], 'W1 and b1 of a deeper net');
    const r = rng(7, 'init');
    expect(a.layers[0].W[0]).toBe(Math.fround(r.float() - 0.5));
  });
});

import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { permutation, rng } from '../../src/core/rng.ts';

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
    const p = initParams(1, 10);
    for (const a of [p.W1, p.b1, p.W2, p.b2]) for (const v of a) expect(v >= -0.5 && v < 0.5).toBe(true);
    const mean = p.W1.reduce((a, b) => a + b, 0) / p.W1.length;
    expect(Math.abs(mean)).toBeLessThan(0.01); // sd of the mean over 7,840 values ≈ 0.0033
  });

  it('He-normal: weights with sd √(2/fan_in), zero biases', () => {
    const p = initParams(1, 128, 'he');
    const sd = Math.sqrt(p.W1.reduce((a, b) => a + b * b, 0) / p.W1.length);
    expect(Math.abs(sd - Math.sqrt(2 / 784)) / Math.sqrt(2 / 784)).toBeLessThan(0.02);
    const sd2 = Math.sqrt(p.W2.reduce((a, b) => a + b * b, 0) / p.W2.length);
    expect(Math.abs(sd2 - Math.sqrt(2 / 128)) / Math.sqrt(2 / 128)).toBeLessThan(0.1);
    expect([...p.b1, ...p.b2].every((v) => v === 0)).toBe(true);
  });

  it('same seed → identical weights, different seed → different', () => {
    expect(initParams(7, 10).W1).toEqual(initParams(7, 10).W1);
    expect(initParams(7, 10).W1).not.toEqual(initParams(8, 10).W1);
  });
});

// Dropout masks: seeded, reproducible, the right keep rate and values, independent of how they are reached.
import { describe, expect, it } from 'vitest';
import { checkKeep, maskStream } from '../../src/core/dropout.ts';
import { meanSd } from '../../src/core/metrics.ts';
import { rng } from '../../src/core/rng.ts';

describe('dropout masks', () => {
  it('values are 0 or 1/keep as a float32, kept at the keep rate (binomial bounds)', () => {
    const ms = maskStream(1, [400, 100], [0.4, 0.5]);
    const [a, b] = ms.masks(0, 256);
    expect(a.length).toBe(256 * 400);
    expect(b.length).toBe(256 * 100);
    for (const [mk, keep] of [[a, 0.4], [b, 0.5]] as const) {
      const kept = mk.filter((v) => v !== 0);
      expect(kept.every((v) => v === Math.fround(1 / keep))).toBe(true);
      expect(mk.every((v) => v === 0 || v === Math.fround(1 / keep))).toBe(true);
      const n = mk.length, rate = kept.length / n;
      // 5 standard deviations of a binomial proportion
      expect(Math.abs(rate - keep)).toBeLessThan(5 * Math.sqrt((keep * (1 - keep)) / n));
    }
    // and each sample's mask differs (no repeated rows)
    expect(a.subarray(0, 400)).not.toEqual(a.subarray(400, 800));
  });

  it('the masks are the definition, draw by draw: the dropout stream\'s int32() < keep·2^32 − 2^31 → 1/keep, else 0, layer by layer, step by step', () => {
    const keep = [0.4, 0.5, 1, 0.3];
    const widths = [37, 11, 5, 9];
    const ms = maskStream(12, widths, keep);
    const r = rng(12, 'dropout');
    for (let s = 0; s < 3; s++) {
      const got = ms.masks(s, 13);
      widths.forEach((w, l) => {
        const want = new Float32Array(13 * w);
        for (let i = 0; i < want.length; i++) want[i] = keep[l] >= 1 ? 1 : r.int32() < keep[l] * 4294967296 - 2147483648 ? Math.fround(1 / keep[l]) : 0;
        expect(Array.from(got[l]), `step ${s}, layer ${l}`).toEqual(Array.from(want));
      });
    }
  });

  it('fillInt32 gives the same draws as int32() one by one, and the stream goes on from there', () => {
    const a = rng(5, 'dropout'), b = rng(5, 'dropout');
    const bulk = a.fillInt32(new Int32Array(1001));
    const one = Int32Array.from({ length: 1001 }, () => b.int32());
    expect(Array.from(bulk)).toEqual(Array.from(one));
    expect(a.int32()).toBe(b.int32());
    expect(a.float()).toBe(b.float());
  });

  it('the mean of the masked activation is the activation (inverted dropout): E[mask] = 1', () => {
    const [a] = maskStream(3, [1000], [0.3]).masks(0, 100);
    expect(Math.abs(meanSd(Array.from(a)).mean - 1)).toBeLessThan(0.02); // sd of the mean ≈ 1.53/√1e5 = 0.005
  });

  it('same seed → same masks; another seed, another step or the probe stream → different', () => {
    const a = maskStream(7, [50], [0.5]);
    const b = maskStream(7, [50], [0.5]);
    const m0 = a.masks(0, 10)[0].slice(), m1 = a.masks(1, 10)[0].slice();
    expect(b.masks(0, 10)[0]).toEqual(m0);
    expect(m1).not.toEqual(m0);
    expect(maskStream(8, [50], [0.5]).masks(0, 10)[0]).not.toEqual(m0);
    expect(maskStream(7, [50], [0.5], 'probe').masks(0, 10)[0]).not.toEqual(m0);
  });

  it('step s has the same masks however it is reached (skipped steps advance the stream)', () => {
    const a = maskStream(4, [30, 20], [0.5, 0.9]);
    for (let s = 0; s < 5; s++) a.masks(s, 8);
    const want = a.masks(5, 8).map((x) => x.slice());
    const b = maskStream(4, [30, 20], [0.5, 0.9]);
    expect(b.masks(5, 8)).toEqual(want);
    expect(() => b.masks(2, 8)).toThrow(/increasing order/);
  });

  it('keep = 1 gives all ones and draws nothing: the other layers keep their masks', () => {
    const [ones] = maskStream(2, [30], [1]).masks(0, 4);
    expect(ones.every((v) => v === 1)).toBe(true);
    const withOnes = maskStream(2, [30, 40], [1, 0.5]).masks(0, 4)[1];
    const alone = maskStream(2, [40], [0.5]).masks(0, 4)[0];
    expect(withOnes).toEqual(alone);
  });

  it('rejects keep probabilities outside (0, 1] and a list of the wrong length', () => {
    for (const k of [0, -0.1, 1.5, NaN]) expect(() => checkKeep([k], [10])).toThrow(/keep/);
    expect(() => checkKeep([0.5], [10, 10])).toThrow(/keep/);
  });
});

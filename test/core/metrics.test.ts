import { describe, expect, it } from 'vitest';
import { accuracy, agreement, confusion, perClassAccuracy, quantile } from '../../src/core/metrics.ts';

describe('metrics', () => {
  it('accuracy, confusion matrix and per-class accuracy on a hand-made example', () => {
    const y = Uint8Array.from([0, 0, 1, 1, 2]);
    const p = Uint8Array.from([0, 1, 1, 1, 0]);
    expect(accuracy(p, y)).toBe(0.6);
    const c = confusion(p, y);
    expect(c[0].slice(0, 3)).toEqual([1, 1, 0]);
    expect(c[1].slice(0, 3)).toEqual([0, 2, 0]);
    expect(c[2].slice(0, 3)).toEqual([1, 0, 0]);
    expect(perClassAccuracy(c).slice(0, 3)).toEqual([0.5, 1, 0]);
  });

  it('agreement: relative L2, max abs relative and cosine by hand', () => {
    const g = agreement([1, 2, 2], [1, 2, 3]);
    expect(g.relL2).toBeCloseTo(1 / Math.sqrt(14), 12);
    expect(g.maxAbsRel).toBeCloseTo(1 / 3, 12);
    expect(g.cosine).toBeCloseTo(11 / (3 * Math.sqrt(14)), 12);
    expect(agreement([0, 0], [0, 0])).toEqual({ relL2: 0, maxAbsRel: 0, cosine: 1 });
  });

  it('quantiles interpolate linearly', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
  });
});

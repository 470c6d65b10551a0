// The float64 reference is only worth trusting if it matches the calculus: central finite differences,
// for layer lists of 2, 3 and 4 dense layers, every activation, with and without dropout masks.
import { describe, expect, it } from 'vitest';
import { fillMask } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { rng } from '../../src/core/rng.ts';
import { ACTIVATIONS, hiddenOf, type Batch } from '../../src/core/types.ts';
import { gradients64, loss64, to64, type Options64, type Params64 } from '../../src/scratch/reference64.ts';
import { syntheticBatch } from '../helpers/index.ts';

const NETS = [
  [784, 10, 10],
  [784, 7, 5, 10],
  [784, 6, 5, 4, 10],
];

/** A copy of p with one coordinate of one tensor moved by d. */
function moved(p: Params64, l: number, which: 'W' | 'b', i: number, d: number): Params64 {
  const q: Params64 = { layers: p.layers.map((x) => ({ W: x.W.slice(), b: x.b.slice() })) };
  q.layers[l][which][i] += d;
  return q;
}

/** Checks sampled coordinates of every tensor against central differences; returns how many were checked. */
function checkFd(p: Params64, batch: Batch, opts: Options64): number {
  const { grads } = gradients64(p, batch, opts);
  const r = rng(5, 'test');
  const eps = 1e-5;
  let checked = 0;
  p.layers.forEach((layer, l) => {
    for (const which of ['W', 'b'] as const) {
      const n = layer[which].length;
      const picks: number[] = [];
      while (picks.length < Math.min(n, 10)) {
        const i = r.int(0, n - 1);
        // W1: coordinates at pixels that are non-zero in some sample, so the derivative is not trivially 0
        if (l === 0 && which === 'W' && !Array.from({ length: batch.m }, (_, s) => batch.x[s * 784 + (i % 784)]).some((v) => v !== 0)) continue;
        picks.push(i);
      }
      for (const i of picks) {
        const fd = (loss64(moved(p, l, which, i, eps), batch, opts) - loss64(moved(p, l, which, i, -eps), batch, opts)) / (2 * eps);
        // central differences are O(eps²) accurate; 1e-7 absolute plus 1e-5 relative is far tighter than
        // any real bug (a wrong sign, factor, transpose or mask) could pass
        expect(Math.abs(grads.layers[l][which][i] - fd), `${which}${l + 1}[${i}]`).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
        checked++;
      }
    }
  });
  return checked;
}

/** Dropout masks for a batch: keep 0.5 in every hidden layer, from a test stream. */
function masksFor(sizes: number[], m: number): Float32Array[] {
  const r = rng(9, 'test');
  return hiddenOf(sizes).map((w) => fillMask(r, 0.5, new Float32Array(m * w)));
}

describe('float64 reference vs central finite differences', () => {
  for (const sizes of NETS)
    for (const act of ACTIVATIONS)
      for (const dropout of [false, true])
        it(`${sizes.join('-')}, ${act}${dropout ? ', dropout masks' : ''}: sampled coordinates of every tensor`, () => {
          const p = to64(initParams(3, sizes, 'uniform'));
          const batch = syntheticBatch(6, 11);
          const masks = dropout ? masksFor(sizes, batch.m) : undefined;
          expect(checkFd(p, batch, { activation: act, masks })).toBeGreaterThanOrEqual(sizes.length * 2);
        });

  it('the masks really enter: gradients with and without masks differ, and a dropped unit has no gradient', () => {
    const sizes = [784, 7, 5, 10];
    const p = to64(initParams(3, sizes));
    const batch = syntheticBatch(1, 11);
    const masks = masksFor(sizes, 1);
    const a = gradients64(p, batch, { masks }).grads, b = gradients64(p, batch).grads;
    expect(a.layers[0].W).not.toEqual(b.layers[0].W);
    const dropped = Array.from(masks[0]).findIndex((v) => v === 0);
    expect(dropped).toBeGreaterThanOrEqual(0);
    expect(a.layers[0].b[dropped]).toBe(0); // one sample: a dropped unit contributes nothing
    for (let k = 0; k < 784; k++) expect(a.layers[0].W[dropped * 784 + k]).toBe(0);
  });

  it('a deliberately wrong gradient fails the same check (the test can fail)', () => {
    const p = to64(initParams(3, [784, 10, 10]));
    const batch = syntheticBatch(6, 11);
    const { grads } = gradients64(p, batch);
    const eps = 1e-5;
    const fd = (loss64(moved(p, 1, 'b', 3, eps), batch) - loss64(moved(p, 1, 'b', 3, -eps), batch)) / (2 * eps);
    expect(Math.abs(grads.layers[1].b[3] - fd)).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
    expect(Math.abs(grads.layers[1].b[3] * 6 - fd)).toBeGreaterThan(1e-3); // the notebook-style "forgot /m" slip
  });
});

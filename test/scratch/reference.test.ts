// The float64 reference is only worth trusting if it matches the calculus: central finite differences.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { rng } from '../../src/core/rng.ts';
import { ACTIVATIONS } from '../../src/core/types.ts';
import { gradients64, loss64, to64, type Params64 } from '../../src/harness/reference64.ts';
import { syntheticBatch } from '../helpers/synthetic.ts';

describe('float64 reference vs central finite differences', () => {
  for (const act of ACTIVATIONS) {
    for (const hidden of [1, 10]) {
      it(`${act}, hidden ${hidden}: every sampled coordinate of every tensor`, () => {
        const p = to64(initParams(3, hidden));
        const batch = syntheticBatch(6, 11);
        const { grads } = gradients64(p, batch, act);
        const r = rng(5, 'test');
        const eps = 1e-5;
        for (const k of ['W1', 'b1', 'W2', 'b2'] as const) {
          const n = p[k].length;
          // W1: coordinates at pixels that are non-zero in some sample, so the derivative is not trivially 0
          const picks: number[] = [];
          while (picks.length < Math.min(n, 12)) {
            const i = r.int(0, n - 1);
            if (k === 'W1' && !Array.from({ length: batch.m }, (_, s) => batch.x[s * 784 + (i % 784)]).some((v) => v !== 0)) continue;
            picks.push(i);
          }
          for (const i of picks) {
            const plus: Params64 = { ...p, [k]: p[k].slice() };
            const minus: Params64 = { ...p, [k]: p[k].slice() };
            plus[k][i] += eps;
            minus[k][i] -= eps;
            const fd = (loss64(plus, batch, act) - loss64(minus, batch, act)) / (2 * eps);
            // central differences are O(eps²) accurate; 1e-7 absolute plus 1e-5 relative is far tighter
            // than any real bug (a wrong sign, factor or transpose) could pass
            expect(Math.abs(grads[k][i] - fd)).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
          }
        }
      });
    }
  }

  it('a deliberately wrong gradient fails the same check (the test can fail)', () => {
    const p = to64(initParams(3, 10));
    const batch = syntheticBatch(6, 11);
    const { grads } = gradients64(p, batch);
    const eps = 1e-5;
    const plus: Params64 = { ...p, b2: p.b2.slice() };
    const minus: Params64 = { ...p, b2: p.b2.slice() };
    plus.b2[3] += eps;
    minus.b2[3] -= eps;
    const fd = (loss64(plus, batch) - loss64(minus, batch)) / (2 * eps);
    expect(Math.abs(grads.b2[3] * 6 - fd)).toBeGreaterThan(1e-3); // the notebook-style "forgot /m" slip
  });
});

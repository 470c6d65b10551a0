// Every activation × hidden widths 1, 10, 128: scratch vs the float64 reference (itself checked against
// finite differences in reference.test.ts, for these same activations), and scratch vs tfjs on cpu and wasm.
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { ACTIVATIONS, PARAM_NAMES, type Batch, type ParamName, type Params } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';
import { gradients64, loss64, to64 } from '../../src/harness/reference64.ts';
import { gradients } from '../../src/scratch/network.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { gradients as tfjsGradients } from '../../src/tfjs/network.ts';

const mnist = loadEmbedded();
const batch: Batch = { x: mnist.train.x.subarray(700 * 784, 764 * 784), y: mnist.train.y.subarray(700, 764), m: 64 };
const WIDTHS = [1, 10, 128];

function expectAgree(a: Params, b: Record<ParamName, ArrayLike<number>>, label: string) {
  for (const k of PARAM_NAMES) {
    const g = agreement(a[k], b[k]);
    expect(g.relL2, `${label} ${k} rel L2`).toBeLessThanOrEqual(1e-5);
    expect(g.maxAbsRel, `${label} ${k} max abs rel`).toBeLessThanOrEqual(1e-5);
    expect(g.cosine, `${label} ${k} cosine`).toBeGreaterThanOrEqual(1 - 1e-6);
  }
}

describe('scratch gradients for every activation and width, vs float64', () => {
  for (const act of ACTIVATIONS)
    for (const h of WIDTHS)
      it(`${act}, hidden ${h}`, () => {
        for (const init of ['uniform', 'he'] as const) {
          const p = initParams(h, h, init);
          expectAgree(gradients(p, batch, { activation: act }).grads, gradients64(to64(p), batch, act).grads, `${act}/${h}/${init}`);
        }
      });

  it('finite differences at hidden 128 (the reference is right at this width too)', () => {
    const p = to64(initParams(3, 128, 'he'));
    const small: Batch = { x: batch.x.subarray(0, 4 * 784), y: batch.y.subarray(0, 4), m: 4 };
    for (const act of ACTIVATIONS) {
      const { grads } = gradients64(p, small, act);
      for (const [k, i] of [['W2', 1000], ['b1', 77], ['b2', 3], ['W1', 50 * 784 + 300]] as const) {
        const e = 1e-5;
        const plus = { ...p, [k]: p[k].slice() }, minus = { ...p, [k]: p[k].slice() };
        plus[k][i] += e;
        minus[k][i] -= e;
        const fd = (loss64(plus, small, act) - loss64(minus, small, act)) / (2 * e);
        expect(Math.abs(grads[k][i] - fd), `${act} ${k}[${i}]`).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
      }
    }
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`scratch vs tfjs (${backend}) for every activation and width`, () => {
    afterAll(() => undefined);
    for (const act of ACTIVATIONS)
      it(`${act}, widths ${WIDTHS.join(', ')}`, async () => {
        await initBackend(backend);
        for (const h of WIDTHS) {
          const p = initParams(h + 100, h, 'he');
          const t = await tfjsGradients(p, batch, { activation: act });
          expectAgree(gradients(p, batch, { activation: act }).grads, t.grads, `${backend}/${act}/${h}`);
        }
      });
  });
}

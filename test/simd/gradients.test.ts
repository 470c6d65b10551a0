// scratch-simd's gradients vs the float64 reference and vs the plain-TypeScript scratch network, per
// tensor within the agreement thresholds the reports check (src/results/results.ts), on real MNIST.
import { describe, expect, it } from 'vitest';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { ACTIVATIONS, netSizes, tensors, type Activation, type Batch, type Params } from '../../src/core/types.ts';
import { gradients as scratchGradients, predict as scratchPredict } from '../../src/scratch/index.ts';
import { gradients64, logits64, to64, type Params64 } from '../../src/scratch/reference64.ts';
import { gradients, predict } from '../../src/simd/index.ts';
import { AGREEMENT_THRESHOLDS, expectAgree, mnistData, mnistSlice, simdFlavours, useSimdFlavour, Worst } from '../helpers/index.ts';

const mnist = mnistData();

/** Asserts the loss and every tensor of `got` within the agreement thresholds of `ref`; returns the worst relative L2. */
function expectClose(got: Params, gotLoss: number, ref: { loss: number; grads: Params | Params64 }, what: string): number {
  expect(Math.abs(gotLoss - ref.loss), `${what}: loss`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.loss)));
  const worst = new Worst();
  expectAgree(got, ref.grads, what, worst);
  return Math.max(...[...worst.w.values()].map((a) => a.relL2));
}

/** scratch-simd vs float64 and vs scratch for one case. */
function check(p: Params, batch: Batch, opts: { activation?: Activation; masks?: Float32Array[] } = {}, label = ''): void {
  const got = gradients(p, batch, opts);
  const ref = gradients64(to64(p), batch, opts);
  const ts = scratchGradients(p, batch, opts);
  const what = `${label} m=${batch.m}`;
  const w64 = expectClose(got.grads, got.loss, { loss: ref.loss, grads: ref.grads }, `${what} vs float64`);
  const wts = expectClose(got.grads, got.loss, { loss: ts.loss, grads: ts.grads }, `${what} vs scratch`);
  // and the yardstick agrees with itself: scratch vs float64 passes too (else the case proves little)
  expectClose(ts.grads, ts.loss, { loss: ref.loss, grads: ref.grads }, `${what} scratch vs float64`);
  console.log(`${what}: worst relative L2 ${w64.toExponential(2)} vs float64, ${wts.toExponential(2)} vs scratch`);
}

describe('scratch-simd gradients, 784-10-10', () => {
  for (const m of [1, 7, 64]) {
    it(`m = ${m}`, () => {
      check(initParams(42, netSizes([10])), mnistSlice(123, m), {}, '784-10-10');
    });
  }

  it('m = 60,000: the whole training set (469 blocks of float64 sums)', () => {
    check(initParams(7, netSizes([10])), mnist.train, {}, '784-10-10 full');
  });

  it('every activation, and He init', () => {
    for (const act of ACTIVATIONS) {
      check(initParams(3, netSizes([10]), 'he'), mnistSlice(1000, 64), { activation: act }, `784-10-10 ${act}`);
    }
  });

  it('large weights (saturated softmax): max-subtraction keeps it finite and right', () => {
    const p = initParams(9, netSizes([10]));
    for (const a of tensors(p)) a.forEach((v, i) => (a[i] = v * 8));
    const got = gradients(p, mnistSlice(5000, 64));
    expect(Number.isFinite(got.loss)).toBe(true);
    check(p, mnistSlice(5000, 64), {}, '784-10-10 ×8');
  });
});


describe.each(simdFlavours())('scratch-simd gradients, %s build: the deep network, deeper and odd-sized networks', (flavour) => {
  useSimdFlavour(flavour);
  const deep = netSizes([400, 100]);
  // At m = 60,000 the yardstick is scratch, whose intermediates and sums are float64 (the float64 twin takes
  // ~90 s here), and the activation tanh: with ReLU, among 60,000 samples some unit's pre-activation lies
  // within float32 rounding of 0, on one side in float32 and on the other in float64, and that sample's
  // whole row of dW1 (~3e-6 here) then moves the mean gradient by more than the threshold (seen: relative
  // L2 1.5e-5 at m = 30,000 and beyond, the same before and after the column kernel). That is the kink,
  // not the kernels: tanh has none, and at m ≤ 256 ReLU is tested above.
  it('784-400-100-10, m = 60,000 (469 blocks), tanh, with dropout: against scratch', () => {
    const m = mnist.train.m;
    const masks = maskStream(6, [400, 100], [0.4, 0.5]).masks(0, m).map((a) => a.slice());
    const p = initParams(6, deep, 'he');
    const got = gradients(p, mnist.train, { masks, activation: 'tanh' });
    const ts = scratchGradients(p, mnist.train, { masks, activation: 'tanh' });
    const w = expectClose(got.grads, got.loss, { loss: ts.loss, grads: ts.grads }, `784-400-100-10 m=${m} ${flavour} vs scratch`);
    console.log(`784-400-100-10 m=${m} dropout, ${flavour}: worst relative L2 ${w.toExponential(2)} vs scratch`);
  });
  it('784-10-10, m = 60,000: against scratch (float64 intermediates and sums)', () => {
    const p = initParams(7, netSizes([10]));
    const got = gradients(p, mnist.train);
    const ts = scratchGradients(p, mnist.train);
    expectClose(got.grads, got.loss, { loss: ts.loss, grads: ts.grads }, `784-10-10 m=60000 ${flavour} vs scratch`);
  });
  for (const m of [1, 7, 256]) {
    it(`784-400-100-10, m = ${m}, without dropout`, () => {
      check(initParams(5, deep, 'he'), mnistSlice(300, m), {}, '784-400-100-10');
    });
    it(`784-400-100-10, m = ${m}, dropout keep 0.4 / 0.5`, () => {
      const masks = maskStream(5, [400, 100], [0.4, 0.5]).masks(3, m).map((a) => a.slice());
      expect(masks[0].some((v) => v === 0) || m === 1).toBe(true);
      check(initParams(5, deep, 'he'), mnistSlice(300, m), { masks }, '784-400-100-10 dropout');
    });
  }

  it('widths that are not multiples of 4 (padding lanes), every activation, with dropout, over 3 blocks', () => {
    const sizes = netSizes([13, 6]);
    const m = 600;
    for (const act of ACTIVATIONS) {
      const masks = maskStream(8, [13, 6], [0.7, 0.6]).masks(0, m).map((a) => a.slice());
      check(initParams(2, sizes, 'he'), mnistSlice(2000, m), { activation: act, masks }, `784-13-6-10 ${act} dropout`);
      check(initParams(2, sizes), mnistSlice(2000, m), { activation: act }, `784-13-6-10 ${act}`);
    }
  });

  it('a single layer (784 → 10, softmax regression)', () => {
    check(initParams(4, netSizes([])), mnistSlice(0, 300), {}, '784-10');
  });
});

describe('the checks can fail', () => {
  it('a transposed dW2 and a dropped bias gradient do not pass', () => {
    const p = initParams(4, netSizes([10]));
    const batch = mnistSlice(0, 64);
    const ref = gradients64(to64(p), batch).grads;
    const got = gradients(p, batch).grads;
    const W2 = got.layers[1].W;
    const t = new Float32Array(W2.length);
    for (let c = 0; c < 10; c++) for (let j = 0; j < 10; j++) t[j * 10 + c] = W2[c * 10 + j];
    expect(agreement(t, ref.layers[1].W).relL2).toBeGreaterThan(AGREEMENT_THRESHOLDS.relL2);
    const b1 = got.layers[0].b.slice();
    b1[3] = 0;
    expect(agreement(b1, ref.layers[0].b).maxAbsRel).toBeGreaterThan(AGREEMENT_THRESHOLDS.maxAbsRel);
  });
});

describe('scratch-simd predictions', () => {
  it('equal the argmax of the float64 logits (and scratch’s) on 2,000 test images', () => {
    for (const [sizes, act] of [[netSizes([10]), 'relu'], [netSizes([400, 100]), 'relu'], [netSizes([13, 6]), 'tanh'], [netSizes([10]), 'sigmoid']] as const) {
      const p = initParams(6, sizes, 'he');
      const m = 2000;
      const x = mnist.test.x.subarray(0, m * 784);
      const got = predict(p, x, m, { activation: act });
      const ts = scratchPredict(p, x, m, { activation: act });
      const Z = logits64(to64(p), { x, y: mnist.test.y.subarray(0, m), m }, act);
      let agree = 0, agreeTs = 0, close = 0;
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (Z[c * m + i] > Z[best * m + i]) best = c;
        if (got[i] === best) agree++;
        else if (Math.abs(Z[got[i] * m + i] - Z[best * m + i]) < 1e-4) close++; // a near-tie, float32 vs float64
        if (got[i] === ts[i]) agreeTs++;
      }
      expect(agree + close, `${sizes.join('-')} ${act}`).toBe(m);
      expect(agreeTs).toBeGreaterThanOrEqual(m - close);
    }
  });

  it('m = 0 gives no predictions', () => {
    expect(predict(initParams(1, netSizes([10])), new Float32Array(0), 0)).toHaveLength(0);
  });
});

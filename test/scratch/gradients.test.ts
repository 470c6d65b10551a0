// src/scratch's float32 gradients vs the independent float64 reference, per tensor, for the notebook's
// network and the deep notebook's, with and without dropout masks.
import { describe, expect, it } from 'vitest';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { allocParams, tensors, type Batch, type Params } from '../../src/core/types.ts';
import { gradients } from '../../src/scratch/index.ts';
import { createWorkspace, gradientsInto } from '../../src/scratch/network.ts';
import { gradients64, to64 } from '../../src/scratch/reference64.ts';
import { AGREEMENT_THRESHOLDS, expectAgree, expectBitEqual, flat, mnistSlice, syntheticBatch } from '../helpers/index.ts';

const DEEP = [784, 400, 100, 10];

function check(p: Params, batch: Batch, masks?: Float32Array[]): void {
  const a = gradients(p, batch, { masks });
  const b = gradients64(to64(p), batch, { masks });
  expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6 * Math.max(1, b.loss));
  expectAgree(a.grads, b.grads, `m ${batch.m}`);
}

describe('scratch gradients vs float64 reference', () => {
  it('784-10-10, random params (uniform and He init), synthetic batches', () => {
    for (const seed of [1, 2, 3]) {
      check(initParams(seed, [784, 10, 10], 'uniform'), syntheticBatch(32, seed));
      check(initParams(seed, [784, 10, 10], 'he'), syntheticBatch(17, seed + 10));
    }
  });

  for (const m of [1, 7, 64, 1000]) {
    it(`784-10-10, real MNIST batch, m = ${m}`, () => check(initParams(42, [784, 10, 10]), mnistSlice(123, m)));
  }

  for (const m of [1, 7, 256]) {
    it(`784-400-100-10 (He), real MNIST batch, m = ${m}, without and with dropout masks (keep 0.4 / 0.5)`, () => {
      const p = initParams(5, DEEP, 'he');
      const b = mnistSlice(2000, m);
      check(p, b);
      check(p, b, maskStream(5, [400, 100], [0.4, 0.5]).masks(0, m));
    });
  }

  it('real MNIST batch with large weights (saturated softmax)', () => {
    const p = initParams(9, [784, 10, 10]);
    for (const a of tensors(p)) a.forEach((v, i) => (a[i] = v * 8));
    check(p, mnistSlice(5000, 64));
  });

  it('keep = 1 is exactly no dropout', () => {
    const p = initParams(6, DEEP, 'he');
    const b = mnistSlice(0, 100);
    const ones = maskStream(6, [400, 100], [1, 1]).masks(0, 100);
    expect(ones.every((mk) => mk.every((v) => v === 1))).toBe(true);
    const a = gradients(p, b, { masks: ones }), c = gradients(p, b);
    expect(a.loss).toBe(c.loss);
    expectBitEqual(a.grads, c.grads, 'keep 1 vs no masks');
  });

  it('the check can fail: a one-ULP perturbation of every dW1 entry passes, a transposed dW2 or unmasked gradients do not', () => {
    const p = initParams(4, [784, 10, 10]);
    const batch = mnistSlice(0, 64);
    const ref = gradients64(to64(p), batch).grads;
    const got = gradients(p, batch).grads;
    // one ULP up on every element of dW1 (×(1 + 2⁻²³), rounded to float32): within every threshold
    const W1 = got.layers[0].W.map((v) => Math.fround(v * (1 + 2 ** -23)));
    const g1 = agreement(W1, ref.layers[0].W);
    expect(W1).not.toEqual(got.layers[0].W);
    expect(g1.relL2).toBeLessThanOrEqual(AGREEMENT_THRESHOLDS.relL2);
    expect(g1.maxAbsRel).toBeLessThanOrEqual(AGREEMENT_THRESHOLDS.maxAbsRel);
    expect(g1.cosine).toBeGreaterThanOrEqual(AGREEMENT_THRESHOLDS.cosineMin);
    // dW2 transposed (10×10): far outside
    const W2 = got.layers[1].W, t = new Float32Array(W2.length);
    for (let c = 0; c < 10; c++) for (let j = 0; j < 10; j++) t[j * 10 + c] = W2[c * 10 + j];
    expect(agreement(t, ref.layers[1].W).relL2).toBeGreaterThan(AGREEMENT_THRESHOLDS.relL2);
    // the deep net's gradients without the masks they should have had: far outside
    const q = initParams(5, DEEP, 'he');
    const masks = maskStream(5, [400, 100], [0.4, 0.5]).masks(0, 32);
    const want = flat(gradients64(to64(q), mnistSlice(0, 32), { masks }).grads);
    const unmasked = tensors(gradients(q, mnistSlice(0, 32)).grads);
    expect(agreement(unmasked[0], want[0]).relL2).toBeGreaterThan(0.1);
  });

  it('rejects masks of the wrong shape', () => {
    const p = initParams(1, DEEP, 'he');
    const b = mnistSlice(0, 8);
    expect(() => gradients(p, b, { masks: [new Float32Array(8 * 400)] })).toThrow(/one per hidden layer/);
    expect(() => gradients(p, b, { masks: [new Float32Array(8 * 400), new Float32Array(7 * 100)] })).toThrow(/layer 2/);
  });
});

describe('work counting', () => {
  it('the kernels count the multiply-adds they execute: zeros skipped, as counted independently here', () => {
    const p = initParams(3, [784, 10, 10], 'he');
    const b = mnistSlice(40, 50);
    const ws = createWorkspace([784, 10, 10]);
    gradientsInto(p, b, allocParams([784, 10, 10]), 'relu', undefined, ws);
    // independent count: nonzero pixels and nonzero hidden activations per sample, from the float64 twin
    let nzx = 0, nza = 0;
    const W1 = p.layers[0].W, b1 = p.layers[0].b;
    for (let i = 0; i < b.m; i++) {
      for (let k = 0; k < 784; k++) if (b.x[i * 784 + k] !== 0) nzx++;
      for (let j = 0; j < 10; j++) {
        let z = b1[j];
        for (let k = 0; k < 784; k++) z += W1[j * 784 + k] * b.x[i * 784 + k];
        if (z > 0) nza++;
      }
    }
    // forward W1·X and W2·A1 over nonzeros; backward dW2 (10 rows × nonzero A1), dA1 = W2ᵀ·dZ2 (10 × 10 dense),
    // dW1 (all 10 rows × nonzero pixels: the 10-unit kernel does not skip rows)
    const want = 10 * nzx + 10 * nza + 10 * nza + 10 * 10 * b.m + 10 * nzx;
    expect(ws.madds).toBe(want);
    expect(ws.madds).toBeLessThan(0.5 * 2 * (784 * 10 + 10 * 10) * b.m); // far below dense: ~80% of pixels are 0
  });
});

// src/scratch's float32 gradients vs the independent float64 reference, per tensor.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { PARAM_NAMES, type Batch, type Params } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';
import { gradients } from '../../src/scratch/network.ts';
import { gradients64, to64 } from '../../src/harness/reference64.ts';
import { syntheticBatch } from '../helpers/synthetic.ts';

const TOL = 1e-5; // relative L2, per tensor (issue 3)

function check(p: Params, batch: Batch): void {
  const a = gradients(p, batch);
  const b = gradients64(to64(p), batch);
  expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6 * Math.max(1, b.loss));
  for (const k of PARAM_NAMES) {
    const ag = agreement(a.grads[k], b.grads[k]);
    expect(ag.relL2, `${k} relative L2`).toBeLessThanOrEqual(TOL);
    expect(ag.cosine, `${k} cosine`).toBeGreaterThanOrEqual(1 - 1e-6);
  }
}

const mnist = loadEmbedded();
const slice = (from: number, m: number): Batch => ({
  x: mnist.train.x.subarray(from * 784, (from + m) * 784),
  y: mnist.train.y.subarray(from, from + m),
  m,
});

describe('scratch gradients vs float64 reference', () => {
  it('random params (uniform and He init), synthetic batches', () => {
    for (const seed of [1, 2, 3]) {
      check(initParams(seed, 10, 'uniform'), syntheticBatch(32, seed));
      check(initParams(seed, 10, 'he'), syntheticBatch(17, seed + 10));
    }
  });

  for (const m of [1, 7, 64, 1000]) {
    it(`real MNIST batch, m = ${m}`, () => {
      check(initParams(42, 10), slice(123, m));
    });
  }

  it('real MNIST batch with large weights (saturated softmax)', () => {
    const p = initParams(9, 10);
    for (const k of PARAM_NAMES) p[k].forEach((v, i) => (p[k][i] = v * 8));
    check(p, slice(5000, 64));
  });

  it('the check can fail: a one-ULP-scale perturbation of dW1 passes, a transposed dW2 does not', () => {
    const p = initParams(4, 10);
    const batch = slice(0, 64);
    const ref = gradients64(to64(p), batch).grads;
    const got = gradients(p, batch).grads;
    const h = 10;
    const t = new Float32Array(got.W2.length);
    for (let c = 0; c < 10; c++) for (let j = 0; j < h; j++) t[j * 10 + c] = got.W2[c * h + j];
    expect(agreement(t, ref.W2).relL2).toBeGreaterThan(TOL);
  });
});

// tfjs autodiff gradients vs the independent float64 reference (src/scratch/reference64.ts), on wasm and cpu,
// for the notebook's network and the deep notebook's, with and without dropout masks.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { maskStream } from '../../src/core/dropout.ts';
import { ACTIVATIONS, tensors, type Activation, type Batch, type Params } from '../../src/core/types.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { gradients } from '../../src/tfjs/network.ts';
import { p64, ref64 } from './ref64.ts';
import { AGREEMENT_THRESHOLDS, expectAgree, expectBitEqual, mnistSlice, uniformBatch, Worst } from '../helpers/index.ts';
import { TEST_BACKENDS } from './native.ts';

const NET = [784, 10, 10];
const DEEP = [784, 400, 100, 10];

async function check(p: Params, batch: Batch, act: Activation, label: string, worst: Worst, masks?: Float32Array[]): Promise<void> {
  const got = await gradients(p, batch, { activation: act, masks });
  const ref = ref64(p64(p), batch, { activation: act, masks });
  expect(Math.abs(got.loss - ref.loss), `${label} loss`).toBeLessThanOrEqual(1e-6 * Math.max(1, ref.loss));
  expectAgree(got.grads, ref.grads, label, worst);
}

for (const { name: backend, label, skip } of TEST_BACKENDS) {
  describe.skipIf(skip)(`tfjs gradients vs float64 reference on ${label}`, () => {
    const worst = new Worst();
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
    });
    afterAll(() => console.log(`[tfjs ${backend}] worst gradient agreement vs float64: ${worst.summary()}`));

    for (const act of ACTIVATIONS) {
      it(`${act}: uniform(−0.5, 0.5) params, random [0,1] pixels (m = 1, 32, 100)`, async () => {
        for (const [seed, m] of [[1, 1], [2, 32], [3, 100]] as const) {
          await check(initParams(seed, NET), uniformBatch(m, seed), act, `${act} seed ${seed} m ${m}`, worst);
        }
        // another hidden width
        await check(initParams(4, [784, 17, 10]), uniformBatch(20, 4), act, `${act} h 17`, worst);
      });

      it(`${act}: real MNIST batches m = 1, 7, 64, 1000`, async () => {
        for (const m of [1, 7, 64, 1000]) {
          await check(initParams(42, NET), mnistSlice(123, m), act, `${act} MNIST m ${m}`, worst);
        }
      });
    }

    it('784-400-100-10 (He) on real MNIST batches m = 1, 7, 256, without and with dropout masks', async () => {
      const p = initParams(5, DEEP, 'he');
      for (const m of [1, 7, 256]) {
        const b = mnistSlice(2000, m);
        await check(p, b, 'relu', `deep m ${m}`, worst);
        await check(p, b, 'relu', `deep m ${m} dropout`, worst, maskStream(5, [400, 100], [0.4, 0.5]).masks(0, m));
      }
    });

    it('the comparison can fail: the reference at other params, or a transposed dW2, is rejected', async () => {
      const p = initParams(5, NET);
      const batch = mnistSlice(0, 64);
      const got = (await gradients(p, batch)).grads;
      const q = initParams(5, NET);
      q.layers[0].W[100 * 784 + 400] += 1e-3; // nudge one weight
      q.layers[1].b[3] += 1e-3;
      const ref = ref64(p64(q), batch).grads;
      expect(agreement(got.layers[1].b, ref.layers[1].b).relL2).toBeGreaterThan(AGREEMENT_THRESHOLDS.relL2);
      const t = new Float32Array(100);
      const W2 = got.layers[1].W;
      for (let c = 0; c < 10; c++) for (let j = 0; j < 10; j++) t[j * 10 + c] = W2[c * 10 + j];
      expect(agreement(t, ref64(p64(p), batch).grads.layers[1].W).relL2).toBeGreaterThan(0.1);
    });

    it('returns copies in the notebook layout, leaves inputs untouched, leaks nothing', async () => {
      const p = initParams(6, NET);
      const batch = uniformBatch(8, 6);
      const pCopy = initParams(6, NET);
      const xCopy = batch.x.slice();
      await gradients(p, batch); // warm-up
      const n = tf.memory().numTensors;
      const g1 = await gradients(p, batch, { activation: 'tanh' });
      const g2 = await gradients(p, batch, { activation: 'tanh' });
      expect(tf.memory().numTensors).toBe(n);
      expect(tensors(g1.grads).map((a) => a.length)).toEqual([7840, 10, 100, 10]);
      g1.grads.layers[0].W.fill(0);
      expect(g2.grads.layers[0].W.some((v) => v !== 0)).toBe(true);
      expectBitEqual([p.layers[0].W, batch.x], [pCopy.layers[0].W, xCopy], 'inputs after gradients()');
    });
  });
}

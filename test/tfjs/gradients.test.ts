// tfjs autodiff gradients vs the independent float64 reference (src/harness/reference64.ts), on wasm and cpu.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { ACTIVATIONS, type Activation, type Batch, type Params } from '../../src/core/types.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { gradients } from '../../src/tfjs/network.ts';
import { p64, ref64 } from './ref64.ts';
import { expectAgree, mnistBatch, randomBatch, REL_L2, Worst } from './util.ts';

async function check(p: Params, batch: Batch, act: Activation, label: string, worst: Worst): Promise<void> {
  const got = await gradients(p, batch, { activation: act });
  const ref = ref64(p64(p), batch, act);
  expect(Math.abs(got.loss - ref.loss), `${label} loss`).toBeLessThanOrEqual(1e-6 * Math.max(1, ref.loss));
  expectAgree(got.grads, ref.grads, label, worst);
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tfjs gradients vs float64 reference on ${backend}`, () => {
    const worst = new Worst();
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
    });
    afterAll(() => console.log(`[tfjs ${backend}] worst gradient agreement vs float64: ${worst.summary()}`));

    for (const act of ACTIVATIONS) {
      it(`${act}: uniform(−0.5, 0.5) params, random [0,1] pixels (m = 1, 32, 100)`, async () => {
        for (const [seed, m] of [[1, 1], [2, 32], [3, 100]] as const) {
          await check(initParams(seed, 10), randomBatch(m, seed), act, `${act} seed ${seed} m ${m}`, worst);
        }
        // another hidden width
        await check(initParams(4, 17), randomBatch(20, 4), act, `${act} h 17`, worst);
      });

      it(`${act}: real MNIST batches m = 1, 7, 64, 1000`, async () => {
        for (const m of [1, 7, 64, 1000]) {
          await check(initParams(42, 10), mnistBatch(123, m), act, `${act} MNIST m ${m}`, worst);
        }
      });
    }

    it('the comparison can fail: the reference at other params, or a transposed dW2, is rejected', async () => {
      const p = initParams(5, 10);
      const batch = mnistBatch(0, 64);
      const got = (await gradients(p, batch)).grads;
      const q = initParams(5, 10);
      q.W1[100 * 784 + 400] += 1e-3; // nudge one weight
      q.b2[3] += 1e-3;
      const ref = ref64(p64(q), batch).grads;
      expect(agreement(got.b2, ref.b2).relL2).toBeGreaterThan(REL_L2);
      const t = new Float32Array(100);
      for (let c = 0; c < 10; c++) for (let j = 0; j < 10; j++) t[j * 10 + c] = got.W2[c * 10 + j];
      expect(agreement(t, ref64(p64(p), batch).grads.W2).relL2).toBeGreaterThan(0.1);
    });

    it('returns copies in the seed layout, leaves inputs untouched, leaks nothing', async () => {
      const p = initParams(6, 10);
      const batch = randomBatch(8, 6);
      const pCopy = initParams(6, 10);
      const xCopy = batch.x.slice();
      await gradients(p, batch); // warm-up
      const n = tf.memory().numTensors;
      const g1 = await gradients(p, batch, { activation: 'tanh' });
      const g2 = await gradients(p, batch, { activation: 'tanh' });
      expect(tf.memory().numTensors).toBe(n);
      expect(g1.grads.W1.length).toBe(10 * 784);
      expect(g1.grads.W2.length).toBe(100);
      g1.grads.W1.fill(0);
      expect(g2.grads.W1.some((v) => v !== 0)).toBe(true);
      expect(p.W1).toEqual(pCopy.W1);
      expect(batch.x).toEqual(xCopy);
    });
  });
}

// scratch-simd's trainers: gradient descent follows scratch-gd's trajectory over 200 steps, and Adam fed
// the same gradients matches tfjs's Adam and scratch-adam's update bit for bit.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { cloneParams, hiddenOf, netSizes, tensorNames, tensors, type Params, type Trainer } from '../../src/core/types.ts';
import { TFJS_EPSILON } from '../../src/core/checks.ts';
import { adamUpdate, createAdamState, createScratchAdamTrainer } from '../../src/scratch/adam.ts';
import { createScratchTrainer } from '../../src/scratch/trainer.ts';
import { createSimdAdamTrainer, createSimdTrainer, gradients } from '../../src/simd/index.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import type { BackendName } from '../../src/core/backends.ts';
import { expectBitEqual, mnistData, ulpStats } from '../helpers/index.ts';

const mnist = mnistData();
const trainers: Trainer[] = [];
afterAll(() => trainers.forEach((t) => t.dispose()));

/** Trains a and b from the same init on the same batches (and masks); returns the per-tensor relative L2. */
function trajectories(a: Trainer, b: Trainer, sizes: number[], steps: number, keep: number[] | null): { drift: number[]; moved: number } {
  const init = initParams(12, sizes, 'he');
  trainers.push(a, b);
  a.load(init);
  b.load(init);
  const sa = makeSchedule(mnist.train, 12, { batch: 64, steps }), sb = makeSchedule(mnist.train, 12, { batch: 64, steps });
  const ma = keep && maskStream(12, hiddenOf(sizes), keep), mb = keep && maskStream(12, hiddenOf(sizes), keep);
  for (let s = 0; s < steps; s++) {
    a.step(sa.batch(s), ma ? ma.masks(s, 64) : undefined);
    b.step(sb.batch(s), mb ? mb.masks(s, 64) : undefined);
  }
  const pa = a.read() as Params, pb = b.read() as Params;
  return { drift: tensors(pa).map((t, i) => agreement(t, tensors(pb)[i]).relL2), moved: agreement(pa.layers[0].W, init.layers[0].W).relL2 };
}

describe('scratch-simd-gd vs scratch-gd', () => {
  it('784-10-10, batch 64, lr 0.1: weights within relative L2 1e-4 per tensor after 200 steps', () => {
    const sizes = netSizes([10]);
    const { drift, moved } = trajectories(createSimdTrainer({ lr: 0.1 }), createScratchTrainer({ lr: 0.1 }), sizes, 200, null);
    console.log(`scratch-simd-gd vs scratch-gd, 200 steps: relative L2 ${tensorNames(2).map((n, i) => `${n} ${drift[i].toExponential(2)}`).join(', ')} (W1 moved ${moved.toExponential(2)})`);
    for (const d of drift) expect(d).toBeLessThanOrEqual(1e-4);
    expect(moved).toBeGreaterThan(1e-2);
  });

  it('784-400-100-10 with dropout, batch 64, lr 0.05: within 1e-4 after 100 steps', () => {
    const sizes = netSizes([400, 100]);
    const { drift, moved } = trajectories(createSimdTrainer({ lr: 0.05 }), createScratchTrainer({ lr: 0.05 }), sizes, 100, [0.5, 0.5]);
    console.log(`deep, dropout: relative L2 ${drift.map((d) => d.toExponential(2)).join(', ')} (W1 moved ${moved.toExponential(2)})`);
    for (const d of drift) expect(d).toBeLessThanOrEqual(1e-4);
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('scratch-simd-adam vs scratch-adam: within 1e-4 after 200 steps', () => {
    const { drift } = trajectories(createSimdAdamTrainer({ lr: 0.001 }), createScratchAdamTrainer({ lr: 0.001 }), netSizes([10]), 200, null);
    for (const d of drift) expect(d).toBeLessThanOrEqual(1e-4);
  });
});

describe('scratch-simd-adam vs tfjs Adam, fed the same gradients', () => {
  const backends: BackendName[] = [];
  beforeAll(async () => {
    for (const b of ['cpu', 'wasm'] as const) {
      try {
        await initBackend(b);
        backends.push(b);
      } catch {
        // wasm may be missing; cpu is always there
      }
    }
  });

  it('weights bit-identical to tfjs\'s (every backend present) and to adamUpdate after each of 60 steps', async () => {
    for (const be of backends) {
      await initBackend(be);
      const sizes = netSizes([10]);
      const lr = 0.01, b1 = 0.9, b2 = 0.999;
      const simd = createSimdAdamTrainer({ lr, beta1: b1, beta2: b2 });
      trainers.push(simd);
      const p0 = initParams(11, sizes);
      simd.load(p0);
      const names = tensorNames(2).map((k) => `simd_adam_${be}_${k}_${Date.now()}`);
      const vars = tensors(p0).map((t, i) => tf.variable(tf.tensor(t.slice()), true, names[i]));
      const opt = tf.train.adam(lr, b1, b2);
      expect(tf.backend().epsilon()).toBe(TFJS_EPSILON);
      const ts = cloneParams(p0);
      const state = createAdamState(sizes, b1, b2);
      const sched = makeSchedule(mnist.train, 3, { batch: 64, steps: 60 });
      let worst = 0, identical = 0, total = 0;
      for (let s = 0; s < 60; s++) {
        const batch = sched.batch(s);
        const cur = simd.read() as Params;
        // the gradient every optimiser gets: scratch-simd's at the current weights (what its step computes)
        const g = gradients(cur, batch).grads;
        tf.tidy(() => tensors(cur).forEach((t, i) => vars[i].assign(tf.tensor(t))));
        tf.tidy(() => opt.applyGradients(tensors(g).map((t, i) => ({ name: names[i], tensor: tf.tensor(t) }))));
        tensors(ts).forEach((t, i) => t.set(tensors(cur)[i]));
        adamUpdate(ts, g, state, lr, b1, b2, TFJS_EPSILON);
        simd.step(batch);
        const mine = tensors(simd.read() as Params);
        const theirs = vars.map((v) => v.dataSync() as Float32Array);
        mine.forEach((t, i) => {
          const u = ulpStats(t, theirs[i]);
          worst = Math.max(worst, u.worst);
          identical += u.identical;
          total += u.total;
        });
        expectBitEqual(mine, theirs, `${be}, step ${s + 1}: scratch-simd-adam vs tfjs`);
        expectBitEqual(mine, ts, `${be}, step ${s + 1}: scratch-simd-adam vs adamUpdate`);
      }
      console.log(`scratch-simd-adam vs tfjs-adam (${be}), same gradients, 60 steps: worst ${worst} ULP, ${identical}/${total} element-steps bit-identical (and to adamUpdate)`);
      expect(total).toBe(60 * tensors(p0).reduce((n, t) => n + t.length, 0));
      opt.dispose();
      tf.dispose(vars);
    }
  });

  it('the bit-for-bit check can fail: ε = 1e-8 (the paper’s) instead of tfjs’s 1e-7 is caught', async () => {
    await initBackend('cpu');
    const sizes = netSizes([10]);
    const simd = createSimdAdamTrainer({ lr: 0.01, epsilon: 1e-8 });
    trainers.push(simd);
    const p0 = initParams(11, sizes);
    simd.load(p0);
    const names = tensorNames(2).map((k) => `simd_adam_eps_${k}_${Date.now()}`);
    const vars = tensors(p0).map((t, i) => tf.variable(tf.tensor(t.slice()), true, names[i]));
    const opt = tf.train.adam(0.01);
    const batch = makeSchedule(mnist.train, 3, { batch: 64, steps: 1 }).batch(0);
    const g = gradients(p0, batch).grads;
    tf.tidy(() => opt.applyGradients(tensors(g).map((t, i) => ({ name: names[i], tensor: tf.tensor(t) }))));
    simd.step(batch);
    const theirs = vars.map((v) => v.dataSync() as Float32Array);
    const worst = Math.max(...tensors(simd.read() as Params).map((t, i) => ulpStats(t, theirs[i]).worst));
    expect(worst).toBeGreaterThan(1);
    opt.dispose();
    tf.dispose(vars);
  });
});

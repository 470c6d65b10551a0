// Hand-written Adam vs tfjs's Adam: bit-identical weights when fed the same gradients (cpu and wasm), for
// the default β's and the deep notebook's (β1 0.8), and trajectories from the same init within relative L2 1e-4
// over 200 steps, including the deep network with dropout.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { maskStream } from '../../src/core/dropout.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { cloneParams, tensorNames, tensors, type Params } from '../../src/core/types.ts';
import { limitBatch } from '../../src/data/index.ts';
import { TFJS_EPSILON } from '../../src/core/checks.ts';
import { adamUpdate, createAdamState, createScratchAdamTrainer } from '../../src/scratch/adam.ts';
import { gradients } from '../../src/scratch/index.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { createTfjsTrainer } from '../../src/tfjs/index.ts';
import { expectBitEqual, mnistData, ulpStats } from '../helpers/index.ts';

const mnist = mnistData();

describe('scratch Adam vs tfjs Adam', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('tfjs uses ε = 1e-7 on float32 backends, the default scratch-adam copies', () => {
    expect(tf.backend().epsilon()).toBe(TFJS_EPSILON);
  });

  /** Feeds tfjs's Adam and `update` the same gradient (scratch's, at tfjs's current weights) for `steps` steps;
   *  after each step asserts the weights bit-identical (when `exact`) and re-syncs them, so a difference cannot
   *  compound: each step is judged on its own. Returns the ULP statistics over all element-steps. */
  function feedSameGradients(sizes: readonly number[], b1: number, b2: number, steps: number, update: (p: Params, g: Params) => void, exact: boolean) {
    const p0 = initParams(11, [...sizes], 'he');
    const lr = 0.01;
    const names = tensorNames(sizes.length - 1).map((k) => `adam_bits_${k}_${Date.now()}_${b1}_${unique++}`);
    const vars = tensors(p0).map((a, i) => tf.variable(tf.tensor(a.slice()), true, names[i]));
    const opt = tf.train.adam(lr, b1, b2);
    const mine = cloneParams(p0);
    const sched = makeSchedule(limitBatch(mnist.train, 6400), 3, { batch: 64, steps });
    const all = { worst: 0, identical: 0, total: 0 };
    for (let s = 0; s < steps; s++) {
      const cur = cloneParams(p0);
      tensors(cur).forEach((a, i) => a.set(vars[i].dataSync() as Float32Array));
      const grads = gradients(cur, sched.batch(s)).grads;
      const g = tensors(grads);
      tf.tidy(() => opt.applyGradients(names.map((name, i) => ({ name, tensor: tf.tensor(g[i].slice()) }))));
      update(mine, grads);
      const theirs = vars.map((v) => v.dataSync() as Float32Array);
      tensors(mine).forEach((a, i) => {
        const u = ulpStats(a, theirs[i]);
        all.worst = Math.max(all.worst, u.worst);
        all.identical += u.identical;
        all.total += u.total;
      });
      if (exact) expectBitEqual(tensors(mine), theirs, `${tf.getBackend()}, step ${s + 1}`);
      tensors(mine).forEach((a, i) => a.set(theirs[i]));
    }
    opt.dispose();
    tf.dispose(vars);
    return all;
  }
  let unique = 0;

  for (const [b1, b2, sizes] of [[0.9, 0.999, [784, 10, 10]], [0.8, 0.999, [784, 40, 20, 10]]] as const) {
    it(`fed the same gradients, weights are bit-identical to tfjs's after each of 60 steps, on cpu and wasm (β1 ${b1}, β2 ${b2}, ${sizes.join('-')})`, async () => {
      for (const backend of ['wasm', 'cpu'] as const) {
        await initBackend(backend);
        const state = createAdamState([...sizes], b1, b2);
        const u = feedSameGradients(sizes, b1, b2, 60, (p, g) => adamUpdate(p, g, state, 0.01, b1, b2, TFJS_EPSILON), true);
        console.log(`scratch-adam vs tfjs-adam (${backend}, β1 ${b1}), same gradients, 60 steps: worst ${u.worst} ULP, ${u.identical}/${u.total} element-steps bit-identical`);
        expect(u.total).toBe(60 * tensors(initParams(1, [...sizes])).reduce((n, a) => n + a.length, 0));
      }
    });
  }

  it('the bit-for-bit check can fail: tfjs\'s formula with float64 intermediates (rounded only when stored) is not bit-identical', () => {
    // tfjs's constants and float32 state, but each line computed in float64 and rounded once: the kind of slip
    // (a missing rounding) that a 1-ULP bound lets through
    const f = Math.fround;
    const sizes = [784, 10, 10], b1 = 0.9, b2 = 0.999, lr = 0.01;
    const B1 = f(b1), B2 = f(b2), C1 = f(1 - b1), C2 = f(1 - b2), EPS = f(TFJS_EPSILON), NEG_LR = f(-lr);
    const n = tensors(initParams(1, sizes)).map((a) => a.length);
    const m = n.map((k) => new Float32Array(k)), v = n.map((k) => new Float32Array(k));
    let acc1 = B1, acc2 = B2;
    const u = feedSameGradients(sizes, b1, b2, 10, (p, g) => {
      const gs = tensors(g), d1 = f(1 - acc1), d2 = f(1 - acc2);
      tensors(p).forEach((w, i) => {
        for (let j = 0; j < w.length; j++) {
          const x = gs[i][j];
          m[i][j] = m[i][j] * B1 + x * C1;
          v[i][j] = v[i][j] * B2 + x * x * C2;
          w[j] = (m[i][j] / d1 / (Math.sqrt(v[i][j] / d2) + EPS)) * NEG_LR + w[j];
        }
      });
      acc1 = f(acc1 * B1);
      acc2 = f(acc2 * B2);
    }, false);
    console.log(`Adam with float64 intermediates vs tfjs-adam, same gradients, 10 steps: worst ${u.worst} ULP, ${u.identical}/${u.total} element-steps bit-identical`);
    expect(u.identical).toBeLessThan(u.total);
  });

  it('the update is the published rule with the given β1 (a wrong β1 is far off)', () => {
    // one step from zero moments: m = (1−β1)g, v = (1−β2)g², m̂ = g, v̂ = g², so Δθ = −α·g/(|g| + ε)
    // whatever the β's; the second step tells β1 apart: m2 = β1(1−β1)g1 + (1−β1)g2, m̂2 = m2/(1−β1²)
    const sizes = [784, 10, 10];
    const lr = 0.01, b2 = 0.999;
    for (const b1 of [0.8, 0.9]) {
      const p = initParams(2, sizes), st = createAdamState(sizes, b1, b2);
      const g1 = cloneParams(p), g2 = cloneParams(p);
      tensors(g1).forEach((a) => a.fill(0.5));
      tensors(g2).forEach((a) => a.fill(-0.25));
      const before = p.layers[1].b[0];
      adamUpdate(p, g1, st, lr, b1, b2, TFJS_EPSILON);
      adamUpdate(p, g2, st, lr, b1, b2, TFJS_EPSILON);
      const m2 = (b1 * (1 - b1) * 0.5 + (1 - b1) * -0.25) / (1 - b1 * b1);
      const v2 = (b2 * (1 - b2) * 0.25 + (1 - b2) * 0.0625) / (1 - b2 * b2);
      const want = before - lr * (0.5 / (0.5 + 1e-7)) - lr * (m2 / (Math.sqrt(v2) + 1e-7));
      expect(Math.abs(p.layers[1].b[0] - want)).toBeLessThan(2e-6);
      const other = 1.7 - b1; // 0.9 ↔ 0.8
      const m2o = (other * (1 - other) * 0.5 + (1 - other) * -0.25) / (1 - other * other);
      const wrong = before - lr * (0.5 / (0.5 + 1e-7)) - lr * (m2o / (Math.sqrt(v2) + 1e-7));
      expect(Math.abs(p.layers[1].b[0] - wrong)).toBeGreaterThan(1e-4);
    }
  });

  it('trainers from the same init on the same batches: relative L2 ≤ 1e-4 per tensor after 200 steps', async () => {
    for (const [sizes, keep, b1] of [[[784, 10, 10], null, 0.9], [[784, 64, 32, 10], [0.4, 0.5], 0.8]] as const) {
      const init = initParams(12, sizes, 'he');
      const sched = () => makeSchedule(mnist.train, 12, { batch: 64, steps: 200 });
      const drop = () => (keep ? maskStream(12, sizes.slice(1, -1), keep) : null);
      const a = createScratchAdamTrainer({ lr: 0.001, beta1: b1 });
      const b = createTfjsTrainer({ optimizer: 'adam', lr: 0.001, beta1: b1 });
      a.load(init);
      b.load(init);
      const sa = sched(), sb = sched(), da = drop(), db = drop();
      for (let s = 0; s < 200; s++) {
        a.step(sa.batch(s), da?.masks(s, 64));
        b.step(sb.batch(s), db?.masks(s, 64));
      }
      const pa = tensors(a.read() as Params), pb = tensors(b.read());
      const drift = pa.map((x, i) => agreement(x, pb[i]).relL2);
      const moved = agreement(pa[0], init.layers[0].W).relL2;
      console.log(`scratch-adam vs tfjs-adam, ${sizes.join('-')}${keep ? ' with dropout' : ''}, after 200 steps: relative L2 ${tensorNames(sizes.length - 1).map((k, i) => `${k} ${drift[i].toExponential(2)}`).join(', ')} (W1 moved ${moved.toExponential(2)} from init)`);
      for (const d of drift) expect(d).toBeLessThanOrEqual(1e-4);
      expect(moved).toBeGreaterThan(1e-3); // the weights did move: the agreement is not trivial
      a.dispose();
      b.dispose();
    }
  });
});

// Hand-written Adam vs tfjs's Adam: bit-level agreement when fed the same gradients (cpu backend), for
// the default β's and the deep seed's (β1 0.8), and trajectories from the same init within relative L2 1e-4
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
import { mnistData } from '../helpers/params.ts';

/** Distance in units in the last place between two float32 values (0 = identical bits). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (x: number) => (x < 0 ? -(x & 0x7fffffff) : x); // sign-magnitude bits → a monotone integer line
  return Math.abs(key(i[0]) - key(i[1]));
}

const mnist = mnistData();

describe('scratch Adam vs tfjs Adam', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('tfjs uses ε = 1e-7 on float32 backends, the default scratch-adam copies', () => {
    expect(tf.backend().epsilon()).toBe(TFJS_EPSILON);
  });

  it('ulps() measures what it says', () => {
    expect(ulps(1, 1)).toBe(0);
    expect(ulps(1, 1 + 2 ** -23)).toBe(1);
    expect(ulps(-0, 0)).toBe(0);
    expect(ulps(Math.fround(-1e-30), Math.fround(1e-30))).toBeGreaterThan(1e6);
  });

  for (const [b1, b2, sizes] of [[0.9, 0.999, [784, 10, 10]], [0.8, 0.999, [784, 40, 20, 10]]] as const) {
    it(`fed the same gradients, weights stay within 1 ULP of tfjs per element for 60 steps (β1 ${b1}, β2 ${b2}, ${sizes.join('-')})`, () => {
      const p0 = initParams(11, sizes, 'he');
      const lr = 0.01;
      const stamp = `${Date.now()}_${b1}`;
      const names = tensorNames(sizes.length - 1).map((k) => `adam_ulp_${k}_${stamp}`);
      const vars = tensors(p0).map((a, i) => tf.variable(tf.tensor(a.slice()), true, names[i]));
      const opt = tf.train.adam(lr, b1, b2);
      const mine = cloneParams(p0);
      const state = createAdamState(sizes, b1, b2);
      const sched = makeSchedule(limitBatch(mnist.train, 6400), 3, { batch: 64, steps: 60 });
      let worst = 0;
      let identical = 0, total = 0;
      for (let s = 0; s < 60; s++) {
        // the gradient both optimisers get: scratch's, at tfjs's current weights
        const cur = cloneParams(p0);
        tensors(cur).forEach((a, i) => a.set(vars[i].dataSync() as Float32Array));
        const grads = gradients(cur, sched.batch(s)).grads;
        const g = tensors(grads);
        tf.tidy(() => opt.applyGradients(names.map((name, i) => ({ name, tensor: tf.tensor(g[i].slice()) }))));
        adamUpdate(mine, grads, state, lr, b1, b2, TFJS_EPSILON);
        tensors(mine).forEach((a, i) => {
          const theirs = vars[i].dataSync();
          for (let j = 0; j < theirs.length; j++) {
            const u = ulps(a[j], theirs[j]);
            if (u > worst) worst = u;
            if (u === 0) identical++;
            total++;
          }
          a.set(theirs); // re-sync so a difference cannot compound: each step is judged on its own
        });
      }
      console.log(`scratch-adam vs tfjs-adam (β1 ${b1}), same gradients, 60 steps: worst ${worst} ULP, ${identical}/${total} element-steps bit-identical`);
      expect(worst).toBeLessThanOrEqual(1);
      opt.dispose();
      tf.dispose(vars);
    });
  }

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

// Hand-written Adam vs tfjs's Adam: bit-level agreement when fed the same gradients (cpu backend), and
// trajectories from the same init within relative L2 1e-4 over 200 steps.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { cloneParams, PARAM_NAMES, type Params } from '../../src/core/types.ts';
import { loadEmbedded, limitBatch } from '../../src/data/index.ts';
import { adamUpdate, createAdamState, createScratchAdamTrainer, TFJS_EPSILON } from '../../src/scratch/adam.ts';
import { gradients } from '../../src/scratch/network.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { createTfjsTrainer } from '../../src/tfjs/network.ts';

/** Distance in units in the last place between two float32 values (0 = identical bits). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (x: number) => (x < 0 ? -(x & 0x7fffffff) : x); // sign-magnitude bits → a monotone integer line
  return Math.abs(key(i[0]) - key(i[1]));
}

const mnist = loadEmbedded();

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

  it('fed the same gradients, weights stay within 1 ULP of tfjs per element for 60 steps', () => {
    const p0 = initParams(11, 10);
    const lr = 0.01, b1 = 0.9, b2 = 0.999;
    const names = PARAM_NAMES.map((k) => `adam_ulp_${k}_${Date.now()}`);
    const vars = PARAM_NAMES.map((k, i) => tf.variable(tf.tensor(p0[k].slice()), true, names[i]));
    const opt = tf.train.adam(lr, b1, b2);
    const mine = cloneParams(p0);
    const state = createAdamState(10, b1, b2);
    const sched = makeSchedule(limitBatch(mnist.train, 6400), 3, { batch: 64, steps: 60 });
    let worst = 0;
    let identical = 0, total = 0;
    for (let s = 0; s < 60; s++) {
      // the gradient both optimisers get: scratch's, at tfjs's current weights
      const cur = Object.fromEntries(PARAM_NAMES.map((k, i) => [k, vars[i].dataSync().slice() as Float32Array])) as unknown as Params;
      const g = gradients(cur, sched.batch(s)).grads;
      tf.tidy(() => opt.applyGradients(PARAM_NAMES.map((k, i) => ({ name: names[i], tensor: tf.tensor(g[k].slice()) }))));
      adamUpdate(mine, g, state, lr, b1, b2, TFJS_EPSILON);
      for (const [i, k] of PARAM_NAMES.entries()) {
        const theirs = vars[i].dataSync();
        for (let j = 0; j < theirs.length; j++) {
          const u = ulps(mine[k][j], theirs[j]);
          if (u > worst) worst = u;
          if (u === 0) identical++;
          total++;
        }
        mine[k].set(theirs); // re-sync so a difference cannot compound: each step is judged on its own
      }
    }
    console.log(`scratch-adam vs tfjs-adam, same gradients, 60 steps: worst ${worst} ULP, ${identical}/${total} element-steps bit-identical`);
    expect(worst).toBeLessThanOrEqual(1);
    opt.dispose();
    tf.dispose(vars);
  });

  it('trainers from the same init on the same batches: relative L2 ≤ 1e-4 per tensor after 200 steps', async () => {
    const init = initParams(12, 10);
    const sched = () => makeSchedule(mnist.train, 12, { batch: 64, steps: 200 });
    const a = createScratchAdamTrainer({ lr: 0.001 });
    const b = createTfjsTrainer({ optimizer: 'adam', lr: 0.001 });
    a.load(init);
    b.load(init);
    const sa = sched(), sb = sched();
    for (let s = 0; s < 200; s++) {
      a.step(sa.batch(s));
      b.step(sb.batch(s));
    }
    const pa = a.read() as Params, pb = b.read();
    const drift = PARAM_NAMES.map((k) => agreement(pa[k], pb[k]).relL2);
    const moved = agreement(pa.W1, init.W1).relL2;
    console.log(`scratch-adam vs tfjs-adam after 200 steps: relative L2 ${PARAM_NAMES.map((k, i) => `${k} ${drift[i].toExponential(2)}`).join(', ')} (W1 moved ${moved.toExponential(2)} from init)`);
    for (const d of drift) expect(d).toBeLessThanOrEqual(1e-4);
    expect(moved).toBeGreaterThan(1e-3); // the weights did move: the agreement is not trivial
    a.dispose();
    b.dispose();
  });
});

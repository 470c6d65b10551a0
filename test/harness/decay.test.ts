// Learning-rate decay as the harness applies it: epoch e (from 0) trains at α0 / (1 + decay·e), computed
// here independently, step by step, with the scratch network's own gradients and update.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { cloneParams, type Params } from '../../src/core/types.ts';
import { limitBatch } from '../../src/data/index.ts';
import { PRESETS } from '../../src/harness/plan.ts';
import { resolvePlan } from '../../src/harness/run.ts';
import { makeScratchTrainer } from '../../src/harness/scratch-trainers.ts';
import { trainOne } from '../../src/harness/train.ts';
import { gradients } from '../../src/scratch/index.ts';
import { sgdUpdate } from '../../src/scratch/network.ts';
import { expectBitEqual, mnistData, sameBits } from '../helpers/index.ts';

describe('learning-rate decay', () => {
  it('the harness trains epoch e at α0/(1 + decay·e): the same weights, bit for bit, as the formula applied by hand', async () => {
    const mnist = mnistData();
    const data = { ...mnist, train: limitBatch(mnist.train, 320), test: limitBatch(mnist.test, 100) };
    const plan = resolvePlan({ ...PRESETS.smoke, trainers: ['scratch-gd'], batch: 32, epochs: 3, lr: 0.2, lrDecay: 0.5, limit: undefined, testLimit: undefined }, data);
    expect(plan.stepsPerEpoch).toBe(10);
    const init = initParams(1, plan.sizes);
    const t = makeScratchTrainer('scratch-gd', plan);
    const run = await trainOne(t, 'calling thread', 'scratch-gd', plan, data, 1, init, data.train, {}, { snapshotAt: new Set([plan.steps]), label: 'decay' });
    // by hand: 30 steps, α = 0.2, 0.2/1.5, 0.2/2 for epochs 0, 1, 2
    const p: Params = cloneParams(init);
    const sched = makeSchedule(data.train, 1, { batch: 32, steps: 30 });
    for (let s = 0; s < 30; s++) {
      const e = Math.floor(s / 10);
      const lr = [0.2, 0.2 / 1.5, 0.2 / 2][e];
      sgdUpdate(p, gradients(p, sched.batch(s)).grads, lr);
    }
    expectBitEqual(run.snapshots.get(30)!, p, 'after 3 epochs with decay');
    // and without the decay the weights differ (the check can fail)
    const q: Params = cloneParams(init);
    const s2 = makeSchedule(data.train, 1, { batch: 32, steps: 30 });
    for (let s = 0; s < 30; s++) sgdUpdate(q, gradients(q, s2.batch(s)).grads, 0.2);
    expect(sameBits(q.layers[0].W, run.snapshots.get(30)!.layers[0].W)).toBe(false);
  });
});

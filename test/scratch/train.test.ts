// Learning, determinism and learning-rate decay of the scratch trainer.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { accuracy } from '../../src/core/metrics.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { cloneParams, type Batch, type Params } from '../../src/core/types.ts';
import { limitBatch } from '../../src/data/index.ts';
import { gradients } from '../../src/scratch/index.ts';
import { sgdUpdate } from '../../src/scratch/network.ts';
import { createScratchTrainer } from '../../src/scratch/trainer.ts';
import { expectBitEqual, mnistData, sameBits } from '../helpers/index.ts';

const mnist = mnistData();
const NET = [784, 10, 10];

function train(seed: number, train: Batch, steps: number, batch: number | 'full', lr = 0.1) {
  const t = createScratchTrainer({ lr });
  t.load(initParams(seed, NET));
  const sched = makeSchedule(train, seed, { batch, steps });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(t.step(sched.batch(s)) as number);
  return { losses, params: t.read() as Params, trainer: t };
}

describe('scratch trainer', () => {
  it('full-batch GD on 5,000 images: loss falls and accuracy beats chance by far', () => {
    const sub = limitBatch(mnist.train, 5000);
    const { losses, trainer } = train(1, sub, 60, 'full', 0.1);
    expect(losses[59]).toBeLessThan(0.75 * losses[0]);
    for (let i = 10; i < 60; i += 10) expect(losses[i]).toBeLessThan(losses[i - 10]);
    const acc = accuracy(trainer.predict(mnist.test.x, mnist.test.m) as Uint8Array, mnist.test.y);
    expect(acc).toBeGreaterThan(0.4); // 10% is chance; the notebook is ~50% by iteration 60
  });

  it('mini-batch SGD, one epoch over 60,000 images reaches > 85% test accuracy', () => {
    const { trainer } = train(2, mnist.train, 937, 64, 0.1);
    const acc = accuracy(trainer.predict(mnist.test.x, mnist.test.m) as Uint8Array, mnist.test.y);
    expect(acc).toBeGreaterThan(0.85);
  });

  it('same seed → bit-identical weights; different seeds differ', () => {
    const sub = limitBatch(mnist.train, 3000);
    const a = train(5, sub, 40, 32).params;
    expectBitEqual(train(5, sub, 40, 32).params, a, 'same seed');
    const c = train(6, sub, 40, 32).params;
    expect(sameBits(a.layers[0].W, c.layers[0].W)).toBe(false);
  });

  it('a step is W := W − α·dW with the gradients of gradients(), and setLearningRate changes α', () => {
    const sub = limitBatch(mnist.train, 640);
    const sched = makeSchedule(sub, 3, { batch: 64, steps: 6 });
    const t = createScratchTrainer({ lr: 0.5 });
    const init = initParams(3, [784, 20, 10], 'he');
    t.load(init);
    const p = cloneParams(init);
    const rates = [0.5, 0.5, 0.25, 0.25, 0.125, 0.125]; // e.g. a decay schedule, set before each step
    for (let s = 0; s < 6; s++) {
      const b = sched.batch(s);
      t.setLearningRate(rates[s]);
      const g = gradients(p, b);
      sgdUpdate(p, g.grads, rates[s]);
      expect(t.step(b)).toBe(g.loss);
    }
    expectBitEqual(t.read() as Params, p, 'after 6 steps');
  });

  it('rejects a non-positive or non-finite learning rate', () => {
    for (const lr of [0, -0.1, NaN, Infinity]) expect(() => createScratchTrainer({ lr })).toThrow(/learning rate/);
    const t = createScratchTrainer({ lr: 0.1 });
    expect(() => t.setLearningRate(0)).toThrow(/learning rate/);
  });
});

// Learning and determinism of the scratch trainer.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { accuracy } from '../../src/core/metrics.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { PARAM_NAMES, type Batch } from '../../src/core/types.ts';
import { loadEmbedded, limitBatch } from '../../src/data/index.ts';
import { createScratchTrainer } from '../../src/scratch/network.ts';

const mnist = loadEmbedded();

function train(seed: number, train: Batch, steps: number, batch: number | 'full', lr = 0.1) {
  const t = createScratchTrainer({ lr });
  t.load(initParams(seed, 10));
  const sched = makeSchedule(train, seed, { batch, steps });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(t.step(sched.batch(s)) as number);
  return { losses, params: t.read() as ReturnType<typeof initParams>, trainer: t };
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
    const b = train(5, sub, 40, 32).params;
    const c = train(6, sub, 40, 32).params;
    for (const k of PARAM_NAMES) {
      expect(Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer))).toBe(true);
      expect(Buffer.from(a[k].buffer).equals(Buffer.from(c[k].buffer))).toBe(false);
    }
  });

  it('rejects a non-positive or non-finite learning rate', () => {
    for (const lr of [0, -0.1, NaN, Infinity]) expect(() => createScratchTrainer({ lr })).toThrow(/learning rate/);
  });
});

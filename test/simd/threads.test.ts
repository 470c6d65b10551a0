// scratch-simd is deterministic: the same seed gives bit-identical weights run to run and at 0, 1 or 2
// worker threads, with and without dropout, for batches of one block and of several.
import { afterAll, describe, expect, it } from 'vitest';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { hiddenOf, netSizes, tensors, type Batch, type Params, type Trainer } from '../../src/core/types.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { sharedBatch } from '../../src/core/pool.ts';
import { SIMD_BLOCK, createSimdAdamTrainer, createSimdTrainer, gradients } from '../../src/simd/index.ts';
import { createSimdPool } from '../../src/simd/threads.ts';
import { expectBitEqual, mnistData, simdFlavours, useSimdFlavour } from '../helpers/index.ts';

const mnist = mnistData();
const trainers: Trainer[] = [];
afterAll(() => trainers.forEach((t) => t.dispose()));

/** Trains `steps` steps from seed `seed` and returns the weights and losses. */
function train(make: () => Trainer, sizes: number[], m: number, steps: number, keep: number[] | null, shared = false): { params: Params; losses: number[] } {
  const t = make();
  trainers.push(t);
  t.load(initParams(11, sizes, 'he'));
  const sched = makeSchedule(mnist.train, 11, { batch: m, steps });
  const masks = keep ? maskStream(11, hiddenOf(sizes), keep) : null;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const b = sched.batch(s);
    const batch: Batch = shared ? sharedBatch(b) : b;
    losses.push(t.step(batch, masks?.masks(s, m)) as number);
  }
  const params = t.read() as Params;
  t.dispose();
  return { params, losses };
}


describe.each(simdFlavours())('the deep network at batch 256 (two blocks), %s build', (flavour) => {
  useSimdFlavour(flavour);
  for (const keep of [null, [0.4, 0.5]]) {
    it(`GD and Adam${keep ? ' with dropout' : ''}: 0 / 1 / 2 worker threads bit-identical`, () => {
      const sizes = netSizes([400, 100]);
      for (const make of [(threads: number) => createSimdTrainer({ lr: 0.05, threads }), (threads: number) => createSimdAdamTrainer({ lr: 0.005, threads })]) {
        const ref = train(() => make(0), sizes, 256, 3, keep);
        for (const threads of [1, 2]) {
          const r = train(() => make(threads), sizes, 256, 3, keep, threads === 2);
          expectBitEqual(r.params, ref.params, `${flavour}, ${threads} threads`);
          expect(r.losses).toEqual(ref.losses);
        }
        expect(ref.losses[2]).not.toBe(ref.losses[0]);
      }
    });
  }
});

describe('scratch-simd: bit-identical for any thread count', () => {
  const cases = [
    { sizes: netSizes([10]), m: 64, keep: null, label: '784-10-10, batch 64 (one block)' },
    { sizes: netSizes([10]), m: 3 * SIMD_BLOCK + 17, keep: null, label: `784-10-10, batch ${3 * SIMD_BLOCK + 17} (4 blocks)` },
    { sizes: netSizes([40, 12]), m: 2 * SIMD_BLOCK + 5, keep: [0.5, 0.8], label: `784-40-12-10 with dropout, batch ${2 * SIMD_BLOCK + 5} (3 blocks)` },
    { sizes: netSizes([40, 12]), m: 100, keep: [0.5, 0.8], label: '784-40-12-10 with dropout, batch 100' },
  ];
  for (const c of cases) {
    it(`GD: ${c.label}`, () => {
      const ref = train(() => createSimdTrainer({ lr: 0.1 }), c.sizes, c.m, 4, c.keep);
      const again = train(() => createSimdTrainer({ lr: 0.1 }), c.sizes, c.m, 4, c.keep);
      expectBitEqual(again.params, ref.params, 'run to run');
      expect(again.losses).toEqual(ref.losses);
      for (const threads of [1, 2]) {
        const r = train(() => createSimdTrainer({ lr: 0.1, threads }), c.sizes, c.m, 4, c.keep, threads === 2);
        expectBitEqual(r.params, ref.params, `${threads} threads`);
        expect(r.losses).toEqual(ref.losses);
      }
      // and the steps did something
      expect(ref.losses[3]).not.toBe(ref.losses[0]);
    });
  }

  it(`784-400-100-10 with dropout, batch ${3000 - SIMD_BLOCK} (${Math.ceil((3000 - SIMD_BLOCK) / SIMD_BLOCK)} blocks): waves of one block per workspace (wide layers), the last one short`, () => {
    const sizes = netSizes([400, 100]);
    const pool = createSimdPool(2, sizes, false);
    expect(pool.engine.layout.wide).toBe(true);
    pool.dispose();
    const ref = train(() => createSimdTrainer({ lr: 0.05 }), sizes, 3000 - SIMD_BLOCK, 2, [0.4, 0.5]);
    for (const threads of [1, 2]) {
      const r = train(() => createSimdTrainer({ lr: 0.05, threads }), sizes, 3000 - SIMD_BLOCK, 2, [0.4, 0.5], true);
      expectBitEqual(r.params, ref.params, `${threads} threads, many waves`);
      expect(r.losses).toEqual(ref.losses);
    }
  });

  it('Adam: 784-40-12-10 with dropout, batch 600 (3 blocks), 0 / 1 / 2 threads', () => {
    const sizes = netSizes([40, 12]);
    const ref = train(() => createSimdAdamTrainer({ lr: 0.01 }), sizes, 600, 4, [0.5, 0.8]);
    for (const threads of [1, 2]) {
      const r = train(() => createSimdAdamTrainer({ lr: 0.01, threads }), sizes, 600, 4, [0.5, 0.8]);
      expectBitEqual(r.params, ref.params, `Adam, ${threads} threads`);
      expect(r.losses).toEqual(ref.losses);
    }
  });

  it(`full batch (60,000 samples, ${Math.ceil(60000 / SIMD_BLOCK)} blocks) on 2 threads equals the calling thread, and gradients() equals a trainer step`, () => {
    const sizes = netSizes([10]);
    const p0 = initParams(3, sizes);
    const a = createSimdTrainer({ lr: 0.1 });
    const b = createSimdTrainer({ lr: 0.1, threads: 2 });
    trainers.push(a, b);
    a.load(p0);
    b.load(p0);
    const full = sharedBatch(mnist.train);
    const la = a.step(mnist.train) as number, lb = b.step(full) as number;
    expect(lb).toBe(la);
    expectBitEqual(b.read() as Params, a.read() as Params, 'full batch, 2 threads');
    // the trainer's update is W − lr·g with g exactly the gradient gradients() reports
    const g = gradients(p0, mnist.train);
    expect(g.loss).toBe(la);
    const expected = initParams(3, sizes);
    tensors(expected).forEach((w, i) => {
      const d = tensors(g.grads)[i];
      for (let j = 0; j < w.length; j++) w[j] = Math.fround(w[j] - 0.1 * d[j]);
    });
    expectBitEqual(a.read() as Params, expected, 'step = W − lr·gradients()');
  });

  it('predictions on worker threads equal the calling thread’s', () => {
    const sizes = netSizes([40, 12]);
    const p = initParams(5, sizes, 'he');
    const a = createSimdTrainer({ lr: 0.1, activation: 'tanh' });
    const b = createSimdTrainer({ lr: 0.1, activation: 'tanh', threads: 2 });
    trainers.push(a, b);
    a.load(p);
    b.load(p);
    const x = mnist.test.x.subarray(0, 1500 * 784);
    expect(b.predict(x, 1500)).toEqual(a.predict(x, 1500));
  });
});

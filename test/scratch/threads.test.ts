// The scratch network on worker threads: bit for bit the same as on the calling thread, whatever the
// count, with and without dropout, for the notebook's network and the deep notebook's.
import { afterAll, describe, expect, it } from 'vitest';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { allocParams, copyParams, hiddenOf, sizesOf, type Activation, type Batch, type Params, type Trainer } from '../../src/core/types.ts';
import { createScratchAdamTrainer } from '../../src/scratch/adam.ts';
import { SCRATCH_BLOCK, createWorkspace, gradientsInto } from '../../src/scratch/network.ts';
import { gradients64, to64 } from '../../src/scratch/reference64.ts';
import { sharedBatch } from '../../src/core/pool.ts';
import { createThreadPool, type ThreadPool } from '../../src/scratch/threads.ts';
import { createScratchTrainer } from '../../src/scratch/trainer.ts';
import { expectAgree, expectBitEqual, mnistData, mnistSlice } from '../helpers/index.ts';

const mnist = mnistData();
const NET = [784, 10, 10];
const DEEP = [784, 400, 100, 10];

const pools: ThreadPool[] = [];
const trainers: Trainer[] = [];
afterAll(() => {
  for (const p of pools) p.dispose();
  for (const t of trainers) t.dispose();
});

function pool(threads: number, sizes: number[], slotsPerWave?: number): ThreadPool {
  const p = createThreadPool(threads, sizes, { slotsPerWave });
  pools.push(p);
  return p;
}

/** Gradients and loss of `p` on `batch`: on the calling thread, or on a pool. */
function grads(p: Params, batch: Batch, act: Activation, masks: Float32Array[] | undefined, on: ThreadPool | null): { loss: number; grads: Params } {
  const sizes = sizesOf(p);
  const g = allocParams(sizes);
  if (!on) return { loss: gradientsInto(p, batch, g, act, masks, createWorkspace(sizes)), grads: g };
  copyParams(p, on.params);
  const loss = on.run(batch, act, masks, null);
  copyParams(on.grads, g);
  return { loss, grads: g };
}

describe('scratch on worker threads', () => {
  // 3 blocks, the last one partial; one block; one sample
  const ms = [2 * SCRATCH_BLOCK + 37, SCRATCH_BLOCK - 28, 1];

  it('gradients: 1, 2 and 3 threads give the same bits as the calling thread (784-10-10)', () => {
    const p = initParams(7, NET);
    const ps = [pool(1, NET), pool(2, NET), pool(3, NET)];
    for (const m of ms) {
      for (const b of [mnistSlice(300, m), sharedBatch(mnistSlice(300, m))]) {
        const ref = grads(p, b, 'relu', undefined, null);
        for (const on of ps) {
          const got = grads(p, b, 'relu', undefined, on);
          expect(got.loss, `loss, m ${m}, ${on.threads} threads`).toBe(ref.loss);
          expectBitEqual(got.grads, ref.grads, `m ${m}, ${on.threads} threads`);
        }
      }
    }
  });

  it('gradients with dropout masks, deep network: 1 and 2 threads = the calling thread, and = float64', () => {
    const p = initParams(3, DEEP, 'he');
    const m = 3 * SCRATCH_BLOCK + 5;
    const b = sharedBatch(mnistSlice(1000, m));
    const masks = maskStream(3, hiddenOf(DEEP), [0.4, 0.5]).masks(0, m);
    const ref = grads(p, b, 'relu', masks, null);
    for (const on of [pool(1, DEEP), pool(2, DEEP)]) {
      const got = grads(p, b, 'relu', masks, on);
      expect(got.loss).toBe(ref.loss);
      expectBitEqual(got.grads, ref.grads, `${on.threads} threads, dropout`);
    }
    expectAgree(ref.grads, gradients64(to64(p), b, { masks }).grads, 'deep with masks vs float64');
  });

  it('gradients in waves (fewer partial-sum slots than blocks) give the same bits', () => {
    const p = initParams(8, [784, 16, 10], 'he');
    const b = mnistSlice(0, 7 * SCRATCH_BLOCK + 11);
    const ref = grads(p, b, 'tanh', undefined, null);
    for (const on of [pool(2, [784, 16, 10], 2), pool(3, [784, 16, 10], 3), pool(2, [784, 16, 10], 5)]) {
      const got = grads(p, b, 'tanh', undefined, on);
      expect(got.loss).toBe(ref.loss);
      expectBitEqual(got.grads, ref.grads, `${on.threads} threads in waves`);
    }
  });

  it('trainers: 30 GD and Adam steps with dropout at threads 0, 1 and 2 are bit-identical', () => {
    const init = initParams(11, [784, 64, 32, 10], 'he');
    const m = SCRATCH_BLOCK + 300;
    const batches = [0, 1, 2].map((i) => sharedBatch(mnistSlice(i * m, m)));
    const run = (make: (threads: number) => Trainer, threads: number) => {
      const t = make(threads);
      trainers.push(t);
      t.load(init);
      const drop = maskStream(11, [64, 32], [0.6, 0.8]);
      const losses: number[] = [];
      for (let s = 0; s < 30; s++) losses.push(t.step(batches[s % 3], drop.masks(s, m)) as number);
      return { losses, params: t.read() as Params, pred: t.predict(mnist.test.x, 500) as Uint8Array };
    };
    for (const make of [(threads: number) => createScratchTrainer({ lr: 0.05, threads }), (threads: number) => createScratchAdamTrainer({ lr: 0.002, threads })]) {
      const [t0, t1, t2] = [run(make, 0), run(make, 1), run(make, 2)];
      for (const t of [t1, t2]) {
        expect(t.losses).toEqual(t0.losses);
        expectBitEqual(t.params, t0.params, 'weights after 30 steps');
        expect(t.pred).toEqual(t0.pred); // class predictions (bytes), not floats
      }
      expect(t0.losses[29]).toBeLessThan(t0.losses[0]); // and it learned something
    }
  });

  it('batches outside shared memory are staged, with the same result', () => {
    const t = createScratchTrainer({ lr: 0.1, threads: 2 });
    const u = createScratchTrainer({ lr: 0.1 });
    trainers.push(t, u);
    const init = initParams(2, NET);
    t.load(init);
    u.load(init);
    for (const b of [mnistSlice(0, 2 * SCRATCH_BLOCK), mnistSlice(5000, 64)]) expect(t.step(b)).toBe(u.step(b));
    expectBitEqual(t.read() as Params, u.read() as Params, 'staged');
  });

  it('rejects a bad thread count', () => {
    expect(() => createScratchTrainer({ lr: 0.1, threads: -1 })).toThrow(/threads/);
    expect(() => createScratchTrainer({ lr: 0.1, threads: 1.5 })).toThrow(/threads/);
  });
});

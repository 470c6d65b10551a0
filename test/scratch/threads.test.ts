// The scratch network on worker threads: bit for bit the same as on the calling thread, whatever the count.
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { allocParams, copyParams, PARAM_NAMES, type Activation, type Batch, type Params, type Trainer } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';
import { gradients64, to64 } from '../../src/harness/reference64.ts';
import { BLOCK, createScratchTrainer, createWorkspace, gradientsInto } from '../../src/scratch/network.ts';
import { createThreadPool, sharedBatch, type ThreadPool } from '../../src/scratch/threads.ts';

const mnist = loadEmbedded();
const slice = (from: number, m: number): Batch => ({
  x: mnist.train.x.subarray(from * 784, (from + m) * 784),
  y: mnist.train.y.subarray(from, from + m),
  m,
});

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function expectIdentical(a: Params, b: Params, label: string): void {
  for (const k of PARAM_NAMES) expect(bytes(a[k]).equals(bytes(b[k])), `${label}: ${k} differs`).toBe(true);
}

const pools: ThreadPool[] = [];
const trainers: Trainer[] = [];
afterAll(() => {
  for (const p of pools) p.dispose();
  for (const t of trainers) t.dispose();
});

function pool(threads: number, hidden: number): ThreadPool {
  const p = createThreadPool(threads, hidden);
  pools.push(p);
  return p;
}

/** Gradients and loss of `p` on `batch`: on the calling thread, or on a pool. */
function grads(p: Params, batch: Batch, act: Activation, on: ThreadPool | null): { loss: number; grads: Params } {
  const h = p.b1.length;
  if (!on) {
    const g = allocParams(h);
    const loss = gradientsInto(p, batch, g, act, createWorkspace(h, 0));
    return { loss, grads: g };
  }
  copyParams(p, on.params);
  const loss = on.run(batch, act, null);
  const g = allocParams(h);
  copyParams(on.grads, g);
  return { loss, grads: g };
}

describe('scratch on worker threads', () => {
  // 3 blocks, the last one partial; one block; one sample
  const sizes = [2 * BLOCK + 137, 200, 1];

  it('gradients: 1, 2 and 3 threads give the same bits as the calling thread (relu, hidden 10)', () => {
    const p = initParams(7, 10);
    const pools = [pool(1, 10), pool(2, 10), pool(3, 10)];
    for (const m of sizes) {
      for (const b of [slice(300, m), sharedBatch(slice(300, m))]) {
        const ref = grads(p, b, 'relu', null);
        for (const on of pools) {
          const got = grads(p, b, 'relu', on);
          expect(got.loss, `loss, m ${m}, ${on.threads} threads`).toBe(ref.loss);
          expectIdentical(got.grads, ref.grads, `m ${m}, ${on.threads} threads`);
        }
      }
    }
  });

  it('gradients: other activations and widths (the general path) too, and still match float64', () => {
    const b = sharedBatch(slice(1000, BLOCK + 50));
    for (const [act, h] of [['tanh', 1], ['sigmoid', 128], ['relu', 128]] as const) {
      const p = initParams(3, h, 'he');
      const ref = grads(p, b, act, null);
      const got = grads(p, b, act, pool(2, h));
      expect(got.loss).toBe(ref.loss);
      expectIdentical(got.grads, ref.grads, `${act}, hidden ${h}`);
      const f64 = gradients64(to64(p), b, act).grads;
      for (const k of PARAM_NAMES) expect(agreement(got.grads[k], f64[k]).relL2, `${act}/${h} ${k}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('trainer: 40 GD steps with threads 2 equal threads 1 and the calling thread bit for bit', () => {
    const init = initParams(11, 10);
    const m = BLOCK + 300;
    const batches = [0, 1, 2, 3].map((i) => sharedBatch(slice(i * m, m)));
    const run = (threads: number) => {
      const t = createScratchTrainer({ lr: 0.1, threads });
      trainers.push(t);
      t.load(init);
      const losses: number[] = [];
      for (let s = 0; s < 40; s++) losses.push(t.step(batches[s % 4]) as number);
      return { losses, params: t.read() as Params, pred: t.predict(mnist.test.x, 500) as Uint8Array };
    };
    const [t0, t1, t2] = [run(0), run(1), run(2)];
    for (const t of [t1, t2]) {
      expect(t.losses).toEqual(t0.losses);
      expectIdentical(t.params, t0.params, 'weights after 40 steps');
      expect(Buffer.from(t.pred).equals(Buffer.from(t0.pred))).toBe(true);
    }
    expect(t0.losses[39]).toBeLessThan(t0.losses[0]); // and it learned something
  });

  it('batches outside shared memory are staged, with the same result', () => {
    const t = createScratchTrainer({ lr: 0.1, threads: 2 });
    const u = createScratchTrainer({ lr: 0.1 });
    trainers.push(t, u);
    const init = initParams(2, 10);
    t.load(init);
    u.load(init);
    for (const b of [slice(0, 2 * BLOCK), slice(5000, 64)]) expect(t.step(b)).toBe(u.step(b));
    expectIdentical(t.read() as Params, u.read() as Params, 'staged');
  });

  it('rejects a bad thread count', () => {
    expect(() => createScratchTrainer({ lr: 0.1, threads: -1 })).toThrow(/threads/);
    expect(() => createScratchTrainer({ lr: 0.1, threads: 1.5 })).toThrow(/threads/);
  });
});

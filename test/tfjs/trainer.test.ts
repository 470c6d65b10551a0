// The tfjs trainers: one SGD step and five Adam steps against the published update rules in float64,
// memory (no tensor leaks), determinism, load/read/predict, and input validation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { maskStream } from '../../src/core/dropout.ts';
import { tensors, type Params } from '../../src/core/types.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import type { BackendName } from '../../src/core/backends.ts';
import { createTfjsTrainer, gradients, type TfjsTrainerOptions } from '../../src/tfjs/network.ts';
import { adamStep, logits64, p64, ref64, type AdamHyper } from './ref64.ts';
import { expectBitEqual, flat, mnistSlice, uniformBatch } from '../helpers/index.ts';
import { TEST_BACKENDS } from './native.ts';

const NET = [784, 10, 10];
const delta = (after: Float32Array, before: Float32Array) => Float64Array.from(after, (v, i) => v - before[i]);

// Adam: the update Δθ read back from tfjs vs the published rule in float64. Measured ≈1.6e-5, nearly all of
// it systematic: tfjs 4.22 scales g² by (1−β2) formed in float64 then rounded (fround(0.001) = 1.00000005e-3)
// but divides by 1−β2^t taken from a float32 accumulator (1 − fround(0.999) = 9.9998713e-4), so at t = 1
// v̂ = 1.0000129·g² and every step is 6.4e-6 too short. Wrong variants miss by ≥ 1.7e-3.
const ADAM_TOL = 5e-5;
const ADAM_MUTANT_MIN = 1e-3;

for (const { name: backend, label, skip } of TEST_BACKENDS) {
  describe.skipIf(skip)(`tfjs trainers on ${label}`, () => {
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
    });

    for (const [sizes, keep] of [[NET, null], [[784, 40, 20, 10], [0.4, 0.5]]] as const) {
      it(`SGD: one step is θ − lr·∇L (float64 reference) and returns the pre-update loss (${sizes.join('-')}${keep ? ', dropout' : ''})`, () => {
        const lr = 0.1;
        const t = createTfjsTrainer({ optimizer: 'sgd', lr });
        expect(t.name).toBe('tfjs-sgd');
        expect([t.beta1, t.beta2, t.epsilon]).toEqual([null, null, null]);
        const p = initParams(11, sizes, 'he');
        const batch = mnistSlice(2000, 64);
        const masks = keep ? maskStream(11, sizes.slice(1, -1), keep).masks(0, 64) : undefined;
        t.load(p);
        const ref = ref64(p64(p), batch, { masks });
        const loss = t.step(batch, masks);
        expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-6 * ref.loss);
        const q = tensors(t.read()), p0 = tensors(p), g = flat(ref.grads);
        q.forEach((a, i) => {
          const want = Float64Array.from(g[i], (v) => -lr * v);
          const ag = agreement(delta(a, p0[i]), want);
          // Δθ read back from float32 weights carries ~1e-6 of rounding relative to lr·|∇|
          expect(ag.relL2, `tensor ${i}`).toBeLessThanOrEqual(1e-4);
          expect(ag.cosine, `tensor ${i}`).toBeGreaterThanOrEqual(1 - 1e-6);
        });
        t.dispose();
      });
    }

    it('setLearningRate: the next steps use the new rate (SGD and Adam), and load() keeps it', () => {
      for (const optimizer of ['sgd', 'adam'] as const) {
        const init = initParams(4, NET);
        const batches = [0, 1, 2].map((i) => mnistSlice(100 * i, 32));
        // a trainer at 0.02 that is switched to 0.005 after one step = one built at 0.005 for the last two
        // steps, given the same state: compare against a run that was at 0.005 from a reload of the same state
        const a = createTfjsTrainer({ optimizer, lr: 0.02 });
        a.load(init);
        a.step(batches[0]);
        a.setLearningRate(0.005);
        expect(a.lr).toBe(0.005);
        const before = a.read();
        a.step(batches[1]);
        const after = a.read();
        const g = tensors(before), h = tensors(after);
        // the size of the change tells the rate: for SGD exactly α·∇ with the gradient at `before`
        if (optimizer === 'sgd') {
          const s = createTfjsTrainer({ optimizer, lr: 0.005 });
          s.load(before);
          s.step(batches[1]);
          expectBitEqual(s.read(), after, 'switched to 0.005 vs built at 0.005');
          s.dispose();
        } else {
          // Adam's second step moves each weight by at most ≈ α·(1 + small): with α = 0.005 no move exceeds 0.0075
          const maxMove = Math.max(...h.map((x, i) => Math.max(...Array.from(x, (v, j) => Math.abs(v - g[i][j])))));
          expect(maxMove).toBeLessThan(0.0075);
          expect(maxMove).toBeGreaterThan(0.001);
        }
        a.load(init);
        expect(a.lr).toBe(0.005);
        a.dispose();
      }
    });

    for (const eps of [undefined, 1e-3]) {
      it(`Adam (lr 0.01, β 0.9/0.999, ε ${eps ?? 'default'}): 5 steps follow the published rule; wrong variants fail`, async () => {
        const lr = 0.01;
        const t = createTfjsTrainer({ optimizer: 'adam', lr, ...(eps === undefined ? {} : { epsilon: eps }) });
        expect(t.name).toBe('tfjs-adam');
        expect(t.beta1).toBe(0.9);
        expect(t.beta2).toBe(0.999);
        // tfjs's default ε is the backend's: 1e-7 on these float32 backends
        expect(t.epsilon).toBe(eps ?? 1e-7);
        expect(tf.backend().epsilon()).toBe(1e-7);
        const E = t.epsilon!;
        const variants: Record<string, { hp: AdamHyper; v?: 'no-bias-correction' | 'eps-inside-sqrt' }> = {
          published: { hp: { lr, beta1: 0.9, beta2: 0.999, eps: E } },
          'β1 = 0.8': { hp: { lr, beta1: 0.8, beta2: 0.999, eps: E } },
          'β2 = 0.99': { hp: { lr, beta1: 0.9, beta2: 0.99, eps: E } },
          'ε ×0.1': { hp: { lr, beta1: 0.9, beta2: 0.999, eps: E / 10 } },
          'no bias correction': { hp: { lr, beta1: 0.9, beta2: 0.999, eps: E }, v: 'no-bias-correction' },
          'ε inside √': { hp: { lr, beta1: 0.9, beta2: 0.999, eps: E }, v: 'eps-inside-sqrt' },
        };
        const p0 = initParams(3, NET);
        t.load(p0);
        const state = Object.fromEntries(
          Object.keys(variants).map((n) => [n, tensors(p0).map((a) => ({ m: new Float64Array(a.length), v: new Float64Array(a.length) }))]),
        );
        const worst: Record<string, number> = Object.fromEntries(Object.keys(variants).map((n) => [n, 0]));
        for (let step = 1; step <= 5; step++) {
          const batch = mnistSlice(500 * step, 64); // a different batch each step, so the moments matter
          const before = t.read();
          // the gradient tfjs will use: tfjs autodiff at the same weights (isolates the optimiser)
          const g = tensors((await gradients(before, batch)).grads);
          t.step(batch);
          const after = tensors(t.read()), b0 = tensors(before);
          for (const [n, { hp, v }] of Object.entries(variants)) {
            g.forEach((gk, k) => {
              const want = adamStep(state[n][k], gk, step, hp, v);
              const a = agreement(delta(after[k], b0[k]), want);
              worst[n] = Math.max(worst[n], a.relL2, a.maxAbsRel);
            });
          }
        }
        console.log(`[adam ${backend} ε ${E}] worst max(relL2, maxAbsRel) of Δθ over 5 steps: ` + Object.entries(worst).map(([n, w]) => `${n} ${w.toExponential(2)}`).join(', '));
        expect(worst.published).toBeLessThanOrEqual(ADAM_TOL);
        for (const [n, w] of Object.entries(worst)) if (n !== 'published') expect(w, n).toBeGreaterThan(ADAM_MUTANT_MIN);
        t.dispose();
      });
    }

    it('load() resets the optimiser state: reload + retrain equals a fresh trainer bit for bit', () => {
      for (const optimizer of ['sgd', 'adam'] as const) {
        const init = initParams(8, NET);
        const batches = [0, 1, 2, 3, 4].map((i) => mnistSlice(64 * i, 32));
        const a = createTfjsTrainer({ optimizer, lr: 0.01 });
        a.load(init);
        for (const b of batches) a.step(b);
        a.load(init);
        expectBitEqual(a.read(), init, `${optimizer}: reloaded`);
        for (const b of batches) a.step(b);
        const fresh = createTfjsTrainer({ optimizer, lr: 0.01 });
        fresh.load(init);
        for (const b of batches) fresh.step(b);
        expectBitEqual(a.read(), fresh.read(), `${optimizer}: after reload vs fresh`);
        a.dispose();
        fresh.dispose();
      }
    });

    it('deterministic: same init and batches → bit-identical weights and losses (sgd, adam, each activation)', () => {
      const batches = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => mnistSlice(3000 + 50 * i, 50));
      for (const opts of [
        { optimizer: 'sgd', lr: 0.1 },
        { optimizer: 'adam', lr: 0.01 },
        { optimizer: 'sgd', lr: 0.1, activation: 'tanh' },
        { optimizer: 'adam', lr: 0.01, activation: 'sigmoid' },
      ] as TfjsTrainerOptions[]) {
        const runs = [0, 1].map(() => {
          const t = createTfjsTrainer(opts);
          t.load(initParams(21, NET));
          const losses: number[] = [];
          for (let e = 0; e < 3; e++) for (const b of batches) losses.push(t.step(b));
          const w = t.read();
          t.dispose();
          return { losses, w };
        });
        expect(runs[1].losses).toEqual(runs[0].losses);
        expectBitEqual(runs[1].w, runs[0].w, `${opts.optimizer} ${opts.activation ?? 'relu'}: run to run`);
        expect(runs[0].losses.at(-1)!).toBeLessThan(runs[0].losses[0]); // and training did something
      }
    });

    it('no tensor leaks: numTensors and bytes constant over 500 steps (after warm-up); dispose frees all', () => {
      const base = tf.memory().numTensors;
      const batch = uniformBatch(8, 1);
      for (const optimizer of ['sgd', 'adam'] as const) {
        const t = createTfjsTrainer({ optimizer, lr: 0.001 });
        t.load(initParams(1, NET));
        for (let i = 0; i < 3; i++) t.step(batch); // Adam creates its moment variables on the first step
        const { numTensors, numBytes } = tf.memory();
        for (let i = 0; i < 500; i++) t.step(batch);
        t.read();
        t.predict(batch.x, batch.m);
        t.load(initParams(2, NET));
        for (let i = 0; i < 3; i++) t.step(batch);
        expect(tf.memory().numTensors, optimizer).toBe(numTensors);
        expect(tf.memory().numBytes, optimizer).toBe(numBytes);
        t.dispose();
        t.dispose(); // idempotent
        expect(tf.memory().numTensors, `${optimizer} after dispose`).toBe(base);
      }
    });

    it('read() returns copies; load() copies its input; predict() = argmax of float64 logits', () => {
      const t = createTfjsTrainer({ optimizer: 'sgd', lr: 0.1 });
      const p = initParams(5, NET);
      t.load(p);
      p.layers[0].W.fill(0); // must not reach the trainer
      const r1 = t.read();
      expectBitEqual(r1, initParams(5, NET), 'read() after load()');
      r1.layers[1].b.fill(99);
      expectBitEqual(t.read().layers[1].b, initParams(5, NET).layers[1].b, 'b2 after writing into a copy');
      for (let i = 0; i < 100; i++) t.step(mnistSlice(64 * i, 64));
      const w = t.read();
      const x = mnistSlice(50000, 1000);
      const pred = t.predict(x.x, x.m);
      expect(pred).toBeInstanceOf(Uint8Array);
      expect(pred.length).toBe(1000);
      const z = logits64(p64(w), x); // 10×m, column-major
      let same = 0, acc = 0;
      for (let i = 0; i < x.m; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (z[c * x.m + i] > z[best * x.m + i]) best = c;
        if (best === pred[i]) same++;
        if (pred[i] === x.y[i]) acc++;
      }
      expect(same).toBeGreaterThanOrEqual(999); // a near-tie may round differently in float32
      expect(acc / x.m).toBeGreaterThan(0.5); // 100 steps from uniform init: well above chance
      // more rows than one predict block (8192): same answers as predicting the pieces
      const big = mnistSlice(40000, 8300);
      const all = t.predict(big.x, big.m);
      expect(all.subarray(0, 100)).toEqual(t.predict(big.x.subarray(0, 100 * 784), 100));
      expect(all.subarray(8150)).toEqual(t.predict(big.x.subarray(8150 * 784), 150));
      expect(t.predict(new Float32Array(0), 0)).toEqual(new Uint8Array(0));
      expect(() => t.predict(new Float32Array(10), 1)).toThrow(/784/);
      t.dispose();
    });

    it('layer sizes: fixed by `sizes`, else taken from load()', () => {
      const fixed = createTfjsTrainer({ optimizer: 'adam', lr: 0.01, sizes: [784, 32, 10] });
      expect(fixed.read().layers[0].b.length).toBe(32);
      expect(fixed.read().layers[0].W.every((v) => v === 0)).toBe(true);
      expect(() => fixed.load(initParams(1, NET))).toThrow(/layer sizes/);
      fixed.load(initParams(1, [784, 32, 10]));
      fixed.step(uniformBatch(4, 3));
      fixed.dispose();
      const free = createTfjsTrainer({ optimizer: 'adam', lr: 0.01 });
      expect(free.read().layers[0].b.length).toBe(10);
      free.load(initParams(1, [784, 20, 10]));
      free.step(uniformBatch(4, 3));
      expect(free.read().layers[1].W.length).toBe(200);
      free.load(initParams(1, [784, 30, 20, 10]));
      free.step(uniformBatch(4, 3), maskStream(1, [30, 20], [0.5, 0.5]).masks(0, 4));
      expect(free.read().layers.map((l) => l.b.length)).toEqual([30, 20, 10]);
      expect(() => free.step(uniformBatch(4, 3), [new Float32Array(4 * 30)])).toThrow(/one per hidden layer/);
      free.dispose();
      expect(() => free.read()).toThrow(/dispose/);
    });
  });
}

describe('tfjs trainer guards and input validation', () => {
  it('bad learning rates are UserErrors', () => {
    for (const lr of [0, -0.1, NaN, Infinity, -Infinity, undefined as unknown as number, '0.1' as unknown as number]) {
      for (const optimizer of ['sgd', 'adam'] as const) {
        expect(() => createTfjsTrainer({ optimizer, lr }), `lr ${String(lr)}`).toThrow(UserError);
      }
    }
    expect(() => createTfjsTrainer({ optimizer: 'sgd', lr: NaN })).toThrow(/learning rate must be a finite number > 0, got NaN/);
  });

  it('bad Adam hyper-parameters, optimiser or activation names are UserErrors', () => {
    const bad: Partial<TfjsTrainerOptions>[] = [
      { beta1: 1 },
      { beta1: -0.1 },
      { beta2: 1 },
      { beta2: NaN },
      { epsilon: 0 },
      { epsilon: -1e-8 },
      { epsilon: NaN },
      { activation: 'gelu' as never },
    ];
    for (const b of bad) expect(() => createTfjsTrainer({ optimizer: 'adam', lr: 0.01, ...b }), JSON.stringify(b)).toThrow(UserError);
    expect(() => createTfjsTrainer({ optimizer: 'rmsprop' as never, lr: 0.01 })).toThrow(UserError);
  });

  it('unknown backend names are UserErrors', async () => {
    await expect(initBackend('gpu' as BackendName)).rejects.toThrow(UserError);
  });

  it('a trainer refuses to run on a backend other than its own', async () => {
    await initBackend('cpu');
    const t = createTfjsTrainer({ optimizer: 'sgd', lr: 0.1 });
    expect(t.backend).toBe('cpu');
    await initBackend('wasm');
    expect(() => t.step(uniformBatch(2, 1))).toThrow(/created on the 'cpu' backend but 'wasm' is active/);
    await initBackend('cpu');
    t.step(uniformBatch(2, 1));
    t.dispose();
  });
});

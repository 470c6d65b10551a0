// The tfjs trainers: one SGD step and five Adam steps against the published update rules in float64,
// memory (no tensor leaks), determinism, load/read/predict, and input validation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { PARAM_NAMES, type Params } from '../../src/core/types.ts';
import { initBackend, type BackendName } from '../../src/tfjs/backend.ts';
import { createTfjsTrainer, gradients, type TfjsTrainerOptions } from '../../src/tfjs/network.ts';
import { adamStep, KEYS, logits64, p64, ref64, type AdamHyper } from './ref64.ts';
import { mnistBatch, randomBatch } from './util.ts';

const bits = (p: Params) => PARAM_NAMES.map((k) => Array.from(new Uint32Array(p[k].buffer, p[k].byteOffset, p[k].length)));
const delta = (after: Float32Array, before: Float32Array) => Float64Array.from(after, (v, i) => v - before[i]);

// Adam: the update Δθ read back from tfjs vs the published rule in float64. Measured ≈1.6e-5, nearly all of
// it systematic: tfjs 4.22 scales g² by (1−β2) formed in float64 then rounded (fround(0.001) = 1.00000005e-3)
// but divides by 1−β2^t taken from a float32 accumulator (1 − fround(0.999) = 9.9998713e-4), so at t = 1
// v̂ = 1.0000129·g² and every step is 6.4e-6 too short. Wrong variants miss by ≥ 1.7e-3.
const ADAM_TOL = 5e-5;
const ADAM_MUTANT_MIN = 1e-3;

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tfjs trainers on ${backend}`, () => {
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
    });

    it('SGD: one step is θ − lr·∇L (float64 reference) and returns the pre-update loss', () => {
      const lr = 0.1;
      const t = createTfjsTrainer({ optimizer: 'sgd', lr });
      expect(t.name).toBe('tfjs-sgd');
      expect([t.beta1, t.beta2, t.epsilon]).toEqual([null, null, null]);
      const p = initParams(11, 10);
      const batch = mnistBatch(2000, 64);
      t.load(p);
      const ref = ref64(p64(p), batch);
      const loss = t.step(batch);
      expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-6 * ref.loss);
      const q = t.read();
      for (const k of KEYS) {
        const want = Float64Array.from(ref.grads[k], (g) => -lr * g);
        const a = agreement(delta(q[k], p[k]), want);
        // Δθ read back from float32 weights (|θ| ≤ 0.5, ulp 6e-8) carries ~1e-6 of rounding relative to lr·|∇|
        expect(a.relL2, k).toBeLessThanOrEqual(1e-4);
        expect(a.cosine, k).toBeGreaterThanOrEqual(1 - 1e-6);
      }
      t.dispose();
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
        const p0 = initParams(3, 10);
        t.load(p0);
        const state = Object.fromEntries(
          Object.keys(variants).map((n) => [n, Object.fromEntries(KEYS.map((k) => [k, { m: new Float64Array(p0[k].length), v: new Float64Array(p0[k].length) }]))]),
        );
        const worst: Record<string, number> = Object.fromEntries(Object.keys(variants).map((n) => [n, 0]));
        for (let step = 1; step <= 5; step++) {
          const batch = mnistBatch(500 * step, 64); // a different batch each step, so the moments matter
          const before = t.read();
          // the gradient tfjs will use: tfjs autodiff at the same weights (isolates the optimiser)
          const g = (await gradients(before, batch)).grads;
          t.step(batch);
          const after = t.read();
          for (const [n, { hp, v }] of Object.entries(variants)) {
            for (const k of KEYS) {
              const want = adamStep(state[n][k], g[k], step, hp, v);
              const a = agreement(delta(after[k], before[k]), want);
              worst[n] = Math.max(worst[n], a.relL2, a.maxAbsRel);
            }
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
        const init = initParams(8, 10);
        const batches = [0, 1, 2, 3, 4].map((i) => mnistBatch(64 * i, 32));
        const a = createTfjsTrainer({ optimizer, lr: 0.01 });
        a.load(init);
        for (const b of batches) a.step(b);
        a.load(init);
        expect(bits(a.read())).toEqual(bits(init));
        for (const b of batches) a.step(b);
        const fresh = createTfjsTrainer({ optimizer, lr: 0.01 });
        fresh.load(init);
        for (const b of batches) fresh.step(b);
        expect(bits(a.read())).toEqual(bits(fresh.read()));
        a.dispose();
        fresh.dispose();
      }
    });

    it('deterministic: same init and batches → bit-identical weights and losses (sgd, adam, each activation)', () => {
      const batches = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => mnistBatch(3000 + 50 * i, 50));
      for (const opts of [
        { optimizer: 'sgd', lr: 0.1 },
        { optimizer: 'adam', lr: 0.01 },
        { optimizer: 'sgd', lr: 0.1, activation: 'tanh' },
        { optimizer: 'adam', lr: 0.01, activation: 'sigmoid' },
      ] as TfjsTrainerOptions[]) {
        const runs = [0, 1].map(() => {
          const t = createTfjsTrainer(opts);
          t.load(initParams(21, 10));
          const losses: number[] = [];
          for (let e = 0; e < 3; e++) for (const b of batches) losses.push(t.step(b));
          const w = t.read();
          t.dispose();
          return { losses, w };
        });
        expect(runs[1].losses).toEqual(runs[0].losses);
        expect(bits(runs[1].w)).toEqual(bits(runs[0].w));
        expect(runs[0].losses.at(-1)!).toBeLessThan(runs[0].losses[0]); // and training did something
      }
    });

    it('no tensor leaks: numTensors and bytes constant over 500 steps (after warm-up); dispose frees all', () => {
      const base = tf.memory().numTensors;
      const batch = randomBatch(8, 1);
      for (const optimizer of ['sgd', 'adam'] as const) {
        const t = createTfjsTrainer({ optimizer, lr: 0.001 });
        t.load(initParams(1, 10));
        for (let i = 0; i < 3; i++) t.step(batch); // Adam creates its moment variables on the first step
        const { numTensors, numBytes } = tf.memory();
        for (let i = 0; i < 500; i++) t.step(batch);
        t.read();
        t.predict(batch.x, batch.m);
        t.load(initParams(2, 10));
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
      const p = initParams(5, 10);
      t.load(p);
      p.W1.fill(0); // must not reach the trainer
      const r1 = t.read();
      expect(bits(r1)).toEqual(bits(initParams(5, 10)));
      r1.b2.fill(99);
      expect(t.read().b2).toEqual(initParams(5, 10).b2);
      for (let i = 0; i < 100; i++) t.step(mnistBatch(64 * i, 64));
      const w = t.read();
      const x = mnistBatch(50000, 1000);
      const pred = t.predict(x.x, x.m);
      expect(pred).toBeInstanceOf(Uint8Array);
      expect(pred.length).toBe(1000);
      const z = logits64(p64(w), x.x, x.m);
      let same = 0, acc = 0;
      for (let i = 0; i < x.m; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (z[i * 10 + c] > z[i * 10 + best]) best = c;
        if (best === pred[i]) same++;
        if (pred[i] === x.y[i]) acc++;
      }
      expect(same).toBeGreaterThanOrEqual(999); // a near-tie may round differently in float32
      expect(acc / x.m).toBeGreaterThan(0.5); // 100 steps from uniform init: well above chance
      // more rows than one predict block (8192): same answers as predicting the pieces
      const big = mnistBatch(40000, 8300);
      const all = t.predict(big.x, big.m);
      expect(all.subarray(0, 100)).toEqual(t.predict(big.x.subarray(0, 100 * 784), 100));
      expect(all.subarray(8150)).toEqual(t.predict(big.x.subarray(8150 * 784), 150));
      expect(t.predict(new Float32Array(0), 0)).toEqual(new Uint8Array(0));
      expect(() => t.predict(new Float32Array(10), 1)).toThrow(/784/);
      t.dispose();
    });

    it('hidden width: fixed by `hidden`, else taken from load()', () => {
      const fixed = createTfjsTrainer({ optimizer: 'adam', lr: 0.01, hidden: 32 });
      expect(fixed.read().b1.length).toBe(32);
      expect(fixed.read().W1.every((v) => v === 0)).toBe(true);
      expect(() => fixed.load(initParams(1, 10))).toThrow(/hidden/);
      fixed.load(initParams(1, 32));
      fixed.step(randomBatch(4, 3));
      fixed.dispose();
      const free = createTfjsTrainer({ optimizer: 'adam', lr: 0.01 });
      expect(free.read().b1.length).toBe(10);
      free.load(initParams(1, 20));
      free.step(randomBatch(4, 3));
      expect(free.read().W2.length).toBe(200);
      free.load(initParams(1, 10));
      free.step(randomBatch(4, 3));
      expect(free.read().b1.length).toBe(10);
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
      { hidden: 0 },
      { hidden: 2.5 },
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
    expect(() => t.step(randomBatch(2, 1))).toThrow(/created on the 'cpu' backend but 'wasm' is active/);
    await initBackend('cpu');
    t.step(randomBatch(2, 1));
    t.dispose();
  });
});

// The hand-written network (src/scratch) vs tfjs: gradients at the same point, and whole training
// trajectories (scratch gradient descent vs tf.train.sgd, scratch Adam vs tf.train.adam) from the same init on
// the same batches (and dropout masks), on every backend present.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { maskStream } from '../../src/core/dropout.ts';
import { permutation, rng } from '../../src/core/rng.ts';
import { makeSchedule } from '../../src/core/schedule.ts';
import { ACTIVATIONS, tensorNames, tensors, type Batch } from '../../src/core/types.ts';
import { gradients as scratchGradients } from '../../src/scratch/index.ts';
import { createScratchAdamTrainer } from '../../src/scratch/adam.ts';
import { createScratchTrainer } from '../../src/scratch/trainer.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { createTfjsTrainer, gradients as tfjsGradients } from '../../src/tfjs/network.ts';
import { expectAgree, mnistData, mnistSlice, uniformBatch, Worst } from '../helpers/index.ts';
import { TEST_BACKENDS } from './native.ts';

const TRAJ_TOL = 1e-4; // relative L2 per tensor after 200 steps

/** The batches of a seeded mini-batch schedule over the first n MNIST training rows. */
function schedule(seed: number, n: number, m: number, steps: number): Batch[] {
  const all = mnistSlice(0, n);
  const order = permutation(rng(seed, 'batches'), n);
  const out: Batch[] = [];
  for (let s = 0; s < steps; s++) {
    const x = new Float32Array(m * 784), y = new Uint8Array(m);
    for (let i = 0; i < m; i++) {
      const r = order[(s * m + i) % n];
      x.set(all.x.subarray(r * 784, (r + 1) * 784), i * 784);
      y[i] = all.y[r];
    }
    out.push({ x, y, m });
  }
  return out;
}

for (const { name: backend, label, skip } of TEST_BACKENDS) {
  describe.skipIf(skip)(`scratch vs tfjs on ${label}`, () => {
    const worst = new Worst();
    beforeAll(async () => {
      expect((await initBackend(backend)).name).toBe(backend);
    });
    afterAll(() => console.log(`[scratch vs tfjs ${backend}] worst gradient agreement: ${worst.summary()}`));

    for (const act of ACTIVATIONS) {
      it(`${act}: gradients agree (random pixels and MNIST, m = 1, 7, 64, 1000)`, async () => {
        const cases: [number, Batch][] = [
          [1, uniformBatch(16, 1)],
          [2, uniformBatch(1, 2)],
          ...[1, 7, 64, 1000].map((m, i): [number, Batch] => [10 + i, mnistSlice(1000 + 97 * i, m)]),
        ];
        for (const [seed, batch] of cases) {
          const p = initParams(seed, [784, 10, 10]);
          const s = scratchGradients(p, batch, { activation: act });
          const t = await tfjsGradients(p, batch, { activation: act });
          const label = `${act} seed ${seed} m ${batch.m}`;
          expect(Math.abs(t.loss - s.loss), `${label} loss`).toBeLessThanOrEqual(1e-6 * Math.max(1, s.loss));
          expectAgree(t.grads, s.grads, label, worst);
        }
      });
    }

    it('trajectory: 200 steps of scratch GD and tfjs SGD (lr 0.1, batch 64) stay within 1e-4 per tensor', () => {
      const init = initParams(2024, [784, 10, 10]);
      const batches = schedule(7, 6400, 64, 200);
      const s = createScratchTrainer({ lr: 0.1 });
      const t = createTfjsTrainer({ optimizer: 'sgd', lr: 0.1 });
      s.load(init);
      t.load(init);
      const drift: string[] = [];
      let ls = 0, lt = 0;
      for (let i = 0; i < batches.length; i++) {
        ls = s.step(batches[i]) as number;
        lt = t.step(batches[i]);
        expect(Math.abs(ls - lt), `loss at step ${i}`).toBeLessThanOrEqual(1e-4 * Math.max(1, ls));
        if ([1, 10, 50, 100, 200].includes(i + 1)) {
          const a = tensors(t.read()), b = tensors(s.read() as ReturnType<typeof t.read>);
          drift.push(`step ${i + 1}: ` + tensorNames(2).map((k, j) => `${k} ${agreement(a[j], b[j]).relL2.toExponential(2)}`).join(', '));
        }
      }
      const a = tensors(t.read()), b = tensors(s.read() as ReturnType<typeof t.read>);
      const moved = agreement(b[0], init.layers[0].W).relL2; // the weights did change, so the comparison means something
      console.log(
        `[scratch vs tfjs ${backend}] trajectory relative L2 drift (loss ${ls.toFixed(4)} vs ${lt.toFixed(4)}; ` +
          `W1 moved ${moved.toExponential(2)} from init):\n  ${drift.join('\n  ')}`,
      );
      expect(moved).toBeGreaterThan(1e-3);
      expect(ls).toBeLessThan(1.0); // it learned something
      tensorNames(2).forEach((k, j) => expect(agreement(a[j], b[j]).relL2, `${k} drift`).toBeLessThanOrEqual(TRAJ_TOL));
      t.dispose();
      s.dispose();
    });

    it('trajectory: 200 steps of scratch Adam and tfjs Adam (lr 0.001, batch 64; 784-10-10, and 784-64-32-10 with dropout) stay within 1e-4 per tensor', () => {
      for (const [sizes, keep, b1] of [[[784, 10, 10], null, 0.9], [[784, 64, 32, 10], [0.4, 0.5], 0.8]] as const) {
        const init = initParams(12, sizes, 'he');
        const sched = () => makeSchedule(mnistData().train, 12, { batch: 64, steps: 200 });
        const drop = () => (keep ? maskStream(12, sizes.slice(1, -1), keep) : null);
        const s = createScratchAdamTrainer({ lr: 0.001, beta1: b1 });
        const t = createTfjsTrainer({ optimizer: 'adam', lr: 0.001, beta1: b1 });
        s.load(init);
        t.load(init);
        const ss = sched(), st = sched(), ds = drop(), dt = drop();
        for (let i = 0; i < 200; i++) {
          s.step(ss.batch(i), ds?.masks(i, 64));
          t.step(st.batch(i), dt?.masks(i, 64));
        }
        const a = tensors(t.read()), b = tensors(s.read() as ReturnType<typeof t.read>);
        const drift = a.map((x, j) => agreement(x, b[j]).relL2);
        const moved = agreement(b[0], init.layers[0].W).relL2;
        console.log(
          `[scratch vs tfjs ${backend}] Adam trajectory ${sizes.join('-')}${keep ? ' with dropout' : ''}, after 200 steps: relative L2 ` +
            `${tensorNames(sizes.length - 1).map((k, j) => `${k} ${drift[j].toExponential(2)}`).join(', ')} (W1 moved ${moved.toExponential(2)} from init)`,
        );
        expect(moved).toBeGreaterThan(1e-3); // the weights did move: the agreement is not trivial
        drift.forEach((d, j) => expect(d, `${sizes.join('-')} tensor ${j} drift`).toBeLessThanOrEqual(TRAJ_TOL));
        t.dispose();
        s.dispose();
      }
    });
  });
}

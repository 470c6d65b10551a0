// The one rule per option (src/core/checks.ts), and that every implementation applies it: a label of 10 fed
// to each one's gradients and each trainer's step is the same error, not a wrong gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAdamOptions, checkBatch, checkBeta, checkEpsilon, checkLearningRate, checkThreads, MAX_THREADS } from '../../src/core/checks.ts';
import { UserError } from '../../src/core/errors.ts';
import { initParams } from '../../src/core/init.ts';
import { netSizes, type Batch } from '../../src/core/types.ts';
import { createScratchAdamTrainer } from '../../src/scratch/adam.ts';
import { gradients as scratchGradients } from '../../src/scratch/network.ts';
import { createScratchTrainer } from '../../src/scratch/trainer.ts';
import { createSimdAdamTrainer, createSimdTrainer, gradients as simdGradients } from '../../src/simd/index.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { createTfjsTrainer, gradients as tfjsGradients } from '../../src/tfjs/network.ts';
import { syntheticBatch } from '../helpers/index.ts';

const userError = (f: () => unknown, msg: RegExp) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(msg);
};

describe('option rules', () => {
  it('learning rate: a finite number > 0', () => {
    for (const ok of [1e-12, 0.1, 30]) expect(checkLearningRate(ok)).toBe(ok);
    for (const bad of [0, -0.1, NaN, Infinity, '0.1' as unknown as number]) userError(() => checkLearningRate(bad), /^learning rate must be a finite number > 0, got /);
    userError(() => checkLearningRate(-1, '--lr', "'-1'"), /^--lr must be a finite number > 0, got '-1'$/);
  });

  it('β: a number in [0, 1); ε: a finite number > 0', () => {
    for (const ok of [0, 0.8, 0.999]) expect(checkBeta(ok, 'beta1')).toBe(ok);
    for (const bad of [1, -0.1, NaN, 1.5]) userError(() => checkBeta(bad, 'beta2'), /^beta2 must be a number in \[0, 1\), got /);
    expect(checkEpsilon(1e-8)).toBe(1e-8);
    for (const bad of [0, -1e-8, NaN, Infinity]) userError(() => checkEpsilon(bad), /^epsilon must be a finite number > 0, got /);
    expect(checkAdamOptions({ lr: 0.01 })).toEqual({ lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  });

  it('threads: an integer in 0..64', () => {
    expect(MAX_THREADS).toBe(64);
    for (const ok of [0, 1, 2, 64]) expect(checkThreads(ok)).toBe(ok);
    for (const bad of [-1, 1.5, 65, 256, NaN]) userError(() => checkThreads(bad), /^threads must be an integer in 0\.\.64, got /);
  });

  it('every trainer applies the same option rules', () => {
    for (const make of [
      (o: object) => createScratchTrainer({ lr: 0.1, ...o }),
      (o: object) => createScratchAdamTrainer({ lr: 0.1, ...o }),
      (o: object) => createSimdTrainer({ lr: 0.1, ...o }),
      (o: object) => createSimdAdamTrainer({ lr: 0.1, ...o }),
    ]) {
      userError(() => make({ threads: 65 }), /threads must be an integer in 0\.\.64, got 65/);
      userError(() => make({ lr: 0 }), /learning rate must be a finite number > 0, got 0/);
    }
    for (const make of [createScratchAdamTrainer, createSimdAdamTrainer]) {
      userError(() => make({ lr: 0.1, beta1: 1 }), /beta1 must be a number in \[0, 1\), got 1/);
      userError(() => make({ lr: 0.1, epsilon: 0 }), /epsilon must be a finite number > 0, got 0/);
    }
  });

  it('batch: m, the lengths of x and y, labels 0..9', () => {
    const b = syntheticBatch(3);
    expect(() => checkBatch(b)).not.toThrow();
    expect(() => checkBatch({ ...b, m: 0 })).toThrow(/^batch: m = 0, expected a positive integer$/);
    expect(() => checkBatch({ ...b, m: 2 })).toThrow(/^batch\.x has 2352 values, expected 2×784$/);
    expect(() => checkBatch({ ...b, y: new Uint8Array(2) })).toThrow(/^batch\.y has 2 labels, expected 3$/);
    expect(() => checkBatch({ ...b, y: Uint8Array.of(9, 9, 10) })).toThrow(/^batch\.y\[2\] = 10, labels are 0\.\.9$/);
  });
});

describe('a label above 9 is the same error in every implementation', () => {
  const LABEL_10 = /^batch\.y\[1\] = 10, labels are 0\.\.9$/;
  const params = initParams(1, netSizes([10]));
  const batch = (): Batch => {
    const b = syntheticBatch(4);
    b.y[1] = 10;
    return b;
  };

  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('gradients: scratch, scratch-simd, tfjs', async () => {
    expect(() => scratchGradients(params, batch())).toThrow(LABEL_10);
    expect(() => simdGradients(params, batch())).toThrow(LABEL_10);
    await expect(tfjsGradients(params, batch())).rejects.toThrow(LABEL_10);
  });

  it('every trainer step, on the calling thread', async () => {
    const trainers = [
      createScratchTrainer({ lr: 0.1 }),
      createScratchAdamTrainer({ lr: 0.01 }),
      createSimdTrainer({ lr: 0.1 }),
      createSimdAdamTrainer({ lr: 0.01 }),
      createTfjsTrainer({ optimizer: 'sgd', lr: 0.1 }),
      createTfjsTrainer({ optimizer: 'adam', lr: 0.01 }),
    ];
    for (const t of trainers) {
      t.load(params);
      expect(() => t.step(batch()), t.name).toThrow(LABEL_10);
      expect((await t.read()).layers[0].W, t.name).toEqual(params.layers[0].W); // the bad batch changed nothing
      expect(await t.step(syntheticBatch(4)), t.name).toBeGreaterThan(0); // and the trainer still works
      t.dispose();
    }
  });
});

/** The hand-written trainers of a plan (plain TypeScript and SIMD): no tfjs here, so a worker can load it. */
import type { Activation, Trainer } from '../core/types.ts';
import { createScratchAdamTrainer } from '../scratch/adam.ts';
import { createScratchTrainer } from '../scratch/trainer.ts';
import { createSimdAdamTrainer, createSimdTrainer } from '../simd/index.ts';
import { trainerLr } from './trainers.ts';
import type { TrainerId } from '../results/trainers.ts';

export interface ScratchPlan {
  lr: number;
  adamLr: number;
  beta1: number;
  beta2: number;
  activation: Activation;
  threads: number;
}

export function makeScratchTrainer(id: TrainerId, plan: ScratchPlan, lrScale = 1): Trainer {
  const lr = trainerLr(id, plan) * lrScale;
  const { activation, threads } = plan;
  const adam = { lr, beta1: plan.beta1, beta2: plan.beta2, activation, threads };
  switch (id) {
    case 'scratch-gd':
      return createScratchTrainer({ lr, activation, threads });
    case 'scratch-adam':
      return createScratchAdamTrainer(adam);
    case 'scratch-simd-gd':
      return createSimdTrainer({ lr, activation, threads });
    case 'scratch-simd-adam':
      return createSimdAdamTrainer(adam);
    default:
      throw new Error(`not a hand-written trainer: ${id}`);
  }
}

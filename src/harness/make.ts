/** A plan's trainers, built by name: the hand-written ones (scratch-trainers.ts) and tfjs's. */
import { netSizes, type Trainer } from '../core/types.ts';
import type { Plan } from '../results/plan.ts';
import { baseTrainer, isScratchTrainer, type TrainerId } from '../results/trainers.ts';
import { createTfjsTrainer } from '../tfjs/network.ts';
import { makeScratchTrainer } from './scratch-trainers.ts';
import { trainerLr } from './trainers.ts';

export function makeTrainer(id: TrainerId, plan: Plan, lrScale = 1): Trainer {
  if (isScratchTrainer(id)) return makeScratchTrainer(id, plan, lrScale);
  const lr = trainerLr(id, plan) * lrScale;
  const sizes = netSizes(plan.layers);
  return baseTrainer(id) === 'tfjs-sgd'
    ? createTfjsTrainer({ optimizer: 'sgd', lr, activation: plan.activation, sizes })
    : createTfjsTrainer({ optimizer: 'adam', lr, beta1: plan.beta1, beta2: plan.beta2, activation: plan.activation, sizes });
}

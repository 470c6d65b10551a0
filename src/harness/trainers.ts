/** The learning rate of a trainer at each epoch of a plan. */
import { isAdamTrainer, type TrainerId } from '../results/trainers.ts';

/** The learning rate of a trainer in a plan: the Adam trainers' or the gradient-descent ones'. */
export function trainerLr(id: TrainerId, plan: { lr: number; adamLr: number }): number {
  return isAdamTrainer(id) ? plan.adamLr : plan.lr;
}

/** The learning rate of epoch e (from 0): α0 / (1 + decay·e). */
export function decayedLr(lr0: number, decay: number, epoch: number): number {
  return lr0 / (1 + decay * epoch);
}

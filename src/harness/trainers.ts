/** The trainers by name, and which of them are twins: the names only (no training code is loaded here). */
export const TRAINER_IDS = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'] as const;
export type TrainerId = (typeof TRAINER_IDS)[number];
export const isAdamTrainer = (t: TrainerId): boolean => t.endsWith('-adam');
/** hand-written (plain TypeScript or SIMD): their steps can run on worker threads */
export const isScratchTrainer = (t: TrainerId): boolean => t.startsWith('scratch-');

/**
 * Trainers that run the same math on the same batches in two implementations: [hand-written, other].
 * Their curves may coincide (charts draw one line) and their weights drift apart only by rounding.
 */
export const TWINS: readonly (readonly [TrainerId, TrainerId])[] = [
  ['scratch-gd', 'tfjs-sgd'],
  ['scratch-adam', 'tfjs-adam'],
  ['scratch-simd-gd', 'scratch-gd'],
  ['scratch-simd-adam', 'scratch-adam'],
];

/** The pairs the speed verdict reports: hand-written vs tfjs, same optimizer. */
export const SPEED_PAIRS: readonly (readonly [TrainerId, TrainerId])[] = [
  ['scratch-gd', 'tfjs-sgd'],
  ['scratch-simd-gd', 'tfjs-sgd'],
  ['scratch-adam', 'tfjs-adam'],
  ['scratch-simd-adam', 'tfjs-adam'],
];

/** The learning rate of a trainer in a plan: the Adam trainers' or the gradient-descent ones'. */
export function trainerLr(id: TrainerId, plan: { lr: number; adamLr: number }): number {
  return isAdamTrainer(id) ? plan.adamLr : plan.lr;
}

/** The learning rate of epoch e (from 0): α0 / (1 + decay·e). */
export function decayedLr(lr0: number, decay: number, epoch: number): number {
  return lr0 / (1 + decay * epoch);
}

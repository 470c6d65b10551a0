/** The trainers by name, and which of them are twins or speed pairs: names only (no training code is loaded here). */
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

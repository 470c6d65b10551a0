/** The trainers by name, and which of them are twins: the names only (no training code is loaded here). */
export const TRAINER_IDS = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam'] as const;
export type TrainerId = (typeof TRAINER_IDS)[number];
export const isAdamTrainer = (t: TrainerId): boolean => t.endsWith('-adam');
export const isScratchTrainer = (t: TrainerId): boolean => t.startsWith('scratch-');

/** Trainers that run the same math on the same batches in two implementations: [hand-written, tfjs]. */
export const TWINS: readonly (readonly [TrainerId, TrainerId])[] = [
  ['scratch-gd', 'tfjs-sgd'],
  ['scratch-adam', 'tfjs-adam'],
];

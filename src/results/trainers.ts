/** The trainers by name, and which of them are twins or speed pairs: names only (no training code is loaded here). */
import { BACKEND_NAMES, type BackendName } from '../core/backends.ts';

export const TRAINER_IDS = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'] as const;
/** the names `--trainers` takes */
export type BaseTrainerId = (typeof TRAINER_IDS)[number];
export const TFJS_TRAINER_IDS = ['tfjs-sgd', 'tfjs-adam'] as const;
export type TfjsTrainerId = (typeof TFJS_TRAINER_IDS)[number];
/**
 * A trainer of a run. `tfjs-sgd` / `tfjs-adam` run on the run's first (primary) tfjs backend, the one in
 * `environment.tfjs`; with more than one backend (`--backend tensorflow,wasm`) the others' runs are
 * `tfjs-sgd@wasm`, `tfjs-adam@wasm`: the same trainer on that backend.
 */
export type TrainerId = BaseTrainerId | `${TfjsTrainerId}@${BackendName}`;

/** The trainer without its backend suffix: `tfjs-sgd@wasm` → `tfjs-sgd`. */
export const baseTrainer = (t: TrainerId): BaseTrainerId => t.split('@')[0] as BaseTrainerId;
/** The backend a trainer id names (`tfjs-sgd@wasm` → 'wasm'), null for the primary backend's and the hand-written trainers. */
export const trainerBackend = (t: TrainerId): BackendName | null => {
  const b = t.split('@')[1];
  return b === undefined ? null : (b as BackendName);
};
/** `tfjs-sgd` on another backend than the primary one. */
export const onBackend = (t: TfjsTrainerId, b: BackendName): TrainerId => `${t}@${b}`;
/** Every trainer id a results file may hold. */
export const ALL_TRAINER_IDS: readonly TrainerId[] = [...TRAINER_IDS, ...TFJS_TRAINER_IDS.flatMap((t) => BACKEND_NAMES.map((b) => onBackend(t, b)))];

export const isAdamTrainer = (t: TrainerId): boolean => baseTrainer(t).endsWith('-adam');
/** hand-written (plain TypeScript or SIMD): their steps can run on worker threads */
export const isScratchTrainer = (t: TrainerId): boolean => t.startsWith('scratch-');
export const isTfjsTrainer = (t: TrainerId): boolean => t.startsWith('tfjs-');

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

/** A list of pairs with every pair whose second trainer is tfjs repeated for each other backend among `trainers`. */
function withBackends(pairs: readonly (readonly [TrainerId, TrainerId])[], trainers: readonly TrainerId[]): (readonly [TrainerId, TrainerId])[] {
  const others = [...new Set(trainers.map(trainerBackend).filter((b): b is BackendName => b !== null))];
  return pairs.flatMap(([a, b]) => [[a, b] as const, ...(isTfjsTrainer(b) ? others.map((o) => [a, onBackend(b as TfjsTrainerId, o)] as const) : [])]);
}

/** TWINS for a run's trainers: also each hand-written trainer vs its tfjs twin on every other backend. */
export const twinsOf = (trainers: readonly TrainerId[]) => withBackends(TWINS, trainers);
/** SPEED_PAIRS for a run's trainers: also vs tfjs on every other backend. */
export const speedPairsOf = (trainers: readonly TrainerId[]) => withBackends(SPEED_PAIRS, trainers);

// Trainer ids with a backend (tfjs-sgd@wasm) and the twin / speed pairs of a run with more than one backend.
import { describe, expect, it } from 'vitest';
import { baseTrainer, isAdamTrainer, isTfjsTrainer, speedPairsOf, trainerBackend, twinsOf } from '../../src/results/trainers.ts';
import schema from '../../src/results/results.schema.json' with { type: 'json' };

describe('trainer ids', () => {
  it('a backend suffix names the backend and keeps the optimizer', () => {
    expect(baseTrainer('tfjs-adam@wasm')).toBe('tfjs-adam');
    expect(trainerBackend('tfjs-adam@wasm')).toBe('wasm');
    expect(trainerBackend('tfjs-adam')).toBeNull();
    expect(isAdamTrainer('tfjs-adam@cpu')).toBe(true);
    expect(isAdamTrainer('tfjs-sgd@cpu')).toBe(false);
    expect(isTfjsTrainer('tfjs-sgd@tensorflow')).toBe(true);
    expect(isTfjsTrainer('scratch-gd')).toBe(false);
  });

  it('one backend: the twin and speed pairs are the fixed lists', () => {
    const ts = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'] as const;
    expect(twinsOf(ts)).toEqual([['scratch-gd', 'tfjs-sgd'], ['scratch-adam', 'tfjs-adam'], ['scratch-simd-gd', 'scratch-gd'], ['scratch-simd-adam', 'scratch-adam']]);
    expect(speedPairsOf(ts)).toEqual([['scratch-gd', 'tfjs-sgd'], ['scratch-simd-gd', 'tfjs-sgd'], ['scratch-adam', 'tfjs-adam'], ['scratch-simd-adam', 'tfjs-adam']]);
  });

  it('a second backend: each hand-written trainer also against tfjs on it', () => {
    const ts = ['scratch-gd', 'tfjs-sgd', 'tfjs-sgd@wasm', 'tfjs-adam', 'tfjs-adam@wasm', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'] as const;
    expect(twinsOf(ts)).toEqual([
      ['scratch-gd', 'tfjs-sgd'], ['scratch-gd', 'tfjs-sgd@wasm'],
      ['scratch-adam', 'tfjs-adam'], ['scratch-adam', 'tfjs-adam@wasm'],
      ['scratch-simd-gd', 'scratch-gd'], ['scratch-simd-adam', 'scratch-adam'],
    ]);
    expect(speedPairsOf(ts)).toEqual([
      ['scratch-gd', 'tfjs-sgd'], ['scratch-gd', 'tfjs-sgd@wasm'],
      ['scratch-simd-gd', 'tfjs-sgd'], ['scratch-simd-gd', 'tfjs-sgd@wasm'],
      ['scratch-adam', 'tfjs-adam'], ['scratch-adam', 'tfjs-adam@wasm'],
      ['scratch-simd-adam', 'tfjs-adam'], ['scratch-simd-adam', 'tfjs-adam@wasm'],
    ]);
  });

  it('the results schema lists every trainer id, with and without a backend', () => {
    expect([...schema.definitions.trainer.enum].sort()).toEqual(
      ['scratch-gd', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam', 'tfjs-sgd', 'tfjs-adam', ...['tensorflow', 'wasm', 'cpu'].flatMap((b) => [`tfjs-sgd@${b}`, `tfjs-adam@${b}`])].sort(),
    );
  });
});

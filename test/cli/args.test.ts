// Flag parsing: every bad flag is one UserError line naming the flag; good flags land in the plan.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { parseCompareArgs } from '../../src/cli/args.ts';
import { PRESETS, resolvePreset } from '../../src/harness/plan.ts';

describe('compare flags', () => {
  it('defaults to the default preset and the reports folder', () => {
    const a = parseCompareArgs([]);
    expect(a.plan).toEqual(PRESETS.default);
    expect(a.out).toBe('reports');
  });

  it("the notebook preset is the notebook's setting", () => {
    const p = parseCompareArgs(['--preset', 'notebook']).plan;
    expect(p).toMatchObject({ batch: 'full', lr: 0.1, epochs: 500, evalEvery: 10, init: 'uniform', layers: [10], keep: [1], lrDecay: 0 });
  });

  it("the deep preset is the deep notebook's recipe", () => {
    const p = parseCompareArgs(['--preset', 'deep'], false).plan;
    expect(p).toMatchObject({ layers: [400, 100], keep: [0.4, 0.5], init: 'he', adamLr: 0.005, beta1: 0.8, beta2: 0.999, lrDecay: 1e-5, batch: 256, seeds: [1] });
  });

  it('--layers, --keep, --lr-decay, --beta1, --beta2 land in the plan; --hidden N is --layers N', () => {
    const p = parseCompareArgs(['--layers', '400,100', '--keep', '0.4,0.5', '--lr-decay', '1e-5', '--beta1', '0.8', '--beta2', '0.99']).plan;
    expect(p).toMatchObject({ layers: [400, 100], keep: [0.4, 0.5], lrDecay: 1e-5, beta1: 0.8, beta2: 0.99 });
    expect(parseCompareArgs(['--hidden', '32']).plan).toMatchObject({ layers: [32], keep: [1] });
    // new layers without --keep: no dropout, one keep value per layer
    expect(parseCompareArgs(['--preset', 'deep', '--layers', '64,32,16']).plan.keep).toEqual([1, 1, 1]);
    expect(parseCompareArgs(['--preset', 'deep', '--keep', '1,1']).plan.keep).toEqual([1, 1]);
  });

  it('flags override the preset', () => {
    const p = parseCompareArgs(['--preset', 'smoke', '--seeds', '4,5', '--trainers', 'scratch-gd,tfjs-adam', '--batch', 'full', '--lr', '0.05', '--adam-lr', '0.01', '--layers', '32', '--activation', 'tanh', '--backend', 'cpu', '--limit', '100', '--iterations', '7', '--init', 'he']).plan;
    expect(p).toMatchObject({ seeds: [4, 5], trainers: ['scratch-gd', 'tfjs-adam'], batch: 'full', lr: 0.05, adamLr: 0.01, layers: [32], activation: 'tanh', backend: 'cpu', limit: 100, iterations: 7, init: 'he' });
  });

  const bad: [string[], RegExp][] = [
    [['--batch', '0'], /--batch must be between 1/],
    [['--batch', 'many'], /--batch must be a positive integer, got 'many'/],
    [['--lr=-1'], /--lr must be a finite number > 0, got '-1'/],
    [['--lr', '0'], /--lr must be a finite number > 0/],
    [['--adam-lr', 'NaN'], /--adam-lr must be a finite number > 0/],
    [['--epochs', '1.5'], /--epochs must be a positive integer/],
    [['--seeds', '1,x'], /--seeds: 'x' is not an integer/],
    [['--seeds', '1,1'], /--seeds lists an entry twice/],
    [['--trainers', 'scratch-gd,keras'], /--trainers must be one of scratch-gd, tfjs-sgd, tfjs-adam, scratch-adam, scratch-simd-gd, scratch-simd-adam; got 'keras'/],
    [['--backend', 'gpu'], /--backend must be one of auto, tensorflow, wasm, cpu; got 'gpu'/],
    [['--activation', 'gelu'], /--activation must be one of relu, tanh, sigmoid/],
    [['--preset', 'fast'], /--preset must be one of default, notebook, smoke, deep, deep-smoke/],
    [['--hidden', '0'], /--hidden must be between 1 and 4096/],
    [['--layers', '0'], /--layers must be between 1 and 4096, got 0/],
    [['--layers', 'a'], /--layers must be a positive integer, got 'a'/],
    [['--layers', '400,,100'], /--layers must be a comma-separated list/],
    [['--layers', '10', '--hidden', '10'], /--layers or --hidden, not both/],
    [['--keep', '0'], /--keep: '0' is not a keep probability in \(0, 1\]/],
    [['--keep', '1.5'], /--keep: '1.5' is not a keep probability/],
    [['--keep', 'x'], /--keep: 'x' is not a keep probability/],
    [['--preset', 'deep', '--keep', '0.5'], /--keep lists 1 value for 2 hidden layers \(400,100\)/],
    [['--keep', '0.5,0.5'], /--keep lists 2 values for 1 hidden layer \(10\)/],
    [['--lr-decay=-1'], /--lr-decay must be a finite number ≥ 0/], [['--lr-decay', 'fast'], /--lr-decay must be a finite number ≥ 0/],
    [['--beta1', '1'], /--beta1 must be a number in \[0, 1\)/],
    [['--beta2', 'abc'], /--beta2 must be a number in \[0, 1\)/],
    [['--sweep', 'momentum'], /--sweep must be one of lr/],
    [['--threads', '-2'], /--threads/],
    [['--threads', 'many'], /--threads must be an integer in 0..64, got 'many'/],
    [['--frobnicate'], /Unknown option '--frobnicate' \(see --help\)/],
    [['--lr'], /--lr.*argument missing|argument missing.*--lr|--lr <value>/],
    [['stray'], /positional|Unexpected argument/],
    // numbers in plain decimal only: Number() would read 0x10 as 16, ' 1' as 1, '1e' as NaN
    [['--lr', '0x10'], /--lr must be a finite number > 0, got '0x10'/],
    [['--lr', '1e'], /--lr must be a finite number > 0, got '1e'/],
    [['--lr', 'Infinity'], /--lr must be a finite number > 0, got 'Infinity'/],
    [['--lr', ' 1'], /--lr must be a finite number > 0, got ' 1'/],
    [['--adam-lr', '0b1'], /--adam-lr must be a finite number > 0/],
    [['--lr-decay', '0o7'], /--lr-decay must be a finite number ≥ 0, got '0o7'/],
    [['--beta1', '0x0'], /--beta1 must be a number in \[0, 1\), got '0x0'/],
    [['--keep', '0x1'], /--keep: '0x1' is not a keep probability/],
    [['--epochs', ' 5'], /--epochs must be a positive integer, got ' 5'/],
    [['--epochs', '1e3'], /--epochs must be a positive integer, got '1e3'/],
    [['--threads', ' 0'], /--threads must be an integer in 0..64, got ' 0'/],
    // a flag given twice: an error, not the last one silently
    [['--lr', '0.1', '--lr', '0.2'], /--lr is given more than once/],
    [['--data=a', '--data', 'b'], /--data is given more than once/],
    [['--help', '--help'], /--help is given more than once/],
  ];
  for (const [argv, msg] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      let err: unknown;
      try {
        parseCompareArgs(argv);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('plain decimal numbers still read: 0.05, .5, 5e-3, 1E-5, 1.', () => {
    expect(parseCompareArgs(['--lr', '0.05', '--adam-lr', '.5', '--lr-decay', '5e-3', '--beta1', '1E-5', '--keep', '1.']).plan).toMatchObject({ lr: 0.05, adamLr: 0.5, lrDecay: 0.005, beta1: 1e-5, keep: [1] });
  });

  it('control characters echoed in a message are escaped, so the error stays one line', () => {
    let err: unknown;
    try {
      parseCompareArgs(['--lr', '1\n\u001b[31mred\u0000'])
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe("--lr must be a finite number > 0, got '1\\n\\x1b[31mred\\x00'");
  });
});

describe('the deep preset resolves by whether tfjs runs on the native backend', () => {
  const ALL = ['scratch-gd', 'tfjs-sgd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'];
  const WITHOUT_SGD = ['scratch-gd', 'tfjs-adam', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam'];

  it('native: 3 seeds, tfjs-sgd back in; not native: 1 seed, no tfjs-sgd; the recipe is the same', () => {
    const on = resolvePreset('deep', true), off = resolvePreset('deep', false);
    expect(on.seeds).toEqual([1, 2, 3]);
    expect(on.trainers).toEqual(ALL);
    expect(off.seeds).toEqual([1]);
    expect(off.trainers).toEqual(WITHOUT_SGD);
    // native: the hand-written trainers on 2 worker threads (bit-identical), a curve point every 2 epochs (468 steps of 256)
    expect(on).toMatchObject({ threads: 2, evalEvery: 468 });
    expect(off).toMatchObject({ threads: 0, evalEvery: 234 });
    for (const p of [on, off]) expect(p).toMatchObject({ preset: 'deep', layers: [400, 100], keep: [0.4, 0.5], init: 'he', batch: 256, epochs: 10, adamLr: 0.005, beta1: 0.8 });
    // deterministic, and a copy: changing one resolution changes no other
    on.seeds.push(9);
    expect(resolvePreset('deep', true).seeds).toEqual([1, 2, 3]);
  });

  it('every other preset is the same with and without native', () => {
    for (const name of ['default', 'notebook', 'smoke', 'deep-smoke'] as const) expect(resolvePreset(name, true)).toEqual(resolvePreset(name, false));
  });

  it('through the flags: auto follows the installed package, a forced backend decides alone, --seeds / --trainers still override', () => {
    const seedsOf = (argv: string[], native: boolean) => parseCompareArgs(['--preset', 'deep', ...argv], native).plan;
    expect(seedsOf([], true)).toMatchObject({ seeds: [1, 2, 3], trainers: ALL, backend: 'auto' });
    expect(seedsOf([], false)).toMatchObject({ seeds: [1], trainers: WITHOUT_SGD, backend: 'auto' });
    expect(seedsOf(['--backend', 'wasm'], true)).toMatchObject({ seeds: [1], trainers: WITHOUT_SGD, backend: 'wasm' });
    expect(seedsOf(['--backend', 'tensorflow'], false)).toMatchObject({ seeds: [1, 2, 3], trainers: ALL, backend: 'tensorflow' });
    expect(seedsOf(['--backend', 'tensorflow,wasm'], true).seeds).toEqual([1, 2, 3]);
    expect(seedsOf(['--backend', 'wasm,tensorflow'], true).seeds).toEqual([1]);
    expect(seedsOf(['--seeds', '7'], true).seeds).toEqual([7]);
  });
});

describe('--backend lists', () => {
  it('one backend or auto: no extra trainers', () => {
    expect(parseCompareArgs(['--backend', 'wasm']).plan).toMatchObject({ backend: 'wasm', trainers: PRESETS.default.trainers });
    expect(parseCompareArgs(['--backend', 'auto']).plan).toMatchObject({ backend: 'auto', trainers: PRESETS.default.trainers });
  });

  it('the first backend is the primary one; each tfjs trainer runs on every other, listed right after it', () => {
    const p = parseCompareArgs(['--backend', 'tensorflow,wasm']).plan;
    expect(p.backend).toBe('tensorflow');
    expect(p.trainers).toEqual(['scratch-gd', 'tfjs-sgd', 'tfjs-sgd@wasm', 'tfjs-adam', 'tfjs-adam@wasm', 'scratch-adam', 'scratch-simd-gd', 'scratch-simd-adam']);
    const q = parseCompareArgs(['--backend', 'wasm,cpu,tensorflow', '--trainers', 'tfjs-adam,scratch-gd']).plan;
    expect(q.backend).toBe('wasm');
    expect(q.trainers).toEqual(['tfjs-adam', 'tfjs-adam@cpu', 'tfjs-adam@tensorflow', 'scratch-gd']);
  });

  const bad: [string, RegExp][] = [
    ['tensorflow,,wasm', /^--backend must be a comma-separated list, got 'tensorflow,,wasm'$/],
    ['wasm,', /^--backend must be a comma-separated list/],
    ['wasm,wasm', /^--backend lists an entry twice: 'wasm,wasm'$/],
    ['tensorflow,gpu', /^--backend must be one of auto, tensorflow, wasm, cpu; got 'gpu'$/],
    ['auto,wasm', /^--backend: auto is one choice and cannot be in a list/],
    ['wasm,auto', /^--backend: auto is one choice and cannot be in a list/],
  ];
  for (const [v, re] of bad) {
    it(`--backend ${v}: one UserError line`, () => {
      let err: unknown;
      try {
        parseCompareArgs(['--backend', v]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('a list without any tfjs trainer in the plan is an error', () => {
    expect(() => parseCompareArgs(['--backend', 'tensorflow,wasm', '--trainers', 'scratch-gd'])).toThrow(/no tfjs trainer is in the plan/);
  });

  it('--trainers takes the base names only (the @backend ids come from --backend)', () => {
    expect(() => parseCompareArgs(['--trainers', 'tfjs-sgd@wasm'])).toThrow(UserError);
  });
});

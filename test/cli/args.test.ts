// Flag parsing: every bad flag is one UserError line naming the flag; good flags land in the plan.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { parseCompareArgs } from '../../src/cli/args.ts';
import { PRESETS } from '../../src/harness/plan.ts';

describe('compare flags', () => {
  it('defaults to the default preset and the reports folder', () => {
    const a = parseCompareArgs([]);
    expect(a.plan).toEqual(PRESETS.default);
    expect(a.out).toBe('reports');
  });

  it('the notebook preset is the seed notebook setting', () => {
    const p = parseCompareArgs(['--preset', 'notebook']).plan;
    expect(p).toMatchObject({ batch: 'full', lr: 0.1, epochs: 500, evalEvery: 10, init: 'uniform', hidden: 10 });
  });

  it('flags override the preset', () => {
    const p = parseCompareArgs(['--preset', 'smoke', '--seeds', '4,5', '--trainers', 'scratch-gd,tfjs-adam', '--batch', 'full', '--lr', '0.05', '--adam-lr', '0.01', '--hidden', '32', '--activation', 'tanh', '--backend', 'cpu', '--limit', '100', '--iterations', '7', '--init', 'he']).plan;
    expect(p).toMatchObject({ seeds: [4, 5], trainers: ['scratch-gd', 'tfjs-adam'], batch: 'full', lr: 0.05, adamLr: 0.01, hidden: 32, activation: 'tanh', backend: 'cpu', limit: 100, iterations: 7, init: 'he' });
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
    [['--trainers', 'scratch-gd,keras'], /--trainers must be one of scratch-gd, tfjs-sgd, tfjs-adam, scratch-adam; got 'keras'/],
    [['--backend', 'gpu'], /--backend must be one of auto, tensorflow, wasm, cpu; got 'gpu'/],
    [['--activation', 'gelu'], /--activation must be one of relu, tanh, sigmoid/],
    [['--preset', 'fast'], /--preset must be one of default, notebook, smoke/],
    [['--hidden', '0'], /--hidden must be between 1 and 4096/],
    [['--sweep', 'momentum'], /--sweep must be one of lr/],
    [['--threads', '-2'], /--threads/],
    [['--threads', 'many'], /--threads must be a positive integer/],
    [['--frobnicate'], /Unknown option '--frobnicate' \(see --help\)/],
    [['--lr'], /--lr.*argument missing|argument missing.*--lr|--lr <value>/],
    [['stray'], /positional|Unexpected argument/],
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
});

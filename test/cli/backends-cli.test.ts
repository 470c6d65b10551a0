// `npm run compare -- --backend tensorflow,wasm`: tfjs on two backends side by side in one run, each run
// bit-identical to the same trainer in a run on that backend alone, and the report naming each row's backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Results, Run } from '../../src/results/results.ts';
import { nativeMissing } from '../tfjs/native.ts';
import { cli, expectOneError, tmpDirs } from './run-cli.ts';

const { tmp, cleanup } = tmpDirs('mnist-duel-backends-');
afterAll(cleanup);

// short: 40 steps of batch 10 on the smoke preset's 2,000 images
const SMOKE = ['--preset', 'smoke', '--iterations', '40', '--eval-every', '10', '--trainers', 'scratch-gd,tfjs-sgd,tfjs-adam'];

async function compare(backend: string): Promise<{ results: Results; md: string }> {
  const out = join(tmp(), 'reports');
  const r = await cli('src/cli/compare.ts', [...SMOKE, '--backend', backend, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  return { results: JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')), md: readFileSync(join(out, 'compare.md'), 'utf8') };
}

/** What must be identical for the same seed and backend: everything but the timing. */
const noTiming = ({ timing: _, ...rest }: Run) => rest;
const runOf = (r: Results, trainer: string) => r.runs.find((x) => x.trainer === trainer)!;

describe('compare CLI with more than one tfjs backend', () => {
  it('a bad --backend list is one error line before anything loads', async () => {
    const out = join(tmp(), 'reports');
    for (const [v, msg] of [['auto,wasm', 'auto is one choice'], ['wasm,wasm', 'lists an entry twice'], ['wasm,gpu', "got 'gpu'"], ['wasm,,cpu', 'comma-separated list']]) {
      expectOneError(await cli('src/cli/compare.ts', [...SMOKE, '--backend', v, '--out', out]), msg);
    }
  });

  it.skipIf(nativeMissing != null)(
    `tensorflow,wasm: each tfjs run bit-identical to a single-backend run, the report names each row's backend${nativeMissing != null ? ` (skipped: native backend absent: ${nativeMissing})` : ''}`,
    async () => {
      const both = await compare('tensorflow,wasm');
      const native = await compare('tensorflow');
      const wasm = await compare('wasm');
      const r = both.results;
      expect(r.plan.backend).toBe('tensorflow');
      expect(r.plan.trainers).toEqual(['scratch-gd', 'tfjs-sgd', 'tfjs-sgd@wasm', 'tfjs-adam', 'tfjs-adam@wasm']);
      expect(r.environment.tfjs?.name).toBe('tensorflow');
      // each tfjs run records where it ran; the hand-written one records nothing
      expect(Object.fromEntries(r.runs.map((x) => [x.trainer, x.backend ?? null]))).toEqual({
        'scratch-gd': null, 'tfjs-sgd': 'tensorflow', 'tfjs-sgd@wasm': 'wasm', 'tfjs-adam': 'tensorflow', 'tfjs-adam@wasm': 'wasm',
      });
      // same seed, same backend → bit-identical, whatever else ran in the process
      for (const t of ['tfjs-sgd', 'tfjs-adam', 'scratch-gd']) expect(noTiming(runOf(r, t))).toEqual(noTiming(runOf(native.results, t)));
      for (const t of ['tfjs-sgd', 'tfjs-adam']) {
        const { trainer: _a, ...w } = noTiming(runOf(r, `${t}@wasm`));
        const { trainer: _b, ...alone } = noTiming(runOf(wasm.results, t));
        expect(w).toEqual(alone);
      }
      // the gradient checks run tfjs on the primary backend: the same numbers as the native-only run
      expect(r.agreement.length).toBeGreaterThan(0);
      expect(r.agreement).toEqual(native.results.agreement);
      // the drift of scratch-gd against tfjs on each backend
      expect(r.drift.map((d) => d.pair)).toEqual([['scratch-gd', 'tfjs-sgd'], ['scratch-gd', 'tfjs-sgd@wasm']]);

      const md = both.md;
      expect(md).toMatch(/^\| trainers \| scratch-gd, tfjs-sgd \(tensorflow\), tfjs-sgd@wasm \(wasm\), tfjs-adam \(tensorflow\), tfjs-adam@wasm \(wasm\) \|$/m);
      expect(md).toMatch(/^\| tfjs backend \| tensorflow \(tfjs [\d.]+, TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1\): tfjs-sgd, tfjs-adam and the gradient checks; also wasm \(tfjs-sgd@wasm, tfjs-adam@wasm\) \|$/m);
      for (const [t, b] of [['tfjs-sgd', 'tensorflow'], ['tfjs-sgd@wasm', 'wasm'], ['tfjs-adam', 'tensorflow'], ['tfjs-adam@wasm', 'wasm']]) {
        expect(md).toMatch(new RegExp(`^\\| ${t} \\| calling thread, ${b} \\|`, 'm'));
      }
      expect(md).toMatch(/scratch-gd runs at \*\*[\d.]+×\*\* the samples\/s of tfjs-sgd on tensorflow; scratch-gd runs at \*\*[\d.]+×\*\* the samples\/s of tfjs-sgd@wasm on wasm/);
      expect(md).toContain('tfjs (on tensorflow) and float64');
      // a single-backend report names its backend too
      expect(wasm.md).toMatch(/^\| tfjs-sgd \| calling thread, wasm \|/m);
    },
    300_000,
  );
});

// The bench's derived columns, summary and goals on synthetic rows: a goal passes, fails, or is "not
// measured" when a row it needs is missing (never a pass). Figures are made up; the expected ratios are
// computed here by hand from them.
import { describe, expect, it } from 'vitest';
import { coresOf, deriveRows, goals, summary, type BenchRow, type RefRun } from '../../bench/report.ts';
import type { Measurement } from '../../bench/measure.ts';
import type { RefRow } from '../../bench/pyref.ts';
import type { TaskSpec } from '../../bench/suites.ts';

const D = '784-400-100-10';

/** A task of m samples per call whose median call takes `ms`. */
function task(id: string, t: Partial<TaskSpec> & Pick<TaskSpec, 'suite' | 'impl' | 'backend' | 'threads' | 'size' | 'm'>, ms: number): [TaskSpec, Measurement] {
  const spec: TaskSpec = { id, net: t.net ?? 'deep', dropout: false, flops: 1e6, weight: 'light', async: false, fn: () => undefined, ...t };
  return [spec, { id, samples: [ms, ms, ms], perRoundMedianMs: [ms], medianMs: ms, p25Ms: ms, p75Ms: ms, meanMs: ms, rme: 0 }];
}
function ref(what: 'step' | 'forward', impl: string, size: string, m: number, ms: number, keep: number[] | null = null, layers = [784, 400, 100, 10]): RefRow {
  return { id: `${what}${keep ? ' + dropout' : ''} · ${impl} · ${layers.join('-')} · ${size}`, impl, layers, what, size, keep, m, batches: 1, n: 3, medianMs: ms, p25Ms: ms, p75Ms: ms, perRoundMedianMs: [ms], samplesPerSec: (m * 1000) / ms, samples: [ms, ms, ms], finite: true, lastLoss: 1 };
}

/**
 * The deep step at batch 256 (samples/s = 256,000 / ms):
 *   scratch-simd-gd one core 5 ms (51,200/s), with dropout 4 ms (64,000/s), 2 workers 2.5 ms (102,400/s);
 *   numpy 1 thread 5 ms; torch 1 thread 8 ms, with dropout 8 ms; torch 2 threads 2 ms;
 *   tfjs-node 1 thread with dropout 10 ms.
 */
function world(opts: { torch: boolean; native: boolean }) {
  const pairs = [
    task('simd 1', { suite: 'step', net: 'deep', impl: 'scratch-simd-gd', backend: 'wasm-simd', threads: 0, size: '256', m: 256 }, 5),
    task('simd 1 drop', { suite: 'step', net: 'deep', dropout: true, impl: 'scratch-simd-gd', backend: 'wasm-simd', threads: 0, size: '256', m: 256 }, 4),
    task('simd 2', { suite: 'step', net: 'deep', impl: 'scratch-simd-gd', backend: 'wasm-simd', threads: 2, size: '256', m: 256 }, 2.5),
    ...(opts.native ? [task('node 1 drop', { suite: 'step', net: 'deep', dropout: true, impl: 'tfjs-sgd', backend: 'tensorflow', threads: 1, size: '256', m: 256, ranOn: 'tensorflow, 1 thread (child process)' }, 10)] : []),
  ];
  const tasks = pairs.map((p) => p[0]);
  const ms = new Map(pairs.map((p) => [p[1].id, p[1]]));
  const refs: RefRun[] = [{ backend: 'numpy', threads: 1, rows: [ref('step', 'numpy-sgd', '256', 256, 5)] }];
  if (opts.torch) {
    refs.push({ backend: 'torch', threads: 1, rows: [ref('step', 'torch-sgd', '256', 256, 8), ref('step', 'torch-sgd', '256', 256, 8, [0.4, 0.5])] });
    refs.push({ backend: 'torch', threads: 2, rows: [ref('step', 'torch-sgd', '256', 256, 2)] });
  }
  return deriveRows(tasks, ms, new Map(), refs).rows;
}
const goal = (rows: BenchRow[], what: string) => {
  const g = goals(rows).filter((x) => x.what.includes(what));
  expect(g, what).toHaveLength(1);
  return g[0];
};

describe('bench ratios on the same number of cores', () => {
  it('cores: scratch on its own worker thread 1, on N workers N; numpy, PyTorch, tfjs-node their threads; tfjs-wasm 1', () => {
    expect([coresOf({ backend: 'wasm-simd', threads: 0 }), coresOf({ backend: 'js', threads: 2 }), coresOf({ backend: 'torch', threads: 2 }), coresOf({ backend: 'tensorflow', threads: 1 }), coresOf({ backend: 'wasm', threads: 0 })]).toEqual([1, 2, 2, 1, 1]);
  });

  it('× numpy, × torch, × tfjs-node are against the opponent on as many cores, with the same dropout', () => {
    const rows = world({ torch: true, native: true });
    const by = (id: string) => rows.find((r) => r.id === id)!;
    expect(by('simd 1').vsNumpy).toBeCloseTo(1, 12); // 5 ms vs 5 ms
    expect(by('simd 1').vsTorch).toBeCloseTo(8 / 5, 12);
    expect(by('simd 1 drop').vsTorch).toBeCloseTo(8 / 4, 12);
    expect(by('simd 1 drop').vsNumpy).toBeNull(); // numpy has no dropout row
    expect(by('simd 1 drop').vsTfjsNode).toBeCloseTo(10 / 4, 12);
    expect(by('simd 2').vsTorch).toBeCloseTo(2 / 2.5, 12); // torch on 2 threads, not 1
    expect(by('simd 2').vsNumpy).toBeNull(); // no 2-thread numpy row here
    const t2 = rows.find((r) => r.backend === 'torch' && r.threads === 2)!;
    expect([t2.ranOn, t2.cores, t2.id]).toEqual(['python (torch), 2 threads', 2, 'step · torch-sgd · 784-400-100-10 · 256 · 2 threads']);
    expect(by('node 1 drop').ranOn).toBe('tensorflow, 1 thread (child process)');
  });

  it('the summary gives each implementation on one core and on two', () => {
    const s = summary(world({ torch: true, native: true }));
    const cell = (impl: string, config: string) => s.rows.find((r) => r.impl === impl)!.cells.find((c) => c.config === config)!;
    expect(cell('scratch-simd-gd', '784-400-100-10 step, batch 256')).toEqual({ config: '784-400-100-10 step, batch 256', oneCore: 51_200, twoCores: 102_400 });
    expect(cell('torch-sgd', '784-400-100-10 step, batch 256')).toMatchObject({ oneCore: 32_000, twoCores: 128_000 });
    expect(cell('tfjs-sgd (tensorflow)', '784-400-100-10 step, batch 256, dropout')).toMatchObject({ oneCore: 25_600, twoCores: null });
    expect(cell('numpy-sgd', '784-10-10 step, batch 64')).toMatchObject({ oneCore: null, twoCores: null });
  });
});

describe('bench goals: pass, fail, not measured', () => {
  it('pass and fail against the thresholds', () => {
    const rows = world({ torch: true, native: true });
    // 1.0× numpy: passes at exactly 1
    expect(goal(rows, `${D} step at batch 256, one core each, vs numpy`)).toMatchObject({ pass: true, target: '≥ 1×' });
    // 1.6× torch ≥ 1.2: pass
    expect(goal(rows, `${D} step at batch 256, one core each, vs PyTorch (1 thread)`)).toMatchObject({ pass: true });
    // with dropout 2.0× torch ≥ 1.5, 2.5× tfjs-node ≥ 1.5: pass
    expect(goal(rows, 'vs PyTorch with dropout (1 thread)').value).toBeCloseTo(2, 12);
    expect(goal(rows, 'vs tfjs-node SGD with dropout (1 TensorFlow thread)')).toMatchObject({ pass: true });
    // 2 workers: 2.0× its own one-core row ≥ 1.7 passes; 0.8× torch on 2 threads < 1 fails
    expect(goal(rows, `${D} step at batch 256 vs its own one-core row`)).toMatchObject({ pass: true });
    const g = goal(rows, `${D} step at batch 256 vs PyTorch (2 threads)`);
    expect(g.value).toBeCloseTo(0.8, 12);
    expect(g.pass).toBe(false);
  });

  it('a goal whose opponent was not timed (no PyTorch, no tfjs-node) is not measured, never a pass', () => {
    const rows = world({ torch: false, native: false });
    for (const what of ['vs PyTorch (1 thread)', 'vs PyTorch with dropout', 'vs tfjs-node SGD with dropout', 'vs PyTorch (2 threads)', 'forward at batch 256 vs numpy']) {
      expect(goal(rows, what), what).toMatchObject({ value: null, pass: null });
    }
    expect(goal(rows, `${D} step at batch 256, one core each, vs numpy`).pass).toBe(true); // numpy is there
  });

  it('the existing goals stay', () => {
    const whats = goals([]).map((g) => g.what);
    expect(whats).toContain('scratch-simd-gd (2 worker threads: both cores): 784-10-10 full-batch iteration vs numpy (1 BLAS thread), samples/s');
    expect(whats.filter((w) => w.startsWith('scratch-gd (own worker thread)'))).toHaveLength(4);
    expect(goals([]).every((g) => g.pass === null)).toBe(true);
  });
});

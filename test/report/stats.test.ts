// The report's statistics and charts, on hand-made results whose answers are known: paired differences
// with Student-t intervals, verdicts that name a winner only when the interval excludes 0, twin lines
// merged only when they coincide, a numeric step axis, galleries that fit the page.
import { describe, expect, it } from 'vitest';
import { meanCi95, t95 } from '../../src/core/metrics.ts';
import type { TrainerId } from '../../src/results/trainers.ts';
import type { Results, Run } from '../../src/results/results.ts';
import { chartSeries, pairedText, renderCompare } from '../../src/report/markdown.ts';
import { paired, speedRatio } from '../../src/report/stats.ts';

/** A minimal results object: per trainer, the final test accuracy per seed and a flat curve. */
function fake(acc: Partial<Record<TrainerId, number[]>>, opts: { sps?: Partial<Record<TrainerId, number[]>>; curve?: Partial<Record<TrainerId, number[]>> } = {}): Results {
  const trainers = Object.keys(acc) as TrainerId[];
  const seeds = acc[trainers[0]]!.map((_, i) => i + 1);
  const runs: Run[] = trainers.flatMap((t) =>
    seeds.map((seed, i) => ({
      trainer: t,
      seed,
      lr: 0.1,
      status: 'ok' as const,
      stepsDone: 100,
      curve: (opts.curve?.[t] ?? [0.1, 0.5, 0.8, 0.85, 0.9]).map((v, k) => ({ step: k * 25, epoch: k, loss: 1 - v, trainAcc: v, testAcc: v })),
      final: { trainAcc: acc[t]![i], testAcc: acc[t]![i] },
      confusion: Array.from({ length: 10 }, () => new Array(10).fill(1)),
      timing: { ranOn: 'calling thread', warmupSteps: 5, totalMs: 1000, stepMedianMs: 1, stepP25Ms: 1, stepP75Ms: 1, samplesPerSec: opts.sps?.[t]?.[i] ?? 1000 },
    })),
  );
  return {
    schema: 'mnist-duel/results',
    version: 2,
    plan: { preset: 'default', seeds, trainers, batch: 64, epochs: 1, lr: 0.1, adamLr: 0.001, lrDecay: 0, beta1: 0.9, beta2: 0.999, layers: [10], keep: [1], activation: 'relu', init: 'uniform', backend: 'cpu', evalEvery: 25, probe: 10, agreementPoints: 0, threads: 0, steps: 100, stepsPerEpoch: 100, batchSize: 64, sizes: [784, 10, 10] },
    tensors: ['W1', 'b1', 'W2', 'b2'],
    dataset: { name: 'x', source: 'x', train: 6400, test: 1000, curveTrainSamples: 1000 },
    environment: { node: 'v20', os: 'linux', cpu: 'cpu', cores: 2, tfjs: null, commit: null, command: 'test', date: '2026-01-01' },
    thresholds: { relL2: 1e-5, maxAbsRel: 1e-5, cosineMin: 1 - 1e-6, divergenceLoss: 100 },
    runs,
    agreement: [],
    drift: [],
    gallery: { seed: 1, indices: [], labels: [] },
  };
}

describe('paired statistics', () => {
  it('t95 is Student t (spot values from the table) and the interval is mean ± t·sd/√n', () => {
    expect(t95(1)).toBeCloseTo(12.706, 3);
    expect(t95(2)).toBeCloseTo(4.303, 3);
    expect(t95(9)).toBeCloseTo(2.262, 3);
    const { mean, sd, ci } = meanCi95([0.01, 0.02, 0.03]);
    expect(mean).toBeCloseTo(0.02, 12);
    expect(sd).toBeCloseTo(0.01, 12);
    expect(ci![0]).toBeCloseTo(0.02 - (4.303 * 0.01) / Math.sqrt(3), 6);
    expect(meanCi95([0.5]).ci).toBeNull();
  });

  it('a spread-out difference is "no detectable difference"; a consistent one names the winner', () => {
    const r = fake({ 'scratch-adam': [0.93, 0.93, 0.93], 'scratch-gd': [0.92, 0.91, 0.9] });
    const p = paired(r, 'scratch-adam', 'scratch-gd');
    expect(p.diffs.map((d) => Number(d.toFixed(6)))).toEqual([0.01, 0.02, 0.03]);
    expect(p.verdict).toBe('no detectable difference'); // CI [−0.48, +4.48] points
    expect(pairedText(p)).toMatch(/\+2\.00 pt, 95% CI \[−0\.48, \+4\.48\] over 3 seeds: no detectable difference/);
    const q = paired(fake({ 'scratch-adam': [0.93, 0.931, 0.932], 'scratch-gd': [0.92, 0.92, 0.92] }), 'scratch-adam', 'scratch-gd');
    expect(q.verdict).toBe('a');
    expect(paired(fake({ 'scratch-adam': [0.92, 0.92, 0.92], 'scratch-gd': [0.93, 0.931, 0.932] }), 'scratch-adam', 'scratch-gd').verdict).toBe('b');
  });

  it('identical results are called identical; one seed has no interval', () => {
    expect(paired(fake({ 'scratch-gd': [0.9, 0.8], 'tfjs-sgd': [0.9, 0.8] }), 'scratch-gd', 'tfjs-sgd').verdict).toBe('identical');
    const one = paired(fake({ 'scratch-gd': [0.9], 'tfjs-sgd': [0.8] }), 'scratch-gd', 'tfjs-sgd');
    expect(one.verdict).toBe('one seed');
    expect(one.ci).toBeNull();
    expect(pairedText(one)).toMatch(/no interval exists/);
  });

  it('the verdict never calls a tie a win', () => {
    // the committed report's case: the Adam twins tie at the top, the GD twins tie below, gaps within noise
    const md = renderCompare(fake({ 'scratch-gd': [0.9193, 0.921, 0.9175], 'tfjs-sgd': [0.9193, 0.921, 0.9175], 'tfjs-adam': [0.9216, 0.9195, 0.925], 'scratch-adam': [0.9216, 0.9195, 0.925] }));
    const verdict = md.slice(md.indexOf('## Verdict'), md.indexOf('## Plan'));
    expect(verdict).not.toMatch(/wins/);
    expect(verdict).toMatch(/No winner is named/);
    expect(verdict).toMatch(/vs (tfjs|scratch)-adam it is identical on every seed/);
    expect(verdict).toMatch(/What Adam buys over gradient descent\*\* \(scratch-adam − scratch-gd, paired by seed\): \+[0-9.]+ pt, 95% CI \[−[0-9.]+, \+[0-9.]+\] over 3 seeds: no detectable difference/);
    // a clear winner is named
    const md2 = renderCompare(fake({ 'scratch-gd': [0.90, 0.905, 0.91], 'scratch-adam': [0.93, 0.934, 0.941] }));
    expect(md2).toMatch(/Most accurate: scratch-adam\*\*, ahead of every other trainer/);
  });

  it('the speed verdict compares hand-written with tfjs, as per-seed ratios', () => {
    const r = fake({ 'scratch-gd': [0.9, 0.9], 'tfjs-sgd': [0.9, 0.9] }, { sps: { 'scratch-gd': [3000, 2000], 'tfjs-sgd': [1000, 1000] } });
    const q = speedRatio(r, 'scratch-gd', 'tfjs-sgd')!;
    expect(q.ratios).toEqual([3, 2]);
    expect(renderCompare(r)).toMatch(/scratch-gd runs at \*\*2\.50×\*\* the samples\/s of tfjs-sgd \(per seed 2\.00–3\.00×\)/);
  });
});

describe('charts', () => {
  it('twins whose curves coincide are one line, with a note; twins that differ keep two lines', () => {
    const same = fake({ 'scratch-gd': [0.9], 'tfjs-sgd': [0.9], 'scratch-adam': [0.95], 'tfjs-adam': [0.95] }, { curve: { 'scratch-adam': [0.1, 0.6, 0.85, 0.9, 0.95], 'tfjs-adam': [0.1, 0.6, 0.85, 0.9, 0.9502] } });
    const s = chartSeries(same, 'testAcc');
    expect(s.series.map((x) => x.label)).toEqual(['scratch-gd = tfjs-sgd', 'scratch-adam', 'tfjs-adam']);
    expect(s.apart.map((x) => x.maxDiff)[0]).toBeCloseTo(0.0002, 10);
    const md = renderCompare(same);
    expect(md).toMatch(/scratch-gd and tfjs-sgd coincide .* one line is drawn for both/);
    expect(md).toContain('x-axis "step" 0 --> 100');
    // every line of a chart has one value per axis point, the points at steps 0, 25, 50, 75, 100 (the close-up:
    // 50, 75, 100); written out here from the curves above: loss = 1 − accuracy to 4 decimals, accuracy % to 2
    const charts = md.split('```mermaid').slice(1).map((c) => c.slice(0, c.indexOf('```')));
    const axis = (c: string) => c.match(/x-axis "step" (\d+) --> (\d+)/)!.slice(1).map(Number);
    const lines = (c: string) => c.split('\n').filter((l) => l.startsWith('  line [')).map((l) => l.slice('  line ['.length, -1).split(', '));
    expect(charts.map(axis)).toEqual([[0, 100], [0, 100], [50, 100]]);
    expect(charts.map(lines)).toEqual([
      [
        ['0.9000', '0.5000', '0.2000', '0.1500', '0.1000'], // scratch-gd = tfjs-sgd
        ['0.9000', '0.4000', '0.1500', '0.1000', '0.0500'], // scratch-adam
        ['0.9000', '0.4000', '0.1500', '0.1000', '0.0498'], // tfjs-adam
      ],
      [
        ['10.00', '50.00', '80.00', '85.00', '90.00'],
        ['10.00', '60.00', '85.00', '90.00', '95.00'],
        ['10.00', '60.00', '85.00', '90.00', '95.02'],
      ],
      [
        ['80.00', '85.00', '90.00'],
        ['85.00', '90.00', '95.00'],
        ['85.00', '90.00', '95.02'],
      ],
    ]);
  });

  it('a short last interval is left off the numeric axis (and said so)', () => {
    const r = fake({ 'scratch-gd': [0.9] });
    r.runs[0].curve[4].step = 80; // points at 0, 25, 50, 75, 80
    const md = renderCompare(r);
    expect(md).toContain('x-axis "step" 0 --> 75');
    expect(md).toMatch(/last point \(step 80\)/);
  });
});

describe('gallery', () => {
  it('no table has more than 8 images, so each fits a 980 px column', () => {
    const r = fake({ 'scratch-gd': [0.9] });
    r.gallery = { seed: 1, indices: Array.from({ length: 16 }, (_, i) => i), labels: Array.from({ length: 16 }, (_, i) => i % 10) };
    r.runs[0].gallery = { predictions: r.gallery.labels.map((l) => (l + 1) % 10), wrong: Array.from({ length: 16 }, (_, i) => ({ index: 100 + i, label: 1, pred: 2, confidence: 0.9 })) };
    const md = renderCompare(r);
    const rows = md.split('\n').filter((l) => l.startsWith('| test image |'));
    expect(rows.length).toBe(4);
    for (const row of rows) expect(row.match(/<img /g)!.length).toBeLessThanOrEqual(8);
    expect(md.match(/<img /g)!.length).toBe(32);
  });
});

/**
 * Results JSON → the compare report in markdown. Knows nothing about training: every number printed here
 * is read from (or averaged from) the results, formatted by the helpers below.
 */
import { meanSd, perClassAccuracy } from '../core/metrics.ts';
import { isTfjsTrainer, speedPairsOf, trainerBackend, twinsOf, type TrainerId } from '../results/trainers.ts';
import { AGREEMENT_PAIRS, type Results, type TensorAgreement } from '../results/results.ts';
import { gallerySection } from './gallery.ts';
import { allPairs, bestTrainer, meanCurve, okRuns, paired, pairedValues, speedRatio, summary, type Paired } from './stats.ts';

// ---- formatting (exported so tests can check the markdown against the JSON) ----
export const pct = (x: number): string => (100 * x).toFixed(2);
export const sci = (x: number): string => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(2) : String(x));
export const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
export const rate = (x: number): string => Math.round(x).toLocaleString('en-US');
/** a learning rate without float noise: 0.1 × 3 prints as 0.3 */
export const lrf = (x: number): string => String(Number(x.toPrecision(6)));
export const pm = (xs: number[], f: (x: number) => string): string => {
  if (xs.length === 0) return '—';
  const { mean, sd } = meanSd(xs);
  return xs.length > 1 ? `${f(mean)} ± ${f(sd)}` : f(mean);
};

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const COLOR_NAMES = ['blue', 'orange', 'green', 'red', 'purple', 'brown', 'pink', 'grey', 'olive', 'cyan'];

/**
 * The tfjs backend a trainer's runs used: what the runs record, else what its id names (tfjs-sgd@wasm), else
 * the primary backend (results written before runs recorded it). null for the hand-written trainers.
 */
export function backendOf(r: Results, t: TrainerId): string | null {
  if (!isTfjsTrainer(t)) return null;
  return r.runs.find((x) => x.trainer === t && x.backend)?.backend ?? trainerBackend(t) ?? r.environment.tfjs?.name ?? null;
}

/** A markdown table; `|` inside a cell is escaped. Default alignment: first column left, the rest right. */
export function table(head: string[], rows: string[][], align?: string[]): string {
  const al = align ?? head.map((_, i) => (i === 0 ? ':--' : '--:'));
  const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [row(head), `| ${al.join(' | ')} |`, ...rows.map(row)].join('\n');
}

/** a difference in accuracy, in percentage points with a sign: +0.23 */
export const pts = (x: number): string => (x === 0 ? '0.00' : `${x > 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`);
export const ciText = (ci: [number, number]): string => `[${pts(ci[0])}, ${pts(ci[1])}]`;
const seedsText = (n: number) => `${n} seed${n === 1 ? '' : 's'}`;

/** One paired comparison in words: the mean difference, its interval, and what it allows one to say. */
export function pairedText(p: Paired): string {
  const n = p.seeds.length;
  if (p.verdict === 'identical') return `identical on every seed (${seedsText(n)})`;
  const d = `${pts(p.mean)} pt`;
  if (p.verdict === 'one seed') return `${d} on the one seed (with one seed no interval exists, so no difference can be claimed)`;
  const ci = `95% CI ${ciText(p.ci!)} over ${seedsText(n)}`;
  if (p.verdict === 'no detectable difference') return `${d}, ${ci}: no detectable difference`;
  return `${d}, ${ci}: **${p.verdict === 'a' ? p.a : p.b}** is more accurate`;
}

function verdict(r: Results): string {
  const s = summary(r);
  const lines: string[] = [];
  const n = r.plan.seeds.length;
  const finished = s.filter((x) => x.test.length > 0).sort((a, b) => meanSd(b.test).mean - meanSd(a.test).mean);
  if (finished.length === 0) lines.push('- **Test accuracy:** no trainer finished.');
  else {
    lines.push(`- **Test accuracy** (mean over ${seedsText(n)}): ${finished.map((x) => `${x.trainer} ${pct(meanSd(x.test).mean)}%`).join(', ')}.`);
    const best = finished[0].trainer;
    const vs = finished.slice(1).map((x) => paired(r, best, x.trainer));
    if (vs.length > 0) {
      if (vs.every((p) => p.verdict === 'a')) {
        const closest = vs.reduce((x, y) => (y.ci![0] < x.ci![0] ? y : x));
        lines.push(`- **Most accurate: ${best}**, ahead of every other trainer with a 95% interval that excludes 0 (closest: ${closest.b}, ${pairedText(closest)}).`);
      } else if (n === 1) {
        lines.push(`- **No winner is named:** with one seed there is no confidence interval. ${best} has the highest accuracy; ${vs.map((p) => (p.verdict === 'identical' ? `${p.b} is identical` : `${p.b} is ${Math.abs(100 * p.mean).toFixed(2)} pt behind`)).join(', ')}.`);
      } else {
        const open = vs.filter((p) => p.verdict !== 'a');
        lines.push(`- **No winner is named:** ${best} has the highest mean, but vs ${open.map((p) => `${p.b} it is ${pairedText(p)}`).join('; vs ')}.`);
      }
    }
    const ask = (a: TrainerId, b: TrainerId, what: string) => {
      if (!finished.some((x) => x.trainer === a) || !finished.some((x) => x.trainer === b)) return;
      lines.push(`- **${what}** (${a} − ${b}, paired by seed): ${pairedText(paired(r, a, b))}.`);
    };
    ask('scratch-adam', 'scratch-gd', 'What Adam buys over gradient descent');
    ask('tfjs-adam', 'tfjs-sgd', 'The same in tfjs');
  }
  const speed = speedPairsOf(r.plan.trainers).map(([a, b]) => ({ a, b, q: speedRatio(r, a, b) })).filter((x) => x.q !== null);
  if (speed.length > 0) {
    const be = [...new Set(speed.map((x) => backendOf(r, x.b) ?? 'no backend'))].join(' and ');
    const where = [...new Set(speed.map((x) => r.runs.find((y) => y.trainer === x.a)?.timing.ranOn))].map((w) => (w === 'own worker thread' ? 'in a worker thread of their own' : `on ${w === 'calling thread' ? 'the calling thread' : w}`)).join(', ');
    const parts = speed.map(({ a, b, q }) => `${a} runs at **${q!.mean.toFixed(2)}×** the samples/s of ${b}${backendOf(r, b) ? ` on ${backendOf(r, b)}` : ''}` + (q!.ratios.length > 1 ? ` (per seed ${q!.min.toFixed(2)}–${q!.max.toFixed(2)}×)` : ''));
    lines.push(`- **Speed, hand-written vs tfjs on ${be}:** ${parts.join('; ')}. The hand-written trainers ran ${where}, tfjs on the calling thread; see Timing.`);
  }
  if (r.agreement.length > 0) {
    const worst = Math.max(...r.agreement.flatMap((a) => a.tensors.map((t) => t.scratchVsTfjs.relL2)));
    const failed = r.agreement.filter((a) => !a.pass).length;
    lines.push(
      failed === 0
        ? `- **Gradients:** scratch, scratch-simd, tfjs (on ${r.environment.tfjs?.name ?? 'no backend'}) and float64 **agree** at all ${r.agreement.length} checkpoints, every tensor within the thresholds (worst scratch vs tfjs relative L2 ${sci(worst)}).`
        : `- **Gradients:** **DISAGREE** at ${failed} of ${r.agreement.length} checkpoints (worst relative L2 ${sci(worst)}); see below.`,
    );
  }
  if (r.submission) {
    const k = r.submission;
    lines.push(`- **Kaggle submission:** \`${k.file}\`, ${k.images.toLocaleString('en-US')} images from ${k.source}, predicted by **${k.trainer}** trained with seed ${k.seed}: the most accurate run (${pct(k.testAcc)}% on the ${r.dataset.test.toLocaleString('en-US')} test images).`);
  }
  for (const x of s) for (const d of x.diverged) lines.push(`- **${d.trainer} diverged** at step ${d.diverged!.step} (seed ${d.seed}, learning rate ${lrf(d.lr)}, loss ${d.diverged!.loss}).`);
  return lines.join('\n');
}

/** Every pair of trainers: per-seed differences in final test accuracy, their mean and 95% interval. */
function pairsTable(r: Results): string {
  const ps = allPairs(r);
  if (ps.length === 0) return '';
  return [
    `Paired differences in final test accuracy, in percentage points (same initial weights and batches per seed, so each seed gives one difference; 95% interval: Student t on n − 1 degrees of freedom). A winner is named only where the interval excludes 0.`,
    '',
    table(
      ['a − b', 'per seed', 'mean', '95% CI', 'verdict'],
      ps.map((p) => [
        `${p.a} − ${p.b}`,
        p.diffs.map(pts).join(', '),
        pts(p.mean),
        p.ci ? ciText(p.ci) : '—',
        p.verdict === 'a' ? `${p.a} more accurate` : p.verdict === 'b' ? `${p.b} more accurate` : p.verdict === 'one seed' ? 'one seed: no interval' : p.verdict,
      ]),
    ),
  ].join('\n');
}

function planSection(r: Results): string {
  const p = r.plan, e = r.environment;
  const tf = e.tfjs ? `${e.tfjs.name} (tfjs ${e.tfjs.tfjsVersion}${e.tfjs.name === 'wasm' ? `, SIMD ${e.tfjs.simd ? 'on' : 'off'}, threads ${e.tfjs.threads ? 'on' : 'off'}` : ''}${e.tfjs.tfThreads ? `, ${e.tfjs.tfThreads}` : ''})` : 'none';
  const batch = p.batch === 'full' ? `full (${p.batchSize})` : String(p.batch);
  return table(
    ['', ''],
    [
      ['preset', p.preset],
      ['data', `${r.dataset.source}: ${r.dataset.train.toLocaleString('en-US')} train / ${r.dataset.test.toLocaleString('en-US')} test images`],
      ['network', `${p.sizes.map((n, i) => (i === 0 || i === p.sizes.length - 1 ? String(n) : `${n} ${p.activation}`)).join(' → ')} softmax, ${p.init} init`],
      ['dropout', p.keep.some((k) => k < 1) ? `keep ${p.keep.join(' / ')} on the hidden layers (inverted; the same seeded masks for every trainer)` : 'none'],
      ['schedule', `batch ${batch}, ${p.steps} steps (${p.stepsPerEpoch} per epoch), curve point every ${p.evalEvery} steps`],
      ['learning rates', `GD/SGD α = ${p.lr}; Adam α = ${p.adamLr} (β1 ${p.beta1}, β2 ${p.beta2}, ε 1e-7)${p.lrDecay > 0 ? `; decay α0/(1 + ${p.lrDecay}·epoch)` : ''}`],
      ['seeds', p.seeds.join(', ') + (p.preset === 'deep' ? ' (the deep preset runs 3 seeds and every trainer, the hand-written ones on 2 worker threads, when tfjs runs on the native backend; else 1 seed without tfjs-sgd; flags may change either)' : '')],
      ['trainers', p.trainers.map((t) => (isTfjsTrainer(t) ? `${t} (${backendOf(r, t) ?? 'no backend'})` : t)).join(', ')],
      ['scratch threads', (() => {
        const where = [...new Set(r.runs.filter((x) => x.trainer.startsWith('scratch-')).map((x) => x.timing.ranOn))].join(', ') || 'none ran';
        return p.threads > 0 ? `${p.threads} worker thread${p.threads > 1 ? 's' : ''} per hand-written trainer (bit-identical to none); ran on: ${where}` : `none (the hand-written trainers ran on: ${where})`;
      })()],
      ['tfjs backend', tf + (() => {
        const others = [...new Set(p.trainers.map(trainerBackend).filter((b) => b !== null))];
        return others.length > 0 ? `: tfjs-sgd, tfjs-adam and the gradient checks; also ${others.join(', ')} (${p.trainers.filter((t) => trainerBackend(t) !== null).join(', ')})` : '';
      })()],
      ['machine', `${e.cpu}, ${e.cores} cores, ${e.os}, Node ${e.node}${e.simd ? `; scratch-simd's ${e.simd === 'relaxed' ? 'relaxed-SIMD build (fused multiply-adds)' : 'plain 128-bit SIMD build'}` : ''}`],
      ['commit, date', `${e.commit ?? 'n/a'}, ${e.date}`],
      ['command', `\`${e.command}\``],
    ],
    [':--', ':--'],
  );
}

function accuracySection(r: Results): string {
  const rows = summary(r).map((x) => [
    x.trainer,
    pm(x.train, pct),
    pm(x.test, pct),
    `${x.test.length}/${r.plan.seeds.length}` + (x.diverged.length ? ` (${x.diverged.length} diverged)` : ''),
  ]);
  const pairs = pairsTable(r);
  return [table(['trainer', 'train accuracy %', 'test accuracy % (mean ± sd over seeds)', 'seeds finished'], rows), ...(pairs ? ['', pairs] : [])].join('\n');
}

interface Series {
  label: string; // a trainer, or 'a = b' for twins drawn as one line
  trainers: TrainerId[];
  points: { step: number; value: number }[];
}

/** Display resolution of a chart's values: loss to 4 decimals, accuracy % to 2. */
const RESOLUTION = { loss: 5e-5, testAcc: 5e-5 } as const; // accuracy as a fraction: 0.005 points

/**
 * The lines of a chart: one per trainer, except that twins whose mean curves agree to within the chart's
 * display resolution at every point are one line (two lines drawn on top of each other would hide one).
 */
export function chartSeries(r: Results, field: 'loss' | 'testAcc'): { series: Series[]; merged: { a: TrainerId; b: TrainerId; maxDiff: number }[]; apart: { a: TrainerId; b: TrainerId; maxDiff: number }[] } {
  const ts = r.plan.trainers.filter((t) => okRuns(r, t).length > 0);
  const curve = new Map(ts.map((t) => [t, meanCurve(r, t, field)]));
  const merged: { a: TrainerId; b: TrainerId; maxDiff: number }[] = [];
  const apart: { a: TrainerId; b: TrainerId; maxDiff: number }[] = [];
  const group = new Map<TrainerId, TrainerId>(ts.map((t) => [t, t])); // union-find over coinciding twins
  const root = (t: TrainerId): TrainerId => (group.get(t) === t ? t : root(group.get(t)!));
  for (const [a, b] of twinsOf(r.plan.trainers)) {
    const ca = curve.get(a), cb = curve.get(b);
    if (!ca || !cb || ca.length !== cb.length) continue;
    const d = Math.max(...ca.map((p, i) => (Number.isFinite(p.value) && Number.isFinite(cb[i].value) ? Math.abs(p.value - cb[i].value) : 0)));
    if (d < RESOLUTION[field]) {
      merged.push({ a, b, maxDiff: d });
      const [ra, rb] = [root(a), root(b)];
      // the trainer listed first in the plan draws the line
      if (ra !== rb) ts.indexOf(ra) < ts.indexOf(rb) ? group.set(rb, ra) : group.set(ra, rb);
    } else apart.push({ a, b, maxDiff: d });
  }
  const series: Series[] = [];
  for (const t of ts) {
    if (root(t) !== t) continue;
    const members = ts.filter((u) => root(u) === t);
    series.push({ label: members.join(' = '), trainers: members, points: curve.get(t)! });
  }
  return { series, merged, apart };
}

/** The curve points a numeric step axis can show: evenly spaced ones (a short last interval is left out). */
function evenPoints(steps: number[]): { keep: number; dropped: number | null } {
  if (steps.length < 3) return { keep: steps.length, dropped: null };
  const d = steps[1] - steps[0];
  const last = steps.length - 1;
  return steps[last] - steps[last - 1] < 0.75 * d ? { keep: last, dropped: steps[last] } : { keep: steps.length, dropped: null };
}

function mermaidChart(title: string, yTitle: string, lo: number, hi: number, x0: number, x1: number, series: { label: string; values: string[] }[]): string {
  const colors = PALETTE.slice(0, series.length).join(', ');
  return [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${colors}"}}}}%%`,
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "step" ${x0} --> ${x1}`,
    `  y-axis "${yTitle}" ${lo} --> ${hi}`,
    ...series.map((x) => `  line [${x.values.join(', ')}]`),
    '```',
  ].join('\n');
}

const legend = (series: { label: string }[]) => series.map((x, i) => `${COLOR_NAMES[i]}: ${x.label}`).join(' · ');

function twinsNote(merged: { a: TrainerId; b: TrainerId; maxDiff: number }[], field: 'loss' | 'testAcc'): string {
  if (merged.length === 0) return '';
  const f = (d: number) => (field === 'loss' ? sci(d) : `${sci(100 * d)} points`);
  return ` ${merged.map((m) => `${m.a} and ${m.b} coincide (largest difference of their mean curves: ${f(m.maxDiff)}), so one line is drawn for both`).join('; ')}: same math on the same batches, see the drift table.`;
}

/** Training loss over the whole run. */
function lossChart(r: Results): string {
  const { series, merged } = chartSeries(r, 'loss');
  if (series.length === 0) return '_no finished runs_';
  const steps = series[0].points.map((p) => p.step);
  const { keep, dropped } = evenPoints(steps);
  const vals = series.flatMap((x) => x.points.slice(0, keep).map((p) => p.value)).filter(Number.isFinite);
  const hi = Math.ceil(Math.max(...vals) * 10) / 10;
  const chart = mermaidChart('Training loss', 'training loss', 0, hi, steps[0], steps[keep - 1], series.map((x) => ({ label: x.label, values: x.points.slice(0, keep).map((p) => (Number.isFinite(p.value) ? p.value.toFixed(4) : '0')) })));
  return [
    chart,
    '',
    `Mean over seeds of the training-batch loss since the previous point (at step 0: the first batch's loss at the initial weights), every ${r.plan.evalEvery} steps. Lines: ${legend(series)}.${twinsNote(merged, 'loss')}${dropped !== null ? ` The last point (step ${dropped}) closes a shorter interval and is left off the step axis.` : ''}`,
  ].join('\n');
}

/** Test accuracy: the whole run, then a close-up of its second half, where the trainers part. */
function accuracyCharts(r: Results): string {
  const { series, merged } = chartSeries(r, 'testAcc');
  if (series.length === 0) return '_no finished runs_';
  const steps = series[0].points.map((p) => p.step);
  const { keep, dropped } = evenPoints(steps);
  const pctv = (v: number) => (100 * v).toFixed(2);
  const span = (from: number) => {
    const vals = series.flatMap((x) => x.points.slice(from, keep).map((p) => 100 * p.value));
    return { lo: Math.max(0, Math.floor(Math.min(...vals) * 2) / 2 - 0.5), hi: Math.min(100, Math.ceil(Math.max(...vals) * 2) / 2 + 0.5) };
  };
  const whole = span(1);
  const out = [
    mermaidChart(`Test accuracy % (${r.dataset.test.toLocaleString('en-US')} test images)`, 'test accuracy %', Math.floor(whole.lo / 10) * 10, whole.hi, steps[0], steps[keep - 1], series.map((x) => ({ label: x.label, values: x.points.slice(0, keep).map((p) => pctv(p.value)) }))),
    '',
    `Mean over seeds of the accuracy on the test set at each point. Lines: ${legend(series)}.${twinsNote(merged, 'testAcc')}${dropped !== null ? ` The last point (step ${dropped}) is left off the step axis; it is in the table below.` : ''}`,
  ];
  const half = Math.floor(keep / 2);
  if (keep - half >= 3) {
    const close = span(half);
    out.push(
      '',
      mermaidChart('Test accuracy %, second half of training', 'test accuracy %', close.lo, close.hi, steps[half], steps[keep - 1], series.map((x) => ({ label: x.label, values: x.points.slice(half, keep).map((p) => pctv(p.value)) }))),
      '',
      `The same curves from step ${steps[half]} on, on an axis of ${(close.hi - close.lo).toFixed(1)} points, so the final gap shows. Lines: ${legend(series)}.`,
    );
  }
  // the last points, exactly
  const last = Math.min(4, steps.length);
  const ts = r.plan.trainers.filter((t) => okRuns(r, t).length > 0);
  out.push(
    '',
    `Test accuracy % at the last ${last} points (mean over seeds):`,
    '',
    table(['trainer', ...steps.slice(-last).map((st) => `step ${st}`)], ts.map((t) => [t, ...meanCurve(r, t, 'testAcc').slice(-last).map((p) => pctv(p.value))])),
  );
  return out.join('\n');
}

function timingSection(r: Results): string {
  const s = summary(r);
  const fastest = Math.max(...s.map((x) => (x.samplesPerSec.length ? meanSd(x.samplesPerSec).mean : 0)));
  const rows = s.map((x) => {
    const runs = r.runs.filter((y) => y.trainer === x.trainer && y.timing.totalMs > 0);
    const sps = x.samplesPerSec.length ? meanSd(x.samplesPerSec).mean : 0;
    return [
      x.trainer,
      [...new Set(runs.map((y) => y.timing.ranOn))].join(', ') + (isTfjsTrainer(x.trainer) ? `, ${backendOf(r, x.trainer) ?? 'no backend'}` : ''),
      pm(runs.map((y) => y.timing.totalMs / 1000), (v) => v.toFixed(2)),
      pm(runs.map((y) => y.timing.stepMedianMs), ms),
      runs.map((y) => `${ms(y.timing.stepP25Ms)}–${ms(y.timing.stepP75Ms)}`).join(', '),
      rate(sps),
      sps > 0 ? `${(sps / fastest).toFixed(2)}×` : '—',
    ];
  });
  return [
    table(['trainer', 'ran on', 'training time s', 'step median ms', 'step p25–p75 ms (per seed)', 'samples/s', 'vs fastest'], rows),
    '',
    `Step times exclude evaluation and the ${r.runs[0]?.timing.warmupSteps ?? 0} warm-up steps run before timing; samples/s is at the median step time (as in \`npm run bench\`). Trainers run one after another, their order rotating with the seed: tfjs on the calling thread, the hand-written trainers in a worker thread of their own that never loads tfjs (tfjs-wasm's heap growth would otherwise slow every typed-array access on the calling thread by ~30%; see the README).`,
  ].join('\n');
}

function agreementRow(t: TensorAgreement, th: Results['thresholds']): string[] {
  const within = (a: TensorAgreement['scratchVsTfjs']) => a.relL2 <= th.relL2 && a.maxAbsRel <= th.maxAbsRel && a.cosine >= th.cosineMin;
  const a = t.scratchVsTfjs;
  const ok = AGREEMENT_PAIRS.every((k) => within(t[k]));
  return [sci(a.relL2), sci(a.maxAbsRel), sci(1 - a.cosine), sci(t.scratchVsF64.relL2), sci(t.simdVsF64.relL2), sci(t.tfjsVsF64.relL2), sci(t.simdVsScratch.relL2), ok ? '✅ pass' : '❌ FAIL'];
}

/** Per tensor, the checkpoint where scratch and tfjs differ most (by relative L2). */
export function worstAgreement(r: Results): { tensor: string; seed: number; step: number; t: TensorAgreement }[] {
  return r.tensors.map((name, i) => {
    const a = r.agreement.reduce((x, y) => (y.tensors[i].scratchVsTfjs.relL2 > x.tensors[i].scratchVsTfjs.relL2 ? y : x));
    return { tensor: name, seed: a.seed, step: a.step, t: a.tensors[i] };
  });
}

function agreementSection(r: Results): string {
  if (r.agreement.length === 0) return '_no agreement checks in this run_';
  const th = r.thresholds;
  const head = ['rel L2', 'max abs rel', '1 − cos', 'scratch vs f64', 'simd vs f64', 'tfjs vs f64', 'simd vs scratch', 'check'];
  const worst = worstAgreement(r).map((w) => [w.tensor, `${w.seed} / ${w.step}`, ...agreementRow(w.t, th)]);
  const all = r.agreement.flatMap((a) => a.tensors.map((t) => [String(a.seed), String(a.step), t.tensor, ...agreementRow(t, th)]));
  const dropout = r.agreement.some((a) => a.dropout) ? ' The gradients are taken with dropout on: the probe batch has its own seeded masks, handed to every implementation.' : '';
  return [
    `Gradients of the batch-mean cross-entropy on a fixed probe batch of ${Math.min(r.plan.probe, r.dataset.train)} training images, at the initial weights (step 0) and at a scratch trainer's weights along its trajectory: ${r.agreement.length} checkpoints in all.${dropout} Pass: relative L2 ≤ ${sci(th.relL2)}, max|a−b|/max|b| ≤ ${sci(th.maxAbsRel)} and 1 − cosine ≤ ${sci(1 - th.cosineMin)}, per tensor, for every pair: scratch vs tfjs on ${r.environment.tfjs?.name ?? 'no backend'} (the first three columns), each implementation against an independent float64 implementation, and scratch-simd against plain-TS scratch (those columns give the relative L2).`,
    '',
    'Worst checkpoint per tensor:',
    '',
    table(['tensor', 'seed / step', ...head], worst),
    '',
    '<details><summary>Every checkpoint</summary>',
    '',
    table(['seed', 'step', 'tensor', ...head], all),
    '',
    '</details>',
  ].join('\n');
}

function driftSection(r: Results): string {
  if (r.drift.length === 0) return `_no pair of twin trainers (${twinsOf(r.plan.trainers).map(([a, b]) => `${a} and ${b}`).join(', ')}) both finished, so there is no drift to show_`;
  const parts: string[] = [
    'Twin trainers, a hand-written one (a) and its counterpart (b: tfjs, or the plain-TS scratch for the SIMD trainers): same initial weights, same batches (and dropout masks), same α, so the two trajectories differ only by floating-point rounding. Relative L2 distance ‖W_a − W_b‖ / ‖W_b‖ per tensor:',
    '',
  ];
  for (const d of r.drift) {
    parts.push(`${d.pair[0]} vs ${d.pair[1]}, seed ${d.seed} (α = ${lrf(d.lr)}):`, '');
    const pts = d.points.length > 10 ? d.points.filter((_, i) => i % Math.ceil(d.points.length / 10) === 0 || i === d.points.length - 1) : d.points;
    parts.push(table(['step', ...r.tensors], pts.map((p) => [String(p.step), ...r.tensors.map((k) => sci(p.relL2[k]))])));
    parts.push('');
  }
  const far = r.drift.filter((d) => Math.max(...r.tensors.map((k) => d.points.at(-1)?.relL2[k] ?? 0)) > 1e-3);
  if (far.length > 0) {
    parts.push(
      `Where a drift jumps by orders of magnitude from one point to the next (${far.map((d) => `${d.pair[0]} vs ${d.pair[1]}`).join(', ')}), a ReLU unit has flipped: its pre-activation for some sample was within rounding of 0, on in one implementation and off in the other, which changes that sample's whole contribution to the unit's gradient at once. From then on training carries the difference along, and Adam, which scales every coordinate's step to about α, grows it fastest. This happens in float32 whatever the code (the first flip here came after ${Math.min(...far.map((d) => d.points.find((p) => Math.max(...r.tensors.map((k) => p.relL2[k])) > 1e-4)?.step ?? Infinity))} steps or fewer); compare the twins' test accuracies above rather than their weights after it.`,
      '',
    );
  }
  return parts.join('\n').trimEnd();
}

function confusionSection(r: Results): string {
  const best = bestTrainer(r);
  if (!best) return '_no finished runs_';
  const run = okRuns(r, best)[0];
  const c = run.confusion!;
  const per = perClassAccuracy(c);
  const rows = c.map((row, t) => [`**${t}**`, ...row.map((v, p) => (p === t ? `**${v}**` : String(v))), pct(per[t])]);
  return [
    `${best}, seed ${run.seed}, on the ${r.dataset.test.toLocaleString('en-US')} test images (rows: true digit, columns: predicted).`,
    '',
    table(['true \\ pred', ...Array.from({ length: 10 }, (_, i) => String(i)), 'class accuracy %'], rows),
  ].join('\n');
}

/** Mean final test accuracy per trainer and learning-rate multiple (a diverged run counts as 0). */
export function sweepTable(r: Results): { trainer: TrainerId; scales: number[]; lrs: number[]; means: number[]; best: number }[] {
  const sw = r.sweep ?? [];
  const scales = [...new Set(sw.map((x) => x.scale))].sort((a, b) => a - b);
  return [...new Set(sw.map((x) => x.trainer))].map((t) => {
    const rows = scales.map((s) => sw.filter((x) => x.trainer === t && x.scale === s));
    const means = rows.map((xs) => meanSd(xs.map((x) => x.testAcc ?? 0)).mean);
    return { trainer: t, scales, lrs: rows.map((xs) => xs[0].lr), means, best: means.indexOf(Math.max(...means)) };
  });
}

function sweepSection(r: Results): string {
  const rows = sweepTable(r);
  if (rows.length === 0) return '';
  const scales = rows[0].scales;
  const colors = PALETTE.slice(0, rows.length).join(', ');
  return [
    '## Learning-rate sweep',
    '',
    `Was SGD just badly tuned? Each trainer at ${scales.map((s) => `×${s}`).join(', ')} its learning rate (GD/SGD α = ${r.plan.lr}, Adam α = ${r.plan.adamLr}), same init and batches, final test accuracy, mean over ${r.plan.seeds.length} seed${r.plan.seeds.length > 1 ? 's' : ''} (a diverged run counts as 0).`,
    '',
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${colors}"}}}}%%`,
    'xychart-beta',
    '  title "Final test accuracy % vs learning-rate multiple"',
    `  x-axis "× learning rate" [${scales.map((s) => `"×${s}"`).join(', ')}]`,
    `  y-axis "test accuracy %" ${Math.max(0, Math.floor((100 * Math.min(...rows.flatMap((x) => x.means))) / 10) * 10)} --> 100`,
    ...rows.map((x) => `  line [${x.means.map((m) => (100 * m).toFixed(2)).join(', ')}]`),
    '```',
    '',
    `Lines: ${rows.map((x, i) => `${COLOR_NAMES[i]}: ${x.trainer}`).join(' · ')}. A scratch trainer and its tfjs twin run the same math on the same batches; where their figures differ, float32 rounding differences have been amplified by unstable training at a large learning rate.`,
    '',
    table(['trainer', ...scales.map((s) => `×${s}`), 'best α'], rows.map((x) => [x.trainer, ...x.means.map((m, i) => `${pct(m)}${i === x.best ? ' ★' : ''}`), lrf(x.lrs[x.best])])),
    ...sweepPairs(r, rows),
  ].join('\n');
}

/** Tuned against tuned: each trainer at its own best learning rate, paired by seed. */
function sweepPairs(r: Results, rows: ReturnType<typeof sweepTable>): string[] {
  const at = (t: TrainerId) => {
    const row = rows.find((x) => x.trainer === t);
    if (!row) return null;
    const scale = row.scales[row.best];
    return { scale, lr: row.lrs[row.best], values: new Map((r.sweep ?? []).filter((x) => x.trainer === t && x.scale === scale).map((x) => [x.seed, x.testAcc ?? 0] as const)) };
  };
  const lines: string[] = [];
  for (const [a, b] of [['scratch-adam', 'scratch-gd'], ['tfjs-adam', 'tfjs-sgd']] as const) {
    const x = at(a), y = at(b);
    if (!x || !y) continue;
    lines.push(`- ${a} at its best α (${lrf(x.lr)}) − ${b} at its best α (${lrf(y.lr)}): ${pairedText(pairedValues(a, b, x.values, y.values, r.plan.seeds))}.`);
  }
  return lines.length ? ['', 'Tuned against tuned, paired by seed (the best α is picked on the same seeds, so the interval is, if anything, optimistic):', '', ...lines] : [];
}

export const SECTIONS = ['Verdict', 'Plan and environment', 'Accuracy', 'Learning curves', 'Timing', 'Gradient agreement', 'Trajectory drift of the twins', 'Confusion matrix of the best trainer', 'Prediction gallery'] as const;

export function renderCompare(r: Results): string {
  const body: Record<(typeof SECTIONS)[number], string> = {
    Verdict: verdict(r),
    'Plan and environment': planSection(r),
    Accuracy: accuracySection(r),
    'Learning curves': [lossChart(r), '', accuracyCharts(r)].join('\n'),
    Timing: timingSection(r),
    'Gradient agreement': agreementSection(r),
    'Trajectory drift of the twins': driftSection(r),
    'Confusion matrix of the best trainer': confusionSection(r),
    'Prediction gallery': gallerySection(r),
  };
  const parts = ['# mnist-duel: scratch vs TensorFlow.js', '', `_Generated from \`compare.json\` (results schema v${r.version}). Re-render with \`npm run report\`._`, ''];
  for (const s of SECTIONS) parts.push(`## ${s}`, '', body[s], '');
  const sw = sweepSection(r);
  if (sw) parts.push(sw, '');
  return parts.join('\n');
}

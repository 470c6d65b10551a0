/**
 * Results JSON → the compare report in markdown. Knows nothing about training: every number printed here
 * is read from (or averaged from) the results, formatted by the helpers below.
 */
import { meanSd, perClassAccuracy } from '../core/metrics.ts';
import type { TrainerId } from '../harness/plan.ts';
import type { Results, TensorAgreement } from '../harness/results.ts';
import { gallerySection } from './gallery.ts';
import { bestTrainer, meanCurve, okRuns, summary } from './stats.ts';

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

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const COLOR_NAMES = ['blue', 'orange', 'green', 'red', 'purple', 'brown'];

/** A markdown table; `|` inside a cell is escaped. Default alignment: first column left, the rest right. */
export function table(head: string[], rows: string[][], align?: string[]): string {
  const al = align ?? head.map((_, i) => (i === 0 ? ':--' : '--:'));
  const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [row(head), `| ${al.join(' | ')} |`, ...rows.map(row)].join('\n');
}

function verdict(r: Results): string {
  const s = summary(r);
  const lines: string[] = [];
  const best = bestTrainer(r);
  const finished = s.filter((x) => x.test.length > 0).sort((a, b) => meanSd(b.test).mean - meanSd(a.test).mean);
  if (best) {
    const others = finished.slice(1).map((x) => `${x.trainer} ${pct(meanSd(x.test).mean)}%`).join(', ');
    lines.push(`- **Test accuracy:** **${best}** wins with ${pct(meanSd(finished[0].test).mean)}%${others ? ` (then ${others})` : ''}, mean over ${r.plan.seeds.length} seed${r.plan.seeds.length > 1 ? 's' : ''}.`);
  } else {
    lines.push('- **Test accuracy:** no trainer finished.');
  }
  const timed = s.filter((x) => x.samplesPerSec.length > 0).sort((a, b) => meanSd(b.samplesPerSec).mean - meanSd(a.samplesPerSec).mean);
  if (timed.length > 0) {
    const f = timed[0];
    const next = timed[1];
    lines.push(`- **Speed:** **${f.trainer}** is fastest at ${rate(meanSd(f.samplesPerSec).mean)} samples/s` + (next ? `, ${(meanSd(f.samplesPerSec).mean / meanSd(next.samplesPerSec).mean).toFixed(2)}× ${next.trainer}.` : '.'));
  }
  if (r.agreement.length > 0) {
    const worst = Math.max(...r.agreement.flatMap((a) => a.tensors.map((t) => t.scratchVsTfjs.relL2)));
    const failed = r.agreement.filter((a) => !a.pass).length;
    lines.push(
      failed === 0
        ? `- **Gradients:** scratch and tfjs **agree** at all ${r.agreement.length} checkpoints, every tensor within the thresholds (worst relative L2 ${sci(worst)}).`
        : `- **Gradients:** **DISAGREE** at ${failed} of ${r.agreement.length} checkpoints (worst relative L2 ${sci(worst)}); see below.`,
    );
  }
  for (const x of s) for (const d of x.diverged) lines.push(`- **${d.trainer} diverged** at step ${d.diverged!.step} (seed ${d.seed}, learning rate ${lrf(d.lr)}, loss ${d.diverged!.loss}).`);
  return lines.join('\n');
}

function planSection(r: Results): string {
  const p = r.plan, e = r.environment;
  const tf = e.tfjs ? `${e.tfjs.name} (tfjs ${e.tfjs.tfjsVersion}${e.tfjs.name === 'wasm' ? `, SIMD ${e.tfjs.simd ? 'on' : 'off'}, threads ${e.tfjs.threads ? 'on' : 'off'}` : ''})` : 'none';
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
      ['seeds', p.seeds.join(', ')],
      ['scratch-gd threads', p.threads > 0 ? `${p.threads} worker thread${p.threads > 1 ? 's' : ''} (bit-identical to none)` : 'none: the calling thread'],
      ['tfjs backend', tf],
      ['machine', `${e.cpu}, ${e.cores} cores, ${e.os}, Node ${e.node}`],
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
  return table(['trainer', 'train accuracy %', 'test accuracy %', 'seeds finished'], rows);
}

function chart(r: Results, field: 'loss' | 'testAcc', title: string): string {
  const ts = r.plan.trainers.filter((t) => okRuns(r, t).length > 0);
  if (ts.length === 0) return '_no finished runs_';
  const curves = ts.map((t) => meanCurve(r, t, field));
  const steps = curves[0].map((p) => p.step);
  const scale = field === 'testAcc' ? 100 : 1;
  const vals = curves.flatMap((c) => c.map((p) => p.value * scale)).filter(Number.isFinite);
  const lo = field === 'testAcc' ? Math.max(0, Math.floor(Math.min(...vals) / 10) * 10) : 0;
  const hi = field === 'testAcc' ? 100 : Math.ceil(Math.max(...vals) * 10) / 10;
  const colors = PALETTE.slice(0, ts.length).join(', ');
  const legend = ts.map((t, i) => `${COLOR_NAMES[i]}: ${t}`).join(' · ');
  return [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${colors}"}}}}%%`,
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis "step" [${steps.join(', ')}]`,
    `  y-axis "${field === 'testAcc' ? 'test accuracy %' : 'training loss'}" ${lo} --> ${hi}`,
    ...curves.map((c) => `  line [${c.map((p) => (Number.isFinite(p.value) ? (p.value * scale).toFixed(field === 'testAcc' ? 2 : 4) : '0')).join(', ')}]`),
    '```',
    '',
    `Lines: ${legend}. Mean over seeds; loss is the mean training-batch loss since the previous point.`,
  ].join('\n');
}

function timingSection(r: Results): string {
  const s = summary(r);
  const fastest = Math.max(...s.map((x) => (x.samplesPerSec.length ? meanSd(x.samplesPerSec).mean : 0)));
  const rows = s.map((x) => {
    const runs = r.runs.filter((y) => y.trainer === x.trainer && y.timing.totalMs > 0);
    const sps = x.samplesPerSec.length ? meanSd(x.samplesPerSec).mean : 0;
    return [
      x.trainer,
      [...new Set(runs.map((y) => y.timing.ranOn))].join(', '),
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
    `Step times exclude evaluation and the ${r.runs[0]?.timing.warmupSteps ?? 0} warm-up steps run before timing. Trainers run one after another; their order rotates with the seed.`,
  ].join('\n');
}

function agreementRow(t: TensorAgreement, th: Results['thresholds']): string[] {
  const within = (a: TensorAgreement['scratchVsTfjs']) => a.relL2 <= th.relL2 && a.maxAbsRel <= th.maxAbsRel && a.cosine >= th.cosineMin;
  const a = t.scratchVsTfjs;
  const ok = within(a) && within(t.scratchVsF64) && within(t.tfjsVsF64);
  return [sci(a.relL2), sci(a.maxAbsRel), sci(1 - a.cosine), sci(t.scratchVsF64.relL2), sci(t.tfjsVsF64.relL2), ok ? '✅ pass' : '❌ FAIL'];
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
  const head = ['rel L2', 'max abs rel', '1 − cos', 'scratch vs f64', 'tfjs vs f64', 'check'];
  const worst = worstAgreement(r).map((w) => [w.tensor, `${w.seed} / ${w.step}`, ...agreementRow(w.t, th)]);
  const all = r.agreement.flatMap((a) => a.tensors.map((t) => [String(a.seed), String(a.step), t.tensor, ...agreementRow(t, th)]));
  const dropout = r.agreement.some((a) => a.dropout) ? ' The gradients are taken with dropout on: the probe batch has its own seeded masks, handed to every implementation.' : '';
  return [
    `Gradients of the batch-mean cross-entropy on a fixed probe batch of ${Math.min(r.plan.probe, r.dataset.train)} training images, at the initial weights (step 0) and at a scratch trainer's weights along its trajectory: ${r.agreement.length} checkpoints in all.${dropout} Pass: relative L2 ≤ ${sci(th.relL2)}, max|a−b|/max|b| ≤ ${sci(th.maxAbsRel)} and 1 − cosine ≤ ${sci(1 - th.cosineMin)}, per tensor, for scratch vs tfjs and for each against an independent float64 implementation (the two f64 columns give their relative L2 errors).`,
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
  if (r.drift.length === 0) return '_no pair of twin trainers (scratch-gd and tfjs-sgd, scratch-adam and tfjs-adam) both finished, so there is no drift to show_';
  const parts: string[] = [
    'Twin trainers, the hand-written one and its tfjs counterpart: same initial weights, same batches (and dropout masks), same α, so the two trajectories differ only by floating-point rounding. Relative L2 distance ‖W_tfjs − W_scratch‖ / ‖W_scratch‖ per tensor:',
    '',
  ];
  for (const d of r.drift) {
    parts.push(`${d.pair[0]} vs ${d.pair[1]}, seed ${d.seed} (α = ${lrf(d.lr)}):`, '');
    const pts = d.points.length > 10 ? d.points.filter((_, i) => i % Math.ceil(d.points.length / 10) === 0 || i === d.points.length - 1) : d.points;
    parts.push(table(['step', ...r.tensors], pts.map((p) => [String(p.step), ...r.tensors.map((k) => sci(p.relL2[k]))])));
    parts.push('');
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
    '  y-axis "test accuracy %" 0 --> 100',
    ...rows.map((x) => `  line [${x.means.map((m) => (100 * m).toFixed(2)).join(', ')}]`),
    '```',
    '',
    `Lines: ${rows.map((x, i) => `${COLOR_NAMES[i]}: ${x.trainer}`).join(' · ')}. A scratch trainer and its tfjs twin run the same math on the same batches; where their figures differ, float32 rounding differences have been amplified by unstable training at a large learning rate.`,
    '',
    table(['trainer', ...scales.map((s) => `×${s}`), 'best α'], rows.map((x) => [x.trainer, ...x.means.map((m, i) => `${pct(m)}${i === x.best ? ' ★' : ''}`), lrf(x.lrs[x.best])])),
  ].join('\n');
}

export const SECTIONS = ['Verdict', 'Plan and environment', 'Accuracy', 'Learning curves', 'Timing', 'Gradient agreement', 'Trajectory drift of the twins', 'Confusion matrix of the best trainer', 'Prediction gallery'] as const;

export function renderCompare(r: Results): string {
  const body: Record<(typeof SECTIONS)[number], string> = {
    Verdict: verdict(r),
    'Plan and environment': planSection(r),
    Accuracy: accuracySection(r),
    'Learning curves': [chart(r, 'loss', 'Training loss'), '', chart(r, 'testAcc', 'Test accuracy %')].join('\n'),
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

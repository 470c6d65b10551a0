// The smoke preset end to end, in process: results JSON valid against its schema, every report section
// present, the numbers in the markdown equal to those in the JSON, and same seed → same results.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/harness/plan.ts';
import type { Results } from '../../src/results/results.ts';
import { runPlan } from '../../src/harness/run.ts';
import { SECTIONS, renderCompare } from '../../src/report/markdown.ts';
import { bestTrainer } from '../../src/report/stats.ts';
import { galleryIndices, imageName, SIDE } from '../../src/report/gallery.ts';
import { writeCompareReport } from '../../src/report/write.ts';
import { planData } from '../../src/harness/data.ts';
import { readdirSync } from 'node:fs';
import { mnistData } from '../helpers/index.ts';

const schema = JSON.parse(readFileSync(new URL('../../src/results/results.schema.json', import.meta.url), 'utf8'));
const plan = { ...PRESETS.smoke, backend: 'cpu' as const };
const data = mnistData();

/** The results with everything that may legitimately differ between two runs removed. */
function withoutTimings(r: Results): unknown {
  const c = JSON.parse(JSON.stringify(r));
  delete c.environment.date;
  for (const run of c.runs) delete run.timing;
  return c;
}

let a: Results, b: Results, md: string;
beforeAll(async () => {
  a = JSON.parse(JSON.stringify(await runPlan(plan, data, { command: 'test' })));
  b = JSON.parse(JSON.stringify(await runPlan(plan, data, { command: 'test' })));
  md = renderCompare(a);
});

describe('compare, smoke preset', () => {
  it('results JSON validates against the schema', () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    const ok = ajv.validate(schema, a);
    expect(ajv.errorsText(ajv.errors)).toBe('No errors');
    expect(ok).toBe(true);
  });

  it('runs every trainer for every seed, on the same data and steps', () => {
    expect(a.runs.map((r) => r.trainer).sort()).toEqual([...plan.trainers].sort());
    for (const r of a.runs) {
      expect(r.status).toBe('ok');
      expect(r.stepsDone).toBe(a.plan.steps);
      expect(r.curve[0].step).toBe(0);
      expect(r.curve.at(-1)!.step).toBe(a.plan.steps);
    }
    expect(a.dataset).toMatchObject({ train: 2000, test: 1000 });
  });

  it('scratch GD and tfjs SGD, same math and same batches, reach the same accuracy', () => {
    const acc = (t: string) => a.runs.find((r) => r.trainer === t)!.final!.testAcc;
    expect(Math.abs(acc('scratch-gd') - acc('tfjs-sgd'))).toBeLessThanOrEqual(0.001);
    expect(a.drift.map((d) => d.pair)).toEqual([['scratch-gd', 'tfjs-sgd'], ['scratch-adam', 'tfjs-adam'], ['scratch-simd-gd', 'scratch-gd'], ['scratch-simd-adam', 'scratch-adam']]);
    for (const d of a.drift) for (const k of a.tensors) expect(d.points.at(-1)!.relL2[k], `${d.pair} ${k}`).toBeLessThan(1e-4);
    expect(a.tensors).toEqual(['W1', 'b1', 'W2', 'b2']);
  });

  it('gradients agree at every checkpoint', () => {
    expect(a.agreement.length).toBe(1 + plan.agreementPoints);
    for (const p of a.agreement) expect(p.pass).toBe(true);
  });

  it('the markdown has every section, in order', () => {
    let at = -1;
    for (const s of SECTIONS) {
      const i = md.indexOf(`## ${s}`);
      expect(i, s).toBeGreaterThan(at);
      at = i;
    }
    expect(md).toContain('xychart-beta');
  });

  it('numbers in the markdown equal those in the JSON', () => {
    // The expected cells are formatted here, not with the renderer's helpers: accuracy in % to 2 decimals,
    // samples/s rounded with thousands commas, agreement and drift figures to 3 significant digits.
    const percent = (x: number) => (100 * x).toFixed(2);
    const grouped = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+$)/g, ',');
    const e3 = (x: number) => (x === 0 ? '0' : x.toExponential(2));
    expect([percent(0.9137), grouped(1234567.5), grouped(999), e3(3.14159e-7)]).toEqual(['91.37', '1,234,568', '999', '3.14e-7']);
    for (const r of a.runs) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${r.trainer} | ${percent(r.final!.trainAcc)} | ${percent(r.final!.testAcc)} |`));
      expect(row, `accuracy row of ${r.trainer}`).toBeDefined();
      expect(md).toContain(`| ${grouped(r.timing.samplesPerSec)} |`);
    }
    // per tensor, the checkpoint where scratch and tfjs gradients were furthest apart (the first one on a tie)
    a.tensors.forEach((name, i) => {
      let w = a.agreement[0];
      for (const p of a.agreement) if (p.tensors[i].scratchVsTfjs.relL2 > w.tensors[i].scratchVsTfjs.relL2) w = p;
      expect(md).toContain(`| ${name} | ${w.seed} / ${w.step} | ${e3(w.tensors[i].scratchVsTfjs.relL2)} |`);
    });
    const bestRun = a.runs.reduce((x, y) => (y.final!.testAcc > x.final!.testAcc ? y : x));
    expect(bestTrainer(a)).toBe(bestRun.trainer);
    const conf = bestRun.confusion!;
    expect(conf.flat().reduce((s, v) => s + v, 0)).toBe(1000);
    expect(md).toContain(`| **3** | ${conf[3].map((v, p) => (p === 3 ? `**${v}**` : String(v))).join(' | ')} |`);
    for (const dr of a.drift) {
      const d = dr.points.at(-1)!;
      expect(md).toContain(`| ${d.step} | ${a.tensors.map((k) => e3(d.relL2[k])).join(' | ')} |`);
    }
  });

  it('gallery: PNG files of the stated size for every image shown, labels in the markdown = predictions in the JSON', () => {
    const out = mkdtempSync(join(tmpdir(), 'mnist-duel-gallery-'));
    try {
      const test = planData(plan, data).test;
      writeCompareReport(a, test, out, { json: true });
      const written = readFileSync(join(out, 'compare.md'), 'utf8');
      expect(written).toBe(md);
      const shown = galleryIndices(a);
      // every sampled image and every confident mistake of the best trainer is shown once, and nothing else
      const best0 = a.runs.find((r) => r.trainer === bestTrainer(a) && r.seed === a.gallery.seed)!;
      const wanted = new Set([...a.gallery.indices, ...best0.gallery!.wrong.map((w) => w.index)]);
      expect(new Set(shown)).toEqual(wanted);
      expect(shown.length).toBe(wanted.size);
      expect(readdirSync(join(out, 'gallery')).sort()).toEqual(shown.map((i) => `test-${i}.png`).sort());
      for (const i of shown) expect(written).toContain(`src="${imageName(i)}"`);
      for (const i of shown) {
        const png = PNG.sync.read(readFileSync(join(out, imageName(i))));
        expect([png.width, png.height]).toEqual([SIDE, SIDE]);
        // pixel (row 14, col 14) of the digit, dark-on-white: 255 − 255·x
        const v = png.data[((14 * 4 + 1) * SIDE + 14 * 4 + 1) * 4];
        expect(v).toBe(255 - Math.round(255 * test.x[i * 784 + 14 * 28 + 14]));
      }
      expect(a.gallery.labels).toEqual(a.gallery.indices.map((i) => test.y[i]));
      // tables of at most 8 images: the k-th chunk of labels and predictions is a row
      const chunk = <T>(xs: T[], k: number) => xs.slice(8 * k, 8 * k + 8);
      for (let k = 0; 8 * k < a.gallery.labels.length; k++) {
        expect(md).toContain(`| **true label** | ${chunk(a.gallery.labels, k).map((l) => `**${l}**`).join(' | ')} |`);
        for (const r of a.runs) {
          const row = `| ${r.trainer} | ${chunk(r.gallery!.predictions, k).map((p, j) => (p === a.gallery.labels[8 * k + j] ? String(p) : `${p} ✗`)).join(' | ')} |`;
          expect(md).toContain(row);
        }
      }
      const best = a.runs.find((r) => r.trainer === bestTrainer(a))!;
      for (let k = 0; 8 * k < best.gallery!.wrong.length; k++) expect(md).toContain(`| predicted | ${chunk(best.gallery!.wrong, k).map((w) => w.pred).join(' | ')} |`);
      for (const w of best.gallery!.wrong) expect(w.pred).not.toBe(w.label);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('same seed twice → identical results apart from timings and the date', () => {
    expect(withoutTimings(b)).toEqual(withoutTimings(a));
  });

  it('the hand-written trainers run in their own worker thread, with the same results as on the calling thread', async () => {
    for (const r of a.runs) expect(r.timing.ranOn, r.trainer).toBe(r.trainer.startsWith('scratch-') ? 'own worker thread' : 'calling thread');
    const here: Results = JSON.parse(JSON.stringify(await runPlan(plan, data, { command: 'test', isolate: false })));
    for (const r of here.runs) expect(r.timing.ranOn).toBe('calling thread');
    expect(withoutTimings(here)).toEqual(withoutTimings(a));
  });

  it('the scratch trainers on 2 worker threads give the same runs, bit for bit, as on the calling thread', async () => {
    const t: Results = JSON.parse(JSON.stringify(await runPlan({ ...plan, threads: 2 }, data, { command: 'test' })));
    const strip = (r: Results) => (withoutTimings(r) as Results).runs.filter((x) => x.trainer.startsWith('scratch-'));
    expect(strip(t)).toEqual(strip(a));
    expect(t.plan.threads).toBe(2);
    expect(t.runs.find((x) => x.trainer === 'scratch-adam')!.timing.ranOn).toBe('2 worker threads');
    expect(t.runs.find((x) => x.trainer === 'tfjs-adam')!.timing.ranOn).toBe('calling thread');
  });
});

describe('learning-rate sweep, smoke variant', () => {
  it('runs every trainer at every multiple from the same init and charts final test accuracy', async () => {
    const r: Results = JSON.parse(JSON.stringify(await runPlan({ ...plan, trainers: ['scratch-gd', 'tfjs-adam'], sweep: [0.1, 1, 10] }, data, { command: 'test' })));
    expect(new Ajv({ allowUnionTypes: true }).validate(schema, r)).toBe(true);
    expect(r.sweep!.map((x) => `${x.trainer}×${x.scale}`)).toEqual(['scratch-gd×0.1', 'tfjs-adam×0.1', 'scratch-gd×1', 'tfjs-adam×1', 'scratch-gd×10', 'tfjs-adam×10']);
    // the ×1 sweep run is the main run again: same init, batches and learning rate → same accuracy
    for (const t of ['scratch-gd', 'tfjs-adam'] as const) {
      expect(r.sweep!.find((x) => x.trainer === t && x.scale === 1)!.testAcc).toBe(r.runs.find((x) => x.trainer === t)!.final!.testAcc);
    }
    expect(r.sweep!.find((x) => x.trainer === 'scratch-gd' && x.scale === 10)!.lr).toBeCloseTo(10 * plan.lr, 12);
    const md = renderCompare(r);
    expect(md).toContain('## Learning-rate sweep');
    // one seed: a trainer's value at a multiple is that run's final test accuracy, in % to 2 decimals; ★ marks the best
    for (const t of ['scratch-gd', 'tfjs-adam'] as const) {
      const runs = [0.1, 1, 10].map((scale) => r.sweep!.find((x) => x.trainer === t && x.scale === scale)!);
      const accs = runs.map((x) => (100 * x.testAcc!).toFixed(2));
      const best = runs.reduce((b, x, i) => (x.testAcc! > runs[b].testAcc! ? i : b), 0);
      const bestLr = { 'scratch-gd': [0.01, 0.1, 1], 'tfjs-adam': [0.001, 0.01, 0.1] }[t][best]; // ×0.1, ×1, ×10 of α = 0.1 and Adam's 0.01
      expect(md).toContain(`  line [${accs.join(', ')}]`);
      expect(md).toContain(`| ${t} | ${accs.map((v, i) => `${v}${i === best ? ' ★' : ''}`).join(' | ')} | ${bestLr} |`);
    }
  });
});

/**
 * The prediction gallery: test digits as PNG files (pngjs), with each trainer's prediction in a markdown
 * table beside them. Every label printed comes from the results JSON; only the pixels come from the data.
 */
import { PNG } from 'pngjs';
import type { Batch } from '../core/types.ts';
import type { OutFile } from '../harness/files.ts';
import type { Results } from '../harness/results.ts';
import { bestTrainer } from './stats.ts';

export const SCALE = 4; // 28×28 → 112×112: readable on GitHub
export const SIDE = 28 * SCALE;
export const GALLERY_DIR = 'gallery';

export const imageName = (index: number): string => `${GALLERY_DIR}/test-${index}.png`;

/** One test digit, dark on white, upscaled by pixel repetition. */
export function digitPng(test: Batch, index: number): Buffer {
  const png = new PNG({ width: SIDE, height: SIDE, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  const img = Buffer.alloc(SIDE * SIDE);
  for (let r = 0; r < SIDE; r++)
    for (let c = 0; c < SIDE; c++) img[r * SIDE + c] = 255 - Math.round(255 * test.x[index * 784 + ((r / SCALE) | 0) * 28 + ((c / SCALE) | 0)]);
  png.data = img;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** The test indices the gallery shows: the seeded sample, then the best trainer's confident mistakes. */
export function galleryIndices(r: Results): number[] {
  const wrong = wrongOfBest(r)?.wrong.map((w) => w.index) ?? [];
  return [...new Set([...r.gallery.indices, ...wrong])];
}

function wrongOfBest(r: Results) {
  const best = bestTrainer(r);
  const run = r.runs.find((x) => x.trainer === best && x.seed === r.gallery.seed && x.gallery);
  return run ? { trainer: run.trainer, seed: run.seed, wrong: run.gallery!.wrong } : null;
}

export function galleryFiles(r: Results, test: Batch, outDir: string): OutFile[] {
  return galleryIndices(r).map((i) => ({ path: `${outDir}/${imageName(i)}`, data: digitPng(test, i) }));
}

const img = (i: number) => `<img src="${imageName(i)}" width="56" alt="test image ${i}">`;

export function gallerySection(r: Results): string {
  const g = r.gallery;
  const runs = r.plan.trainers.map((t) => r.runs.find((x) => x.trainer === t && x.seed === g.seed && x.gallery)).filter((x) => x !== undefined);
  const parts: string[] = [];
  parts.push(
    `${g.indices.length} test images drawn with seed ${g.seed} (each PNG is ${SIDE}×${SIDE} px, the 28×28 digit upscaled ${SCALE}×), with every trainer's prediction after training with seed ${g.seed}; ✗ marks a mistake.`,
    '',
    `| test image | ${g.indices.map(img).join(' | ')} |`,
    `| :-- | ${g.indices.map(() => ':-:').join(' | ')} |`,
    `| **true label** | ${g.labels.map((l) => `**${l}**`).join(' | ')} |`,
    ...runs.map((run) => `| ${run.trainer} | ${run.gallery!.predictions.map((p, k) => (p === g.labels[k] ? String(p) : `${p} ✗`)).join(' | ')} |`),
  );
  const w = wrongOfBest(r);
  if (w && w.wrong.length > 0) {
    parts.push(
      '',
      `The ${w.wrong.length} test images that **${w.trainer}** (the most accurate trainer; seed ${w.seed}) gets wrong with the highest confidence:`,
      '',
      `| test image | ${w.wrong.map((x) => img(x.index)).join(' | ')} |`,
      `| :-- | ${w.wrong.map(() => ':-:').join(' | ')} |`,
      `| **true label** | ${w.wrong.map((x) => `**${x.label}**`).join(' | ')} |`,
      `| predicted | ${w.wrong.map((x) => String(x.pred)).join(' | ')} |`,
      `| confidence % | ${w.wrong.map((x) => (100 * x.confidence).toFixed(1)).join(' | ')} |`,
    );
  }
  return parts.join('\n');
}

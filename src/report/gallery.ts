/**
 * The prediction gallery: test digits as PNG files (pngjs), with each trainer's prediction in a markdown
 * table beside them. Every label printed comes from the results JSON; only the pixels come from the data.
 */
import { PNG } from 'pngjs';
import type { Batch } from '../core/types.ts';
import type { OutFile } from '../results/files.ts';
import type { Results } from '../results/results.ts';
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

/** Images per table: 8 columns of 56 px plus the label column fit GitHub's 980 px column with room to spare. */
export const PER_ROW = 8;

/** Consecutive chunks of at most n items. */
const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

/** One table per chunk of PER_ROW images: a header row of images, then one row per `rows` entry. */
function imageTables(indices: number[], rows: { label: string; cell: (k: number) => string }[]): string {
  return chunks(indices.map((_, k) => k), PER_ROW)
    .map((ks) =>
      [
        `| test image | ${ks.map((k) => img(indices[k])).join(' | ')} |`,
        `| :-- | ${ks.map(() => ':-:').join(' | ')} |`,
        ...rows.map((r) => `| ${r.label} | ${ks.map(r.cell).join(' | ')} |`),
      ].join('\n'),
    )
    .join('\n\n');
}

export function gallerySection(r: Results): string {
  const g = r.gallery;
  const runs = r.plan.trainers.map((t) => r.runs.find((x) => x.trainer === t && x.seed === g.seed && x.gallery)).filter((x) => x !== undefined);
  const parts: string[] = [];
  parts.push(
    `${g.indices.length} test images drawn with seed ${g.seed} (each PNG is ${SIDE}×${SIDE} px, the 28×28 digit upscaled ${SCALE}×, shown at 56 px), with every trainer's prediction after training with seed ${g.seed}; ✗ marks a mistake.`,
    '',
    imageTables(g.indices, [
      { label: '**true label**', cell: (k) => `**${g.labels[k]}**` },
      ...runs.map((run) => ({ label: run.trainer, cell: (k: number) => { const p = run.gallery!.predictions[k]; return p === g.labels[k] ? String(p) : `${p} ✗`; } })),
    ]),
  );
  const w = wrongOfBest(r);
  if (w && w.wrong.length > 0) {
    parts.push(
      '',
      `The ${w.wrong.length} test images that **${w.trainer}** (the trainer with the highest mean test accuracy; seed ${w.seed}) gets wrong with the highest confidence:`,
      '',
      imageTables(w.wrong.map((x) => x.index), [
        { label: '**true label**', cell: (k) => `**${w.wrong[k].label}**` },
        { label: 'predicted', cell: (k) => String(w.wrong[k].pred) },
        { label: 'confidence %', cell: (k) => (100 * w.wrong[k].confidence).toFixed(1) },
      ]),
    );
  }
  return parts.join('\n');
}

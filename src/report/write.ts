/** Writes a compare report — results JSON, markdown, gallery PNGs — all at once (see src/results/files.ts). */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch } from '../core/types.ts';
import { writeAllAtomic, type OutFile } from '../results/files.ts';
import type { Results } from '../results/results.ts';
import { GALLERY_DIR, galleryFiles } from './gallery.ts';
import { renderCompare } from './markdown.ts';

/** `extra`: files written in the same all-or-nothing step (e.g. a Kaggle submission). */
export function writeCompareReport(results: Results, test: Batch, out: string, opts: { json: boolean; extra?: OutFile[] }): string[] {
  const files: OutFile[] = [
    ...(opts.json ? [{ path: join(out, 'compare.json'), data: JSON.stringify(results, null, 2) + '\n' }] : []),
    ...galleryFiles(results, test, out),
    ...(opts.extra ?? []),
    { path: join(out, 'compare.md'), data: renderCompare(results) },
  ];
  writeAllAtomic(files);
  // Gallery images of an earlier report that this one no longer shows.
  const keep = new Set(files.map((f) => f.path));
  const dir = join(out, GALLERY_DIR);
  if (existsSync(dir)) for (const f of readdirSync(dir)) if (/^test-\d+\.png$/.test(f) && !keep.has(join(dir, f))) rmSync(join(dir, f));
  return files.map((f) => f.path);
}

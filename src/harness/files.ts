/**
 * All-or-nothing output: every file of a report is first written in full to a temporary name beside its
 * destination, then all are renamed into place. A failure (or Ctrl-C) before the renames leaves the
 * previous report untouched and removes the temporaries. rename(2) within one directory is atomic, so a
 * reader sees either the old or the new version of each file, never a half-written one.
 * (write-file-atomic does the same per file; a report is several files that must change together.)
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface OutFile {
  path: string;
  data: string | Uint8Array;
}

export function writeAllAtomic(files: OutFile[]): void {
  const temps: string[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`);
      temps.push(tmp);
      writeFileSync(tmp, f.data, { flush: true });
    }
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
  files.forEach((f, i) => renameSync(temps[i], f.path));
}

/**
 * Outputs that collide, found before any work: every file a command will write (the report's files, the
 * Kaggle submission) is checked against every file it reads (the data files, --predict, the results JSON)
 * and against every other output. Two paths collide when they are the same folder entry however spelled
 * (`out/../out/compare.md`, a symbolic link to a folder on the way) or the same file (a hard link, a
 * symbolic link to it). An output must also be something the report may replace: absent or a regular
 * file — never a folder, a device, a FIFO, a socket or a symbolic link (`/dev/stdout`). Every problem is one UserError naming both paths.
 */
import { fileKind } from '../core/files.ts';
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';

export interface PathUse {
  path: string;
  /** what the path is to the user, for the message: "--submission", "the data file", "compare.md" */
  role: string;
}

/** A folder of outputs whose names are known only at the end (the gallery's test-N.png): any input inside it that matches collides. */
export interface OutputFolder {
  dir: string;
  names: RegExp;
  role: string;
}

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return null;
  }
}

/** The folder entry a path names: the real path of the nearest existing ancestor, then the rest as given. */
function entryOf(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let a = abs;
  for (;;) {
    try {
      return join(realpathSync(a), ...rest.reverse());
    } catch {
      if (dirname(a) === a) return abs;
      rest.push(basename(a));
      a = dirname(a);
    }
  }
}

interface Identity {
  entry: string; // the folder entry of the path itself (the link, if it is one)
  target: string; // where it leads (the real path, if it exists)
  file: string | null; // device:inode of what it leads to, if it exists
}

function identity(path: string): Identity {
  const st = statOrNull(path, true);
  const entry = join(entryOf(dirname(path)), basename(resolve(path)));
  return { entry, target: st ? entryOf(path) : entry, file: st ? `${st.dev}:${st.ino}` : null };
}

/**
 * An output must be absent or a regular file. Not a symbolic link either, even to a regular file: the
 * report's rename would replace the link itself (`/dev/stdout` with stdout sent to a file is such a link).
 */
function checkReplaceable(o: PathUse): void {
  const l = statOrNull(o.path, false);
  if (l === null || l.isFile()) return;
  if (l.isSymbolicLink()) {
    const t = statOrNull(o.path, true);
    const to = t === null ? 'nothing' : fileKind(t);
    throw new UserError(`${o.role} ${o.path}: is a symbolic link (to ${to}); the report only replaces regular files: give the path of a file`);
  }
  throw new UserError(`${o.role} ${o.path}: is ${fileKind(l)}; the report only replaces regular files`);
}

function same(a: Identity, b: Identity): boolean {
  return a.entry === b.entry || a.target === b.target || (a.file !== null && a.file === b.file);
}

/**
 * Throws a UserError for the first collision: an output that is not replaceable, an output that is an
 * input, two outputs that are one, or an input inside an output folder under an output name.
 */
export function checkOutputs(inputs: readonly PathUse[], outputs: readonly PathUse[], folders: readonly OutputFolder[] = []): void {
  for (const o of outputs) checkReplaceable(o);
  const ins = inputs.map((i) => ({ ...i, id: identity(i.path) }));
  const outs = outputs.map((o) => ({ ...o, id: identity(o.path) }));
  for (const [k, o] of outs.entries()) {
    for (const i of ins) {
      if (same(o.id, i.id)) throw new UserError(`${o.role} ${o.path}: is ${i.role} ${i.path}, which the run reads; write it somewhere else`);
    }
    for (const p of outs.slice(0, k)) {
      if (same(o.id, p.id)) throw new UserError(`${o.role} ${o.path}: is also ${p.role} ${p.path}; give them different paths`);
    }
  }
  for (const f of folders) {
    const dir = entryOf(f.dir);
    for (const x of [...ins, ...outs]) {
      for (const p of new Set([x.id.entry, x.id.target])) {
        if (dirname(p) === dir && f.names.test(basename(p))) {
          const what = ins.includes(x as (typeof ins)[number]) ? 'which the run reads' : 'which the run also writes';
          throw new UserError(`${x.role} ${x.path}: is where the report writes ${f.role} (${join(f.dir, basename(p))}), ${what}; use another --out`);
        }
      }
    }
  }
}

/**
 * The files a `--data PATH` may read: the file itself and the train.csv/test.csv beside it, or, for a
 * folder, every IDX or CSV file in it. Paths that do not exist are left out (the data loader reports them).
 */
export function dataInputs(data: string | undefined): PathUse[] {
  if (data === undefined) return [];
  const st = statOrNull(data, true);
  if (st === null) return [];
  const dir = st.isDirectory() ? data : dirname(data);
  const found: string[] = st.isDirectory() ? [] : [data];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // unreadable: the data loader says so
  }
  const isData = st.isDirectory() ? (n: string) => /ubyte|\.csv(\.gz)?$/i.test(n) : (n: string) => /^(train|test)\.csv(\.gz)?$/i.test(n);
  for (const n of names) if (isData(n)) found.push(join(dir, n));
  return [...new Set(found)].map((path) => ({ path, role: 'the data file' }));
}

/**
 * All-or-nothing output: every file of a report is first written in full to a temporary name beside its
 * destination, then all are renamed into place. A failure (or Ctrl-C) before the renames leaves the
 * previous report untouched and removes the temporaries. rename(2) within one directory is atomic, so a
 * reader sees either the old or the new version of each file, never a half-written one; and if one
 * rename fails, the ones already done are rolled back from backups of the files they replaced.
 * (write-file-atomic does the same per file; a report is several files that must change together.)
 *
 * checkOutDir is the preflight: run before any work, it finds the problems a write would hit at the end.
 */
import {
  copyFileSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';

export interface OutFile {
  path: string;
  data: string | Uint8Array;
}

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  EISDIR: 'is a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

/** A file-system error (it has an errno code) as a one-line UserError; anything else is rethrown as is. */
function fsUserError(e: unknown, message: string): UserError {
  if (typeof (e as NodeJS.ErrnoException).code !== 'string' || e instanceof UserError) throw e;
  return new UserError(message);
}

/** `EACCES: permission denied`, from a Node fs error. */
function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === undefined) return (e as Error).message;
  return WHY[code] ? `${code}: ${WHY[code]}` : code;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** stat, or null if nothing is there (ENOENT, or ENOTDIR: a file where a folder of the path should be). */
function statOrNull(path: string, what: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserError(`${what} ${path}: cannot check it (${why(e)})`);
  }
}

/**
 * Preflight for a report folder, before any work: `dir` must be a folder that exists or can be created,
 * and in which files can be created (tried: a temporary file is created and removed; nothing else is
 * written, and a folder that does not exist yet is not created). `files` are the paths, relative to
 * `dir`, that the report will write: none may be a folder (or anything but a regular file), and a path
 * ending in `/` names a folder the report writes into, which must not be a file. Every problem is one
 * UserError naming the path.
 */
export function checkOutDir(dir: string, files: readonly string[] = []): void {
  const st = statOrNull(dir, 'output folder');
  if (st === null) {
    // It will be created: the nearest existing ancestor must be a folder we can create folders in.
    let a = resolve(dir);
    let ast: Stats | null = null;
    while (ast === null && dirname(a) !== a) {
      a = dirname(a);
      ast = statOrNull(a, 'output folder');
    }
    if (ast === null) throw new UserError(`cannot create the output folder ${dir}: no part of the path exists`);
    if (!ast.isDirectory()) throw new UserError(`cannot create the output folder ${dir}: ${a} is ${kindOf(ast)}, not a folder`);
    let probe: string;
    try {
      probe = mkdtempSync(join(a, '.mnist-duel-probe-'));
    } catch (e) {
      throw new UserError(`cannot create the output folder ${dir}: cannot create folders in ${a} (${why(e)})`);
    }
    rmdirSync(probe);
    return;
  }
  if (!st.isDirectory()) throw new UserError(`output folder ${dir}: is ${kindOf(st)}, not a folder`);
  const probe = join(dir, `.mnist-duel-probe-${process.pid}.tmp`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'x');
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (e) {
    throw new UserError(`output folder ${dir}: cannot write in it (${why(e)})`);
  }
  for (const rel of files) {
    const parts = rel.split('/').filter((p) => p !== '');
    for (let i = 0; i < parts.length; i++) {
      const p = join(dir, ...parts.slice(0, i + 1));
      const pst = statOrNull(p, 'report file');
      if (pst === null) break; // nothing there: it will be created
      const mustBeFolder = i < parts.length - 1 || rel.endsWith('/');
      if (mustBeFolder && !pst.isDirectory()) throw new UserError(`output folder ${dir}: ${p} is ${kindOf(pst)}, where the report needs a folder`);
      if (!mustBeFolder && !pst.isFile()) throw new UserError(`output folder ${dir}: ${p} is ${kindOf(pst)}, where the report writes a file`);
    }
  }
}

/** A destination must be absent, a regular file or a symbolic link (which rename replaces, not follows). */
function checkDestination(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError(`cannot write ${path}: ${why(e)}`); // e.g. ENOTDIR: a file where a folder of the path should be
  }
  if (!st.isFile() && !st.isSymbolicLink()) throw new UserError(`cannot write ${path}: it is ${kindOf(st)}, not a file`);
}

/** A second name for the file at `path` (a hard link; a copy where links are not supported), or null if there is none. */
function backup(path: string): string | null {
  const bak = join(dirname(path), `.${basename(path)}.${process.pid}.old.tmp`);
  rmSync(bak, { force: true }); // a leftover of a killed run with the same pid
  try {
    linkSync(path, bak);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    copyFileSync(path, bak);
  }
  return bak;
}

/**
 * Writes every file, or none: (1) every destination is checked (a folder, say, where a file must go is an
 * error before anything is written); (2) each file is written to a temporary beside its destination;
 * (3) each existing destination gets a backup name (a hard link, so the renames below still replace
 * files atomically); (4) the temporaries are renamed into place. If a rename fails, the ones already
 * done are undone from the backups (or removed, for files that did not exist), the temporaries are
 * removed, and the error is thrown; once all renames succeeded, the backups are removed.
 * File-system errors are thrown as one-line UserErrors naming the path.
 */
export function writeAllAtomic(files: OutFile[]): void {
  for (const f of files) checkDestination(f.path);

  const temps: string[] = [];
  const backups: (string | null)[] = [];
  const cleanUp = () => {
    for (const t of temps) rmSync(t, { force: true });
    for (const b of backups) if (b) rmSync(b, { force: true });
  };
  let current = '';
  try {
    for (const f of files) {
      current = f.path;
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`);
      temps.push(tmp);
      writeFileSync(tmp, f.data, { flush: true });
    }
    for (const f of files) {
      current = f.path;
      backups.push(backup(f.path));
    }
  } catch (e) {
    cleanUp();
    throw fsUserError(e, `cannot write ${current}: ${why(e)}; nothing was changed`);
  }

  let done = 0;
  try {
    for (; done < files.length; done++) renameSync(temps[done], files[done].path);
  } catch (e) {
    const failed = files[done].path;
    const notRestored: string[] = [];
    for (let i = done - 1; i >= 0; i--) {
      const b = backups[i];
      try {
        if (b) renameSync(b, files[i].path); // atomically back to the old content
        else rmSync(files[i].path, { force: true });
        backups[i] = null;
      } catch {
        notRestored.push(b ? `${files[i].path} (the old one is at ${b})` : files[i].path);
      }
    }
    for (const t of temps) rmSync(t, { force: true });
    for (let i = done; i < files.length; i++) if (backups[i]) rmSync(backups[i]!, { force: true }); // links: the originals are in place
    const after = notRestored.length ? `; could not restore ${notRestored.join(', ')}` : '; the previous files were restored';
    throw fsUserError(e, `cannot write ${failed}: ${why(e)}${after}`);
  }
  for (const b of backups) if (b) rmSync(b, { force: true });
}

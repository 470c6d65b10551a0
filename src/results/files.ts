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
import { fileKind } from '../core/files.ts';
import {
  copyFileSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
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
    if (!ast.isDirectory()) throw new UserError(`cannot create the output folder ${dir}: ${a} is ${fileKind(ast)}, not a folder`);
    let probe: string;
    try {
      probe = mkdtempSync(join(a, '.mnist-duel-probe-'));
    } catch (e) {
      throw new UserError(`cannot create the output folder ${dir}: cannot create folders in ${a} (${why(e)})`);
    }
    rmdirSync(probe);
    return;
  }
  if (!st.isDirectory()) throw new UserError(`output folder ${dir}: is ${fileKind(st)}, not a folder`);
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
      if (mustBeFolder && !pst.isDirectory()) throw new UserError(`output folder ${dir}: ${p} is ${fileKind(pst)}, where the report needs a folder`);
      if (!mustBeFolder && !pst.isFile()) throw new UserError(`output folder ${dir}: ${p} is ${fileKind(pst)}, where the report writes a file`);
      if (!mustBeFolder && lstatSync(p).isSymbolicLink()) throw new UserError(`output folder ${dir}: ${p} is a symbolic link, where the report writes a file (it would replace the link)`);
    }
  }
}

/**
 * A destination must be absent or a regular file. Nothing is ever renamed over anything else: a folder, a
 * device, a FIFO, a socket, or a symbolic link (the rename would replace the link itself: `/dev/stdout`).
 */
function checkDestination(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError(`cannot write ${path}: ${why(e)}`); // e.g. ENOTDIR: a file where a folder of the path should be
  }
  if (st.isSymbolicLink()) throw new UserError(`cannot write ${path}: it is a symbolic link, not a file`);
  if (!st.isFile()) throw new UserError(`cannot write ${path}: it is ${fileKind(st)}, not a file`);
}

// ---- one report, one unit ----
//
// Every temporary and backup name carries this run's tag, `.NAME.mnd-<pid>-<random>.tmp` (backups
// `.NAME.mnd-….old.tmp`), so the next run into the same folder can tell them from anything of the user's
// and remove them (cleanLeftovers). Before the first rename a journal (JOURNAL, in the report's folder)
// lists every destination, its temporary and its backup; it is removed once the last rename is done and
// the caller has committed. A run killed between its renames (SIGKILL, power loss) therefore leaves the
// journal, and the next run into that folder (or `npm run report` reading it) rolls the renames back from
// the backups before anything else: the previous report comes back byte for byte. Two runs cannot write
// into one folder at the same time: lockOut holds LOCK from before any work until the process exits.

const RUN_TAG = `mnd-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const LEFTOVER = /^\..+\.mnd-[0-9a-z]+-[0-9a-z]+(\.old)?\.tmp$/;
export const JOURNAL = '.mnist-duel-journal.json';
export const LOCK = '.mnist-duel.lock';

interface JournalEntry {
  dest: string;
  tmp: string;
  bak: string | null;
}

/** A second name for the file at `path` (a hard link; a copy where links are not supported), or null if there is none. */
function backup(path: string): string | null {
  const bak = join(dirname(path), `.${basename(path)}.${RUN_TAG}.old.tmp`);
  try {
    linkSync(path, bak);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    copyFileSync(path, bak);
  }
  return bak;
}

/** Undoes the renames of a journal: each destination gets its old content back (or is removed if it was new). */
function rollBack(entries: JournalEntry[], renamed: (e: JournalEntry) => boolean): string[] {
  const notRestored: string[] = [];
  for (const e of [...entries].reverse()) {
    try {
      if (renamed(e)) {
        if (e.bak) renameSync(e.bak, e.dest); // atomically back to the old content
        else rmSync(e.dest, { force: true }); // it was new
      } else if (e.bak) rmSync(e.bak, { force: true }); // not replaced: the backup is a second name of what is there
    } catch {
      notRestored.push(e.bak ? `${e.dest} (the old one is at ${e.bak})` : e.dest);
    }
    rmSync(e.tmp, { force: true });
  }
  return notRestored;
}

/** Removes the temporaries and backups an interrupted run left in `dir` (names carrying a run tag). */
export function cleanLeftovers(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (LEFTOVER.test(n) || n.startsWith('.mnist-duel-probe-')) rmSync(join(dir, n), { force: true, recursive: true });
}

/**
 * Recovery of a report folder before it is used: an unfinished journal (a run killed between its renames)
 * is rolled back, so the previous report is whole again, then the leftovers of interrupted runs are removed
 * from the folder and its gallery. Does nothing (writes nothing) in a folder without leftovers.
 */
export function recoverOut(dir: string): void {
  const j = join(dir, JOURNAL);
  if (existsSync(j)) {
    let entries: JournalEntry[] = [];
    try {
      entries = (JSON.parse(readFileSync(j, 'utf8')) as { entries: JournalEntry[] }).entries;
    } catch {
      entries = []; // a journal cut short was never used: it is written in full before the first rename
    }
    // every temporary was written before the journal: a destination was replaced if its temporary is gone
    rollBack(entries, (e) => !existsSync(e.tmp));
    for (const d of new Set(entries.map((e) => dirname(e.dest)))) cleanLeftovers(d);
    rmSync(j, { force: true });
  }
  cleanLeftovers(dir);
  cleanLeftovers(join(dir, 'gallery'));
}

/** A test hook: MNIST_DUEL_TEST_KILL_AFTER_RENAMES=N kills the process (SIGKILL) after its Nth rename. */
function killHook(renames: number): void {
  const n = process.env.MNIST_DUEL_TEST_KILL_AFTER_RENAMES;
  if (n !== undefined && Number(n) === renames) process.kill(process.pid, 'SIGKILL');
}

/** A report whose files are all in place, with the old ones still kept: commit() drops them, rollBack() restores them. */
export interface Swapped {
  paths: string[];
  commit(): void;
  rollBack(): void;
}

const pending = new Set<Swapped>();
// A process that exits (a second Ctrl-C, an error) before a swap was committed puts the old report back.
process.on('exit', () => {
  for (const s of pending) {
    try {
      s.rollBack();
    } catch {
      // the journal is still there: the next run into the folder restores the previous report
    }
  }
});

/**
 * Writes every file, then renames all into place, keeping the old ones until commit(); see writeAllAtomic.
 * `journalDir` (default: the folder of the last file) holds the journal while the swap is open.
 */
export function swapAll(files: OutFile[], opts: { journalDir?: string } = {}): Swapped {
  for (const f of files) checkDestination(f.path);
  const journal = join(opts.journalDir ?? dirname(files[files.length - 1].path), JOURNAL);

  const entries: JournalEntry[] = [];
  const cleanUp = () => {
    for (const e of entries) {
      rmSync(e.tmp, { force: true });
      if (e.bak) rmSync(e.bak, { force: true });
    }
    rmSync(journal, { force: true });
  };
  let current = '';
  try {
    for (const f of files) {
      current = f.path;
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${RUN_TAG}.tmp`);
      entries.push({ dest: f.path, tmp, bak: null });
      writeFileSync(tmp, f.data, { flush: true });
    }
    for (const e of entries) {
      current = e.dest;
      e.bak = backup(e.dest);
    }
    current = journal;
    const jt = `${journal}.${RUN_TAG}.tmp`;
    writeFileSync(jt, JSON.stringify({ pid: process.pid, entries }) + '\n', { flush: true });
    renameSync(jt, journal);
  } catch (e) {
    cleanUp();
    throw fsUserError(e, `cannot write ${current}: ${why(e)}; nothing was changed`);
  }

  let done = 0;
  try {
    for (; done < entries.length; done++) {
      renameSync(entries[done].tmp, entries[done].dest);
      killHook(done + 1);
    }
  } catch (e) {
    const failed = entries[done].dest;
    const notRestored = rollBack(entries, (x) => entries.indexOf(x) < done);
    cleanUp();
    const after = notRestored.length ? `; could not restore ${notRestored.join(', ')}` : '; the previous files were restored';
    throw fsUserError(e, `cannot write ${failed}: ${why(e)}${after}`);
  }
  const swapped: Swapped = {
    paths: files.map((f) => f.path),
    commit() {
      if (!pending.delete(swapped)) return;
      rmSync(journal, { force: true }); // the commit point: from here on the new report stays
      for (const e of entries) if (e.bak) rmSync(e.bak, { force: true });
    },
    rollBack() {
      if (!pending.delete(swapped)) return;
      rollBack(entries, () => true);
      cleanUp();
    },
  };
  pending.add(swapped);
  return swapped;
}

/**
 * Writes every file, or none: (1) every destination is checked (a folder, say, where a file must go is an
 * error before anything is written); (2) each file is written to a temporary beside its destination;
 * (3) each existing destination gets a backup name (a hard link, so the renames below still replace
 * files atomically); (4) a journal of (1)–(3) is written; (5) the temporaries are renamed into place.
 * If a rename fails, the ones already done are undone from the backups (or removed, for files that did
 * not exist), the temporaries are removed, and the error is thrown; once all renames succeeded, the
 * journal and then the backups are removed. If the process dies between the renames, the journal lets
 * the next run restore the previous files (recoverOut). File-system errors are one-line UserErrors naming the path.
 */
export function writeAllAtomic(files: OutFile[], opts: { journalDir?: string } = {}): void {
  swapAll(files, opts).commit();
}

// ---- one run per report folder ----

const locks: { file: string; created: string[] }[] = [];
process.on('exit', () => {
  for (const l of locks.splice(0)) {
    rmSync(l.file, { force: true });
    for (const d of l.created) {
      try {
        rmdirSync(d); // only if it is still empty: nothing was written there
      } catch {
        break;
      }
    }
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dir` for this process until it exits: creates the folder if it does not exist (removed again at
 * exit if nothing was written in it), then creates LOCK in it. If another living process holds the lock,
 * a UserError says so; a lock left by a process that no longer runs is taken over. Then recoverOut(dir).
 * The lock is removed when the process exits, however it exits short of SIGKILL.
 */
export function lockOut(dir: string): void {
  const abs = resolve(dir);
  if (locks.some((l) => dirname(l.file) === abs)) return;
  const created: string[] = [];
  for (let a = abs; !existsSync(a); a = dirname(a)) created.push(a);
  try {
    mkdirSync(abs, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the output folder ${dir}: ${why(e)}`);
  }
  const file = join(abs, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw fsUserError(e, `output folder ${dir}: cannot lock it (${why(e)})`);
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new UserError(`output folder ${dir}: another run (pid ${pid}) is writing a report there; wait for it to finish, or choose another --out`);
      }
      rmSync(file, { force: true }); // left by a run that was killed
    }
  }
  locks.push({ file, created });
  recoverOut(abs);
}

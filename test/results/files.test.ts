/**
 * Report output: the preflight check of --out (checkOutDir) and all-or-nothing writing (writeAllAtomic),
 * including a rename that fails half-way (simulated by wrapping fs.renameSync).
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { checkOutDir, JOURNAL, LOCK, lockOut, recoverOut, swapAll, writeAllAtomic } from '../../src/results/files.ts';
import { expectUserError } from '../data/util.ts';

// renameSync fails for destinations this predicate accepts (none by default), like a rename that hits
// a full disk or a vanished folder after every check passed.
const renameFault = vi.hoisted(() => ({ failFor: null as null | ((dest: string) => boolean) }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const renameSync: typeof fs.renameSync = (from, to) => {
    if (renameFault.failFor?.(String(to))) throw Object.assign(new Error(`EIO: i/o error, rename '${from}' -> '${to}'`), { code: 'EIO' });
    fs.renameSync(from, to);
  };
  return { ...fs, default: { ...fs, renameSync }, renameSync };
});
afterEach(() => {
  renameFault.failFor = null;
});

const root = mkdtempSync(join(tmpdir(), 'mnist-duel-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

/** Every name under dir, recursively, sorted ('gallery/test-1.png'). */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('checkOutDir: before any work, --out must be a folder we can write the report into', () => {
  const REPORT = ['compare.json', 'compare.md', 'gallery/'];

  it('an existing folder, or one that can be created, passes and is left as it was', () => {
    const d = fresh();
    writeFileSync(join(d, 'compare.md'), 'old');
    mkdirSync(join(d, 'gallery'));
    checkOutDir(d, REPORT);
    expect(tree(d)).toEqual(['compare.md', 'gallery']); // the probe file is gone
    const nested = join(fresh(), 'a', 'b', 'reports');
    checkOutDir(nested, REPORT);
    expect(existsSync(join(nested, '..', '..'))).toBe(false); // not created by the check
  });

  it('a file given as --out', () => {
    const f = join(fresh(), 'results.txt');
    writeFileSync(f, 'not a folder');
    expectUserError(() => checkOutDir(f, REPORT), `output folder ${f}`, 'is a file, not a folder');
  });

  it('a folder to create under a file', () => {
    const f = join(fresh(), 'file');
    writeFileSync(f, '');
    const out = join(f, 'sub', 'reports');
    expectUserError(() => checkOutDir(out, REPORT), `cannot create the output folder ${out}`, `${f} is a file, not a folder`);
  });

  it('places even root cannot write: an existing folder under /proc or /sys, a new one under them', () => {
    for (const d of ['/proc/self', '/sys']) expectUserError(() => checkOutDir(d, REPORT), `output folder ${d}`, 'cannot write in it', /\((E[A-Z]+)/);
    for (const d of ['/proc/self/mnist-out', '/sys/mnist-out/reports']) {
      expectUserError(() => checkOutDir(d, REPORT), `cannot create the output folder ${d}`, 'cannot create folders in', /\((E[A-Z]+)/);
    }
  });

  it('a folder named compare.md, a file named gallery, a folder where a gallery image goes', () => {
    const d = fresh();
    mkdirSync(join(d, 'compare.md'));
    expectUserError(() => checkOutDir(d, REPORT), join(d, 'compare.md'), 'is a folder, where the report writes a file');
    const e = fresh();
    writeFileSync(join(e, 'gallery'), '');
    expectUserError(() => checkOutDir(e, REPORT), join(e, 'gallery'), 'is a file, where the report needs a folder');
    const g = fresh();
    mkdirSync(join(g, 'gallery', 'test-7.png'), { recursive: true });
    expectUserError(() => checkOutDir(g, ['gallery/test-7.png']), join(g, 'gallery', 'test-7.png'), 'is a folder');
  });

  it('a symbolic link where a report file goes, even to a file: refused (the rename would replace the link)', () => {
    const d = fresh();
    writeFileSync(join(d, 'elsewhere.md'), '');
    symlinkSync(join(d, 'elsewhere.md'), join(d, 'compare.md'));
    expectUserError(() => checkOutDir(d, REPORT), join(d, 'compare.md'), 'is a symbolic link');
    expectUserError(() => writeAllAtomic([{ path: join(d, 'compare.md'), data: 'new' }]), `cannot write ${join(d, 'compare.md')}`, 'is a symbolic link');
    expect(readFileSync(join(d, 'elsewhere.md'), 'utf8')).toBe('');
    expect(tree(d)).toEqual(['compare.md', 'elsewhere.md']);
  });
});

describe('writeAllAtomic: every file or none', () => {
  /** A report folder holding an old compare.md and compare.json. */
  function oldReport(): string {
    const d = fresh();
    writeFileSync(join(d, 'compare.md'), 'old md\n');
    writeFileSync(join(d, 'compare.json'), '{"old": true}\n');
    return d;
  }
  const newFiles = (d: string) => [
    { path: join(d, 'compare.json'), data: '{"new": true}\n' },
    { path: join(d, 'gallery', 'test-1.png'), data: Uint8Array.from([1, 2, 3]) },
    { path: join(d, 'compare.md'), data: 'new md\n' },
  ];

  it('replaces and creates every file, leaving no temporaries or backups', () => {
    const d = oldReport();
    writeAllAtomic(newFiles(d));
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('new md\n');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"new": true}\n');
    expect([...readFileSync(join(d, 'gallery', 'test-1.png'))]).toEqual([1, 2, 3]);
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery', 'gallery/test-1.png']);
  });

  it('a folder where compare.md goes: an error before anything is written or renamed', () => {
    const d = oldReport();
    rmSync(join(d, 'compare.md'));
    mkdirSync(join(d, 'compare.md'));
    expectUserError(() => writeAllAtomic(newFiles(d)), `cannot write ${join(d, 'compare.md')}`, 'is a folder, not a file');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"old": true}\n');
    expect(tree(d)).toEqual(['compare.json', 'compare.md']); // no gallery, no temporaries
  });

  it('a file where a folder of a destination goes: an error, nothing changed', () => {
    const d = oldReport();
    writeFileSync(join(d, 'gallery'), 'a file');
    expectUserError(() => writeAllAtomic(newFiles(d)), join(d, 'gallery', 'test-1.png'), 'ENOTDIR');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"old": true}\n');
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery']);
  });

  it('the last rename fails: the files already renamed get their old content back, new ones are removed', () => {
    const d = oldReport();
    renameFault.failFor = (dest) => dest === join(d, 'compare.md');
    expectUserError(() => writeAllAtomic(newFiles(d)), `cannot write ${join(d, 'compare.md')}`, 'EIO', 'the previous files were restored');
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('old md\n');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"old": true}\n');
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery']); // test-1.png was new: removed; no .tmp left
  });

  it('the first rename fails: nothing was replaced, nothing is left behind', () => {
    const d = oldReport();
    renameFault.failFor = (dest) => dest === join(d, 'compare.json');
    expectUserError(() => writeAllAtomic(newFiles(d)), `cannot write ${join(d, 'compare.json')}`, 'EIO');
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('old md\n');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"old": true}\n');
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery']);
  });
});

describe('one report, one unit: the journal, the leftovers, the lock', () => {
  const oldReport = (): { d: string; before: Map<string, string> } => {
    const d = fresh();
    const before = new Map([
      ['compare.md', 'old md\n'],
      ['compare.json', '{"old": true}\n'],
    ]);
    for (const [f, b] of before) writeFileSync(join(d, f), b);
    return { d, before };
  };
  const newFiles = (d: string) => [
    { path: join(d, 'compare.json'), data: '{"new": true}\n' },
    { path: join(d, 'gallery', 'test-1.png'), data: Uint8Array.from([1, 2, 3]) },
    { path: join(d, 'compare.md'), data: 'new md\n' },
  ];

  it('a process killed (SIGKILL) after its first rename: the journal lets recoverOut put the previous report back', () => {
    const { d, before } = oldReport();
    // a child process writes the report and is killed by the test hook right after its first rename
    const script = `import { writeAllAtomic } from './src/results/files.ts';
      const d = ${JSON.stringify(d)};
      writeAllAtomic([{ path: d + '/compare.json', data: '{"new": true}\\n' }, { path: d + '/gallery/test-1.png', data: 'png' }, { path: d + '/compare.md', data: 'new md\\n' }]);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url).pathname, env: { ...process.env, MNIST_DUEL_TEST_KILL_AFTER_RENAMES: '1' } });
    expect(r.signal, String(r.stderr)).toBe('SIGKILL');
    expect(readFileSync(join(d, 'compare.json'), 'utf8')).toBe('{"new": true}\n'); // mixed, as the hook meant
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('old md\n');
    expect(tree(d)).toContain(JOURNAL);
    recoverOut(d);
    for (const [f, b] of before) expect(readFileSync(join(d, f), 'utf8')).toBe(b);
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery']); // no journal, temporaries or backups
  });

  it('swapped but not committed: rollBack() (or the next run, if the process died) restores the previous report; commit() keeps the new one', () => {
    const { d, before } = oldReport();
    const s = swapAll(newFiles(d));
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('new md\n');
    s.rollBack();
    for (const [f, b] of before) expect(readFileSync(join(d, f), 'utf8')).toBe(b);
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery']);
    const t = swapAll(newFiles(d));
    t.commit();
    t.rollBack(); // too late: nothing happens
    expect(readFileSync(join(d, 'compare.md'), 'utf8')).toBe('new md\n');
    expect(tree(d)).toEqual(['compare.json', 'compare.md', 'gallery', 'gallery/test-1.png']);
  });

  it('leftovers of interrupted runs are removed; files of the user that look alike are not', () => {
    const d = fresh();
    mkdirSync(join(d, 'gallery'));
    const ours = ['.compare.md.mnd-1a2-abc123.tmp', '.compare.json.mnd-zz-q1w2e3.old.tmp', 'gallery/.test-4.png.mnd-9-xyz987.tmp'];
    const theirs = ['notes.tmp', '.compare.md.tmp', 'gallery/test-4.png'];
    for (const f of [...ours, ...theirs]) writeFileSync(join(d, f), '');
    recoverOut(d);
    expect(tree(d)).toEqual(['.compare.md.tmp', 'gallery', 'gallery/test-4.png', 'notes.tmp']);
  });

  it('lockOut: a folder held by a living process is refused with its pid; a stale lock is taken over', () => {
    const d = fresh();
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(join(d, LOCK), `${holder.pid}\n`);
      expectUserError(() => lockOut(d), `output folder ${d}`, `another run (pid ${holder.pid}) is writing a report there`);
    } finally {
      holder.kill('SIGKILL');
    }
    const dead = spawnSync('true').pid!;
    writeFileSync(join(d, LOCK), `${dead}\n`);
    lockOut(d);
    expect(readFileSync(join(d, LOCK), 'utf8')).toBe(`${process.pid}\n`);
    const created = join(fresh(), 'a', 'b');
    lockOut(created); // a folder that did not exist is created for the lock (and removed at exit if left empty)
    expect(tree(created)).toEqual([LOCK]);
  });
});

// Outputs against inputs and against each other (src/harness/paths.ts), on real files in a temporary folder.
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputs, dataInputs } from '../../src/harness/paths.ts';
import { expectUserError } from '../data/util.ts';

const root = mkdtempSync(join(tmpdir(), 'mnist-duel-paths-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};
const out = (path: string, role = 'the report file') => ({ path, role });
const input = (path: string, role = 'the data file') => ({ path, role });
const GALLERY = (dir: string) => [{ dir: join(dir, 'gallery'), names: /^test-\d+\.png$/, role: 'its gallery images' }];

describe('checkOutputs', () => {
  it('distinct files pass, existing or not', () => {
    const d = fresh();
    writeFileSync(join(d, 'train.csv'), '');
    checkOutputs([input(join(d, 'train.csv'))], [out(join(d, 'compare.md')), out(join(d, 'compare.json')), out(join(d, 'sub.csv'), '--submission')], GALLERY(d));
  });

  it('an output that is an input: the same path, another spelling, a hard link, a path through a linked folder', () => {
    const d = fresh();
    const f = join(d, 'test.csv');
    writeFileSync(f, 'x');
    linkSync(f, join(d, 'hard.csv'));
    symlinkSync(d, join(d, 'again'));
    for (const p of [f, join(d, '.', 'x', '..', 'test.csv'), join(d, 'hard.csv'), join(d, 'again', 'test.csv')]) {
      expectUserError(() => checkOutputs([input(f)], [out(p, '--submission')]), `--submission ${p}`, `is the data file ${f}`, 'which the run reads');
    }
  });

  it('two outputs that are one, even when neither exists yet', () => {
    const d = fresh();
    expectUserError(() => checkOutputs([], [out(join(d, 'compare.md')), out(join(d, 'new', '..', 'compare.md'), '--submission')]), 'is also the report file');
  });

  it('an output inside the gallery folder under an image name, or an input there', () => {
    const d = fresh();
    expectUserError(() => checkOutputs([], [out(join(d, 'gallery', 'test-3.png'), '--submission')], GALLERY(d)), 'where the report writes its gallery images');
    checkOutputs([], [out(join(d, 'gallery', 'notes.txt'), '--submission')], GALLERY(d)); // not an image name
    expectUserError(() => checkOutputs([input(join(d, 'gallery', 'test-12.png'), '--predict')], [], GALLERY(d)), 'which the run reads');
  });

  it('outputs that are not regular files: a device, a folder, a FIFO, symbolic links to anything', () => {
    const d = fresh();
    mkdirSync(join(d, 'folder.md'));
    symlinkSync('/dev/null', join(d, 'null.csv'));
    writeFileSync(join(d, 'real.csv'), '');
    symlinkSync(join(d, 'real.csv'), join(d, 'file-link.csv'));
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling.csv'));
    expectUserError(() => checkOutputs([], [out('/dev/null', '--submission')]), '--submission /dev/null', 'is a character device');
    expectUserError(() => checkOutputs([], [out(join(d, 'folder.md'))]), 'is a folder');
    expectUserError(() => checkOutputs([], [out(join(d, 'null.csv'))]), 'is a symbolic link (to a character device)');
    expectUserError(() => checkOutputs([], [out(join(d, 'file-link.csv'))]), 'is a symbolic link (to a file)');
    expectUserError(() => checkOutputs([], [out(join(d, 'dangling.csv'))]), 'is a symbolic link (to nothing)');
    expectUserError(() => checkOutputs([], [out('/dev/stdout')]), 'is a symbolic link');
  });
});

describe('dataInputs', () => {
  it('a folder: its IDX and CSV files; a train.csv: it and the test.csv beside it', () => {
    const d = fresh();
    for (const f of ['train.csv', 'test.csv', 'train-images-idx3-ubyte.gz', 'notes.txt']) writeFileSync(join(d, f), '');
    expect(dataInputs(d).map((i) => i.path).sort()).toEqual(['test.csv', 'train-images-idx3-ubyte.gz', 'train.csv'].map((f) => join(d, f)));
    expect(dataInputs(join(d, 'train.csv')).map((i) => i.path).sort()).toEqual(['test.csv', 'train.csv'].map((f) => join(d, f)));
    expect(dataInputs(undefined)).toEqual([]);
    expect(dataInputs(join(d, 'missing'))).toEqual([]);
  });
});

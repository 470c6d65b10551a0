// `npm run compare` / `npm run report` against hostile paths, kills and signals: outputs that collide are
// one `error:` line before any work; a report is replaced as one unit (a kill between its renames, a signal
// before its commit, a second run into the same folder); signals are honoured at every moment; plans that
// cannot fit are refused before they allocate.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectOneError, expectUnchanged, NODE_ARGS, previousReport, root, tmpDirs, type Run } from './run-cli.ts';

const { tmp, cleanup } = tmpDirs('mnist-duel-hostile-');
afterAll(cleanup);

const compare = (args: string[], opts?: Parameters<typeof cli>[2]) => cli('src/cli/compare.ts', args, opts);
// A short real run: one trainer, 300 training images, 30 steps.
const TINY = ['--preset', 'smoke', '--trainers', 'scratch-gd', '--limit', '300', '--seeds', '1'];
// Enough training that a run which starts it cannot finish while a test waits for it.
const LONG = ['--preset', 'smoke', '--epochs', '500', '--trainers', 'scratch-gd', '--seeds', '1'];

function expectInterrupted(r: Run) {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(130);
  expect(r.stderr).toContain('interrupted: nothing was written');
}

/** Sends SIGTERM once stderr matches `when`. */
const termWhen = (when: RegExp) => (child: { pid?: number; kill: (s: NodeJS.Signals) => boolean }, stderr: () => string) => {
  const poll = setInterval(() => {
    if (when.test(stderr())) {
      clearInterval(poll);
      child.kill('SIGTERM');
    }
  }, 50);
};

describe('outputs that collide: one error line before any work, nothing replaced', () => {
  it('--submission is the report\'s own compare.md', async () => {
    const out = tmp();
    const before = previousReport(out);
    writeFileSync(join(tmp(), 'x.csv'), 'pixel0\n');
    expectOneError(await compare([...LONG, '--out', out, '--predict', join(out, 'x.csv'), '--submission', join(out, 'compare.md')]), `--submission ${join(out, 'compare.md')}`, 'is also the report file');
    expectUnchanged(out, before);
  });

  it('--submission is the test.csv the run reads (through --data folder/train.csv and a link to the folder), or --predict is compare.json', async () => {
    const d = tmp();
    writeFileSync(join(d, 'train.csv'), 'label,pixel0\n');
    writeFileSync(join(d, 'test.csv'), 'pixel0\n');
    const link = join(tmp(), 'link-to-data');
    symlinkSync(d, link);
    const out = join(tmp(), 'reports');
    expectOneError(await compare([...LONG, '--data', join(d, 'train.csv'), '--out', out, '--submission', join(link, '.', 'test.csv')]), `--submission ${join(link, '.', 'test.csv')}`, `is the data file ${join(d, 'test.csv')}`);
    const out2 = tmp();
    const before = previousReport(out2);
    expectOneError(await compare([...LONG, '--out', out2, '--predict', join(out2, 'compare.json'), '--submission', join(tmp(), 's.csv')]), 'the report file', 'is --predict');
    expect(readFileSync(join(d, 'test.csv'), 'utf8')).toBe('pixel0\n');
    expect(existsSync(out)).toBe(false);
    expectUnchanged(out2, before);
  });

  it('--submission a device, or a symbolic link (to a device like /dev/stdout, or to a file): the link stays a link', async () => {
    const d = tmp();
    writeFileSync(join(d, 'x.csv'), 'pixel0\n');
    symlinkSync('/dev/null', join(d, 'to-null.csv'));
    writeFileSync(join(d, 'real.csv'), 'keep\n');
    symlinkSync(join(d, 'real.csv'), join(d, 'to-file.csv'));
    const out = join(tmp(), 'reports');
    const run = (sub: string) => compare([...LONG, '--out', out, '--predict', join(d, 'x.csv'), '--submission', sub]);
    expectOneError(await run('/dev/stdout'), '--submission /dev/stdout', 'is a symbolic link');
    expectOneError(await run(join(d, 'to-file.csv')), 'is a symbolic link (to a file)');
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
    expect(lstatSync(join(d, 'to-null.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'real.csv'), 'utf8')).toBe('keep\n');
    expect(existsSync(out)).toBe(false);
  });

  it('npm run report -- /dev/stdin with no --out: refused, nothing written into /dev', async () => {
    const before = readdirSync('/dev').sort();
    expectOneError(await cli('src/cli/report.ts', ['/dev/stdin']), '/dev/stdin', /is a (FIFO|socket|device|folder)/);
    expect(readdirSync('/dev').sort()).toEqual(before);
  });
});

describe('a report is one unit', () => {
  it('killed (SIGKILL) between its renames: the next run puts the previous report back, byte for byte, and removes the leftovers', async () => {
    const out = tmp();
    const before = previousReport(out);
    const r = await compare([...TINY, '--out', out], { env: { MNIST_DUEL_TEST_KILL_AFTER_RENAMES: '1' } });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    // the hook really stopped between the renames: the new compare.json is in place, compare.md is the old one
    expect(readFileSync(join(out, 'compare.json'), 'utf8')).toContain('"schema"');
    expect(readFileSync(join(out, 'compare.md')).equals(before.get('compare.md')!)).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp')).length).toBeGreaterThan(0);
    // the next run into the folder (here one that then fails on its data) recovers it first
    expectOneError(await compare([...TINY, '--out', out, '--data', join(tmp(), 'missing')]), 'missing');
    expectUnchanged(out, before);
  });

  it('SIGTERM after the new files were renamed into place, before the commit: exit 130, the previous report back', async () => {
    const out = tmp();
    const before = previousReport(out);
    expectInterrupted(await compare([...TINY, '--out', out], { env: { MNIST_DUEL_TEST_SIGNAL_AT: 'after-swap' } }));
    expectUnchanged(out, before);
  });

  it('a second run into the same --out while the first runs: refused with the first one\'s pid', async () => {
    const out = tmp();
    const before = previousReport(out);
    let second: Run | null = null;
    let firstPid = 0;
    const first = await compare([...LONG, '--out', out], {
      onSpawn: (child, stderr) => {
        firstPid = child.pid!;
        const poll = setInterval(async () => {
          if (!/steps/.test(stderr())) return;
          clearInterval(poll);
          second = await compare([...TINY, '--out', out]);
          child.kill('SIGTERM');
        }, 50);
      },
    });
    expectInterrupted(first);
    expectOneError(second!, `output folder ${out}`, `another run (pid ${firstPid})`);
    expectUnchanged(out, before);
  });
});

describe('signals honoured at every moment: exit 130, the previous report untouched', () => {
  it('SIGTERM after the last training step, before anything is written', async () => {
    const out = tmp();
    const before = previousReport(out);
    const r = await compare([...TINY, '--out', out], { env: { MNIST_DUEL_TEST_SIGNAL_AT: 'after-run' } });
    expectInterrupted(r);
    expect(r.stderr).toMatch(/30\/30 steps/); // training had finished
    expectUnchanged(out, before);
  });

  it('SIGTERM during one long step (a wide network in the trainers\' worker thread)', async () => {
    // one step of 3000 images through 784-3000-3000-10 is minutes of work on this machine
    const out = tmp();
    const before = previousReport(out);
    const r = await compare(['--preset', 'smoke', '--trainers', 'scratch-gd', '--seeds', '1', '--layers', '3000,3000', '--keep', '1,1', '--batch', '3000', '--limit', '3000', '--out', out], {
      onSpawn: termWhen(/0\/1 steps/),
    });
    expectInterrupted(r);
    expect(r.stderr).toMatch(/0\/1 steps/);
    expectUnchanged(out, before);
  });

  it('SIGTERM as soon as the process handles signals (before the TypeScript loader has started)', async () => {
    const out = tmp();
    const before = previousReport(out);
    const r = await compare([...LONG, '--out', out], { env: { MNIST_DUEL_TEST_SIGNALS_READY: '1' }, onSpawn: termWhen(/^signals ready$/m) });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe('signals ready\n\ninterrupted: nothing was written\n');
    expectUnchanged(out, before);
  });

  it('the npm parent killed: node notices it was orphaned and stops, writing nothing', async () => {
    // npm runs `sh -c "node …"`; sh dies of the signal without passing it on. `; true` keeps sh from exec'ing node.
    const out = tmp();
    const before = previousReport(out);
    const cmd = ['node', ...NODE_ARGS, 'src/cli/compare.ts', ...LONG, '--out', out].map((a) => `'${a}'`).join(' ');
    const sh = spawn('sh', ['-c', `${cmd}; true`], { cwd: root, env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    let stderr = '';
    sh.stderr.on('data', (d) => (stderr += d));
    let node = 0;
    const limit = setTimeout(() => node && process.kill(node, 'SIGKILL'), 90_000); // a hang fails the test
    const poll = setInterval(() => {
      if (/steps/.test(stderr)) {
        clearInterval(poll);
        node = Number(readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim().split(' ')[0]);
        sh.kill('SIGKILL');
      }
    }, 50);
    // the pipes close when the last process holding them (node) has exited
    await new Promise((resolve) => sh.stderr.on('close', resolve));
    clearTimeout(limit);
    expect(stderr).toMatch(/steps/);
    expect(stderr).toContain('interrupted: nothing was written');
    expectUnchanged(out, before);
  });
});

describe('npm run report validates its JSON: one error line, exit 2, nothing written', () => {
  it('a FIFO (no hang), /dev/zero (no endless read), a JSON without runs, a gallery index of 1e9', async () => {
    const d = tmp();
    execFileSync('mkfifo', [join(d, 'fifo.json')]);
    const base = JSON.parse(readFileSync(join(root, 'reports', 'compare.json'), 'utf8'));
    const { runs: _, ...noRuns } = base;
    writeFileSync(join(d, 'no-runs.json'), JSON.stringify(noRuns));
    base.gallery.indices[0] = 1e9;
    writeFileSync(join(d, 'far.json'), JSON.stringify(base));
    const out = join(tmp(), 'reports');
    const report = (f: string) => cli('src/cli/report.ts', [f, '--out', out]);
    expectOneError(await report(join(d, 'fifo.json')), 'is a FIFO (named pipe), not a results JSON file');
    expectOneError(await report('/dev/zero'), '/dev/zero: is a character device');
    expectOneError(await report(join(d, 'no-runs.json')), 'runs is missing');
    expectOneError(await report(join(d, 'far.json')), 'gallery.indices[0] 1000000000 is not a test image');
    expect(existsSync(out)).toBe(false);
  });
});

describe('plans checked before they allocate', () => {
  it('--layers 4096 sixteen times: refused at once with the estimate', async () => {
    const out = join(tmp(), 'reports');
    const layers = Array(16).fill(4096).join(',');
    const keep = Array(16).fill(1).join(',');
    expectOneError(await compare(['--layers', layers, '--keep', keep, '--out', out]), 'the plan needs about', '254,976,010 parameters', /more than the bound of [\d.]+ GiB \(half of this machine's/);
    expect(existsSync(out)).toBe(false);
  });

  it('--threads above the core count: a warning line on stderr', async () => {
    const n = availableParallelism() + 1;
    const r = await compare([...TINY, '--threads', String(n), '--data', join(tmp(), 'missing'), '--out', join(tmp(), 'reports')]);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[0]).toBe(`warning: --threads ${n} is more than the ${n - 1} cores here: each thread costs memory and the steps will be slower, not faster`);
    expect(lines[1]).toMatch(/^error: /);
  });
});

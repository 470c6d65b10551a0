// `npm run compare` / `npm run report` with input that used to hang, eat memory or waste a run: each must
// be one `error:` line, exit 2, nothing written, before any training; and SIGTERM must be Ctrl-C.
import { expectUnchanged, previousReport } from './run-cli.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RESULTS_SCHEMA, RESULTS_VERSION } from '../../src/results/results.ts';
import { CSV_HEADER, embeddedRaw, idxImages, idxLabels, writeGzipBomb, writeGzipRepeat, writeIdxDir } from '../data/util.ts';

const root = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mnist-duel-fail-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// The peak memory of a CLI run: a preload module records process.resourceUsage().maxRSS (KiB) at exit.
const rssDir = tmp();
const rssHook = join(rssDir, 'rss-hook.mjs');
writeFileSync(rssHook, `import { writeFileSync } from 'node:fs';
process.on('exit', () => { if (process.env.RSS_FILE) writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)); });
`);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  rssKiB?: number;
}

/** Runs a CLI script as `npm run` does (node with the tsx loader), with a hard time limit. */
function cli(script: string, args: string[], opts: { rss?: boolean; onSpawn?: (pid: number, stderr: () => string) => void } = {}): Promise<Run> {
  const rssFile = join(rssDir, `rss-${Math.random().toString(36).slice(2)}`);
  const pre = opts.rss ? ['--import', rssHook] : [];
  const t0 = performance.now();
  const child = spawn(process.execPath, [...pre, '--import', 'tsx/esm', script, ...args], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', RSS_FILE: rssFile },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000); // a hang fails the test instead of stalling the suite
  opts.onSpawn?.(child.pid!, () => stderr);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      const rssKiB = opts.rss && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : undefined;
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, rssKiB });
    }),
  );
}
const compare = (args: string[], opts?: Parameters<typeof cli>[2]) => cli('src/cli/compare.ts', args, opts);

// Enough training that a run which starts it cannot finish within the time bounds below.
const LONG = ['--preset', 'smoke', '--epochs', '500', '--trainers', 'scratch-gd', '--seeds', '1'];

/** One `error:` line matching every pattern, exit 2, quickly. */
function expectOneError(r: Run, ...patterns: (string | RegExp)[]) {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  for (const p of patterns) typeof p === 'string' ? expect(lines[0]).toContain(p) : expect(lines[0]).toMatch(p);
  expect(r.stderr).not.toMatch(/steps/); // no training progress was shown
  expect(r.ms).toBeLessThan(20_000);
}

describe.concurrent('--out that cannot take the report: refused before any training', () => {
  it('a regular file given as --out', async () => {
    const f = join(tmp(), 'report.txt');
    writeFileSync(f, 'keep me\n');
    expectOneError(await compare([...LONG, '--out', f]), f, 'is a file, not a folder');
    expect(readFileSync(f, 'utf8')).toBe('keep me\n');
  });

  it('a folder root cannot write in (/proc/self), or create (under /sys), or one under a file', async () => {
    expectOneError(await compare([...LONG, '--out', '/proc/self']), '/proc/self', 'cannot write in it');
    expectOneError(await compare([...LONG, '--out', '/sys/mnist-duel-reports']), '/sys/mnist-duel-reports', 'cannot create');
    const f = join(tmp(), 'file');
    writeFileSync(f, '');
    expectOneError(await compare([...LONG, '--out', join(f, 'reports')]), join(f, 'reports'), `${f} is a file`);
  });

  it('a folder named compare.md inside --out: the previous report is untouched', async () => {
    const out = tmp();
    mkdirSync(join(out, 'compare.md'));
    writeFileSync(join(out, 'compare.json'), '{"previous": true}\n');
    expectOneError(await compare([...LONG, '--out', out]), join(out, 'compare.md'), 'is a folder');
    expect(readFileSync(join(out, 'compare.json'), 'utf8')).toBe('{"previous": true}\n');
    expect(readdirSync(out).sort()).toEqual(['compare.json', 'compare.md']);
  });

  it('npm run report: --out that is a file, before the data is loaded', async () => {
    const d = tmp();
    const json = join(d, 'compare.json');
    writeFileSync(json, readFileSync(join(root, 'reports', 'compare.json'))); // a valid results JSON: it is checked before --out
    const f = join(d, 'out.txt');
    writeFileSync(f, '');
    expectOneError(await cli('src/cli/report.ts', [json, '--out', f]), f, 'is a file, not a folder');
  });
});

describe.concurrent('data files that would hang or fill memory: refused at once', () => {
  /** A --data folder with valid IDX files except train-images, made by `make`. */
  function dataDir(make: (trainImages: string) => void): string {
    const d = tmp();
    writeIdxDir(d, 50, 20);
    rmSync(join(d, 'train-images-idx3-ubyte'));
    make(join(d, 'train-images-idx3-ubyte'));
    return d;
  }

  it('a FIFO named like an IDX file', async () => {
    const d = dataDir((f) => execFileSync('mkfifo', [f]));
    const out = join(tmp(), 'reports');
    expectOneError(await compare([...LONG, '--data', d, '--out', out]), join(d, 'train-images-idx3-ubyte'), 'is a FIFO');
    expect(existsSync(out)).toBe(false);
  });

  it('a symlink to /dev/zero named like an IDX file', async () => {
    const d = dataDir((f) => symlinkSync('/dev/zero', f));
    const out = join(tmp(), 'reports');
    expectOneError(await compare([...LONG, '--data', d, '--out', out]), join(d, 'train-images-idx3-ubyte'), 'is a character device');
    expect(existsSync(out)).toBe(false);
  });

  it('a 1 GiB gzip bomb named train-images-idx3-ubyte.gz with a valid 60000×28×28 header: bounded memory', async () => {
    const d = dataDir((f) => writeGzipBomb(`${f}.gz`, idxImages(60000, 28, 28, new Uint8Array(0)), 1024));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idxLabels(new Uint8Array(60000))); // as many labels, so the headers agree
    const out = join(tmp(), 'reports');
    const r = await compare([...LONG, '--data', d, '--out', out], { rss: true });
    expectOneError(r, join(d, 'train-images-idx3-ubyte.gz'), 'wrong size', 'expected 47040016 bytes', 'found more');
    expect(existsSync(out)).toBe(false);
    // Inflating the bomb would need over 1 GiB; the CLI with tfjs loaded and the 47 MB it may inflate needs ~250 MB.
    expect(r.rssKiB).toBeGreaterThan(0);
    expect(r.rssKiB! / 1024).toBeLessThan(600);
  });
});

describe('data whose size is decided by the headers: refused before the body is kept, under 600 MB', () => {
  it('a 2 MB train.csv.gz of 894 MB of valid rows: too many rows', async () => {
    const d = tmp();
    const f = join(d, 'train.csv.gz');
    writeGzipRepeat(f, Buffer.from(CSV_HEADER + '\n'), Buffer.from(('0' + ',0'.repeat(784) + '\n').repeat(640)), 890);
    const out = join(tmp(), 'reports');
    const r = await compare([...LONG, '--data', f, '--out', out], { rss: true });
    expectOneError(r, `${f}: too many rows: more than 150,000, the most accepted`);
    expect(existsSync(out)).toBe(false);
    expect(r.rssKiB! / 1024).toBeLessThan(600); // ~240 MB with tfjs loaded; it took 3.5 GB when the rows were kept
  });

  it('a header and 10 million blank lines: an empty CSV, not a RangeError', async () => {
    const d = tmp();
    writeFileSync(join(d, 'train.csv'), Buffer.concat([Buffer.from(CSV_HEADER + '\n'), Buffer.alloc(10_000_000, '\n')]));
    const r = await compare([...LONG, '--data', d, '--out', join(tmp(), 'reports')], { rss: true });
    expectOneError(r, `${join(d, 'train.csv')}: empty CSV: a header but no data rows`);
    expect(r.rssKiB! / 1024).toBeLessThan(600);
  });

  it('a 770 KB train-images.gz whose header says 1,000,000 images, beside 3,000 labels', async () => {
    const d = tmp();
    writeIdxDir(d, 5, 5);
    rmSync(join(d, 'train-images-idx3-ubyte'));
    writeGzipBomb(join(d, 'train-images-idx3-ubyte.gz'), idxImages(1_000_000, 28, 28, new Uint8Array(0)), 747);
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idxLabels(embeddedRaw('train', 3000).labels));
    const r = await compare([...LONG, '--data', d, '--out', join(tmp(), 'reports')], { rss: true });
    expectOneError(r, 'train-images-idx3-ubyte.gz: header says 1000000 images, more than the 150000 accepted');
    expect(r.rssKiB! / 1024).toBeLessThan(600);
  });
});

describe('SIGTERM is Ctrl-C: exit 130, the previous report untouched', () => {
  it('while the data is being read (before training)', async () => {
    // A full-size gzipped training set, so that reading it takes a while; the signal is sent while the
    // CLI has the file open (seen in /proc/<pid>/fd).
    const d = tmp();
    writeIdxDir(d, 60000, 100);
    const f = join(d, 'train-images-idx3-ubyte');
    writeFileSync(`${f}.gz`, gzipSync(readFileSync(f), { level: 1 }));
    rmSync(f);
    const out = tmp();
    const before = previousReport(out);
    let sentWhileOpen = false;
    const r = await compare([...LONG, '--data', d, '--out', out], {
      onSpawn: (pid) => {
        const t0 = Date.now();
        while (Date.now() - t0 < 30_000) {
          let open = false;
          try {
            open = readdirSync(`/proc/${pid}/fd`).some((fd) => {
              try {
                return readlinkSync(`/proc/${pid}/fd/${fd}`) === `${f}.gz`;
              } catch {
                return false;
              }
            });
          } catch {
            break; // the process is gone
          }
          if (open) {
            process.kill(pid, 'SIGTERM');
            sentWhileOpen = true;
            break;
          }
        }
      },
    });
    expect(sentWhileOpen).toBe(true);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted: nothing was written');
    expect(r.stderr).not.toMatch(/steps/);
    expectUnchanged(out, before);
  });

  it('during training', async () => {
    const out = tmp();
    const before = previousReport(out);
    const r = await compare([...LONG, '--out', out], {
      onSpawn: (pid, stderr) => {
        const poll = setInterval(() => {
          if (/steps/.test(stderr())) {
            clearInterval(poll);
            process.kill(pid, 'SIGTERM');
          }
        }, 50);
      },
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/steps/);
    expect(r.stderr).toContain('interrupted: nothing was written');
    expectUnchanged(out, before);
  });
});

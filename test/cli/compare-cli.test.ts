// `npm run compare` as a user runs it: exit codes, one-line errors, nothing half-written.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvText, csvTextUnlabelled, embeddedRaw, writeIdxDir } from '../data/util.ts';

// With the native backend installed, TensorFlow's load-time oneDNN note ("…round-off errors…") is not an error.
const TF_NOTE = /^(WARNING: All log messages before absl::InitializeLog\(\).*|I\d{4} .*\] oneDNN custom operations are on\..*)$/gm;

const root = new URL('../..', import.meta.url).pathname;
// as `npm run compare` does: one node process with the tsx loader (no tsx wrapper process in between)
const node = (args: string[]) => [process.execPath, ['--import', 'tsx/esm', 'src/cli/compare.ts', ...args]] as const;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mnist-duel-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The real CLI in a child; asynchronous, so that a long run never blocks vitest's worker (its RPC times out). */
function compare(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = node(args);
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, argv, { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '', stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let nativeInstalled = true;
try {
  createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
} catch {
  nativeInstalled = false;
}

describe('compare CLI', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await compare(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--preset NAME');
    expect(r.stdout).toContain('notebook');
  });

  for (const args of [
    ['--batch', '0'],
    ['--lr=-1'],
    ['--frobnicate'],
    ['--backend', 'gpu'],
    ['--data', '/nonexistent/mnist'],
    ['--layers', '0'],
    ['--layers', 'a'],
    ['--keep', '0'],
    ['--keep', '1.5'],
    ['--layers', '400,100', '--keep', '0.5'],
  ]) {
    it(`bad input ${args.join(' ')}: one error line, exit 2, nothing written`, async () => {
      const out = join(tmp(), 'reports');
      const r = await compare(['--preset', 'smoke', '--out', out, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('corrupt data (a truncated IDX file, a label of 12): one error line naming the file, exit 2, nothing written', async () => {
    for (const corrupt of ['truncate', 'label'] as const) {
      const data = tmp();
      writeIdxDir(data, 50, 20);
      const f = join(data, 't10k-labels-idx1-ubyte');
      const bytes = readFileSync(f);
      if (corrupt === 'truncate') writeFileSync(f, bytes.subarray(0, bytes.length - 5));
      else {
        bytes[8 + 3] = 12;
        writeFileSync(f, bytes);
      }
      const out = join(tmp(), 'reports');
      const r = await compare(['--preset', 'smoke', '--data', data, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('t10k-labels-idx1-ubyte');
      expect(r.stderr).toMatch(corrupt === 'truncate' ? /truncat|expected \d+ bytes/i : /label 12|outside 0\.\.9/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it.skipIf(nativeInstalled)('--backend tensorflow without @tensorflow/tfjs-node is a clear error (runs only where tfjs-node is not installed)', async () => {
    const out = join(tmp(), 'reports');
    const r = await compare(['--preset', 'smoke', '--out', out, '--backend', 'tensorflow']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/tensorflow.*tfjs-node/);
    expect(existsSync(out)).toBe(false);
  });

  it('the deep preset (its smoke variant) runs end to end: every layer in the agreement and drift tables', async () => {
    const out = tmp();
    const r = await compare(['--preset', 'deep-smoke', '--out', out]);
    expect(r.stderr.replace(TF_NOTE, '')).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(res.plan.sizes).toEqual([784, 400, 100, 10]);
    expect(res.tensors).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    expect(res.agreement.every((a: { pass: boolean; dropout: boolean }) => a.pass && a.dropout)).toBe(true);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toContain('784 → 400 relu → 100 relu → 10 softmax');
    expect(md).toContain('keep 0.4 / 0.5');
    expect(md).toMatch(/\| step \| W1 \| b1 \| W2 \| b2 \| W3 \| b3 \|/);
    expect(md).toMatch(/\| W3 \| 1 \/ \d+ \|/);
  });

  it('Kaggle: train.csv with an unlabelled test.csv beside it → --submission writes ImageId,Label from the most accurate run', async () => {
    const data = tmp();
    const train = embeddedRaw('train', 3000); // 1,000 rows are held out as the test set
    const test = embeddedRaw('t10k', 60); // Kaggle's test.csv has no labels; we know these ones
    writeFileSync(join(data, 'train.csv'), csvText(train.images, train.labels));
    writeFileSync(join(data, 'test.csv'), csvTextUnlabelled(test.images, 60));
    const out = tmp();
    const sub = join(tmp(), 'kaggle', 'submission.csv');
    const r = await compare(['--preset', 'smoke', '--data', data, '--out', out, '--submission', sub, '--backend', 'cpu']);
    expect(r.stderr.replace(TF_NOTE, '')).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = readFileSync(sub, 'utf8').split('\n');
    expect(lines[0]).toBe('ImageId,Label');
    expect(lines.at(-1)).toBe(''); // a final newline
    const rows = lines.slice(1, -1).map((l) => l.split(','));
    expect(rows.map((x) => Number(x[0]))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(rows.every((x) => x.length === 2 && /^[0-9]$/.test(x[1]))).toBe(true);
    // a trained network, not noise: most of the 60 real digits are right
    const right = rows.filter((x, i) => Number(x[1]) === test.labels[i]).length;
    expect(right).toBeGreaterThan(30);
    // the report names the run, and it is the most accurate one
    const res = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    const best = Math.max(...res.runs.map((x: { final: { testAcc: number } }) => x.final.testAcc));
    expect(res.submission).toMatchObject({ file: sub, images: 60, testAcc: best });
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toContain(`**Kaggle submission:** \`${sub}\`, 60 images`);
  });

  it('Kaggle: --data folder/train.csv with an unlabelled test.csv beside it works as the folder does; the report says what the test set is', async () => {
    const data = tmp();
    const train = embeddedRaw('train', 1500);
    const test = embeddedRaw('t10k', 20);
    writeFileSync(join(data, 'train.csv'), csvText(train.images, train.labels));
    writeFileSync(join(data, 'test.csv'), csvTextUnlabelled(test.images, 20));
    const out = tmp();
    const sub = join(tmp(), 'submission.csv');
    const r = await compare(['--preset', 'smoke', '--trainers', 'scratch-gd', '--seeds', '1', '--data', join(data, 'train.csv'), '--out', out, '--submission', sub]);
    expect(r.stderr.replace(TF_NOTE, '')).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(readFileSync(sub, 'utf8').split('\n')).toHaveLength(22); // header, 20 rows, '' after the last newline
    const res = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(res.dataset).toMatchObject({ train: 500, test: 1000 }); // 1,000 rows of train.csv held out
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toContain(`1000 rows held out as test, seed 1; ${join(data, 'test.csv')} has no labels: the images to predict`);
  });

  it('Kaggle: a labelled test.csv beside --data folder/train.csv is the test set, not a holdout', async () => {
    const data = tmp();
    const train = embeddedRaw('train', 1500);
    const test = embeddedRaw('t10k', 300);
    writeFileSync(join(data, 'train.csv'), csvText(train.images, train.labels));
    writeFileSync(join(data, 'test.csv'), csvText(test.images, test.labels));
    const out = tmp();
    const r = await compare(['--preset', 'smoke', '--trainers', 'scratch-gd', '--seeds', '1', '--data', join(data, 'train.csv'), '--out', out]);
    expect(r.stderr.replace(TF_NOTE, '')).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(res.dataset).toMatchObject({ train: 1500, test: 300 });
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toContain(`the test set: ${join(data, 'test.csv')} (labelled)`);
  });

  it('--submission without images to predict is an error before any training', async () => {
    const out = join(tmp(), 'reports');
    const t0 = Date.now();
    const r = await compare(['--preset', 'smoke', '--out', out, '--submission', join(tmp(), 's.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: --submission needs images to predict/);
    expect(existsSync(out)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a diverging trainer is reported as diverged at step N with its learning rate; the others finish', async () => {
    const out = tmp();
    const r = await compare(['--preset', 'smoke', '--out', out, '--lr', '1e6', '--trainers', 'scratch-gd,tfjs-sgd,tfjs-adam', '--backend', 'cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/warning: scratch-gd diverged at step \d+ \(seed 1, learning rate 1000000/);
    const res = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    const byName = Object.fromEntries(res.runs.map((x: { trainer: string }) => [x.trainer, x]));
    expect(byName['scratch-gd'].status).toBe('diverged');
    expect(byName['tfjs-sgd'].status).toBe('diverged');
    expect(byName['tfjs-adam'].status).toBe('ok');
    expect(byName['tfjs-adam'].final.testAcc).toBeGreaterThan(0.1);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(new RegExp(`scratch-gd diverged\\*\\* at step ${byName['scratch-gd'].diverged.step} \\(seed 1, learning rate 1000000`));
  });

  it('an interrupted run leaves the previous report untouched and no partial files', async () => {
    const out = tmp();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'compare.md'), 'previous report\n');
    writeFileSync(join(out, 'compare.json'), '{"previous": true}\n');
    const child = spawn(...node(['--preset', 'smoke', '--epochs', '200', '--out', out]), { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // interrupt once training is under way
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (/steps/.test(stderr)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted: nothing was written');
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toBe('previous report\n');
    expect(readFileSync(join(out, 'compare.json'), 'utf8')).toBe('{"previous": true}\n');
    expect(readdirSync(out).sort()).toEqual(['compare.json', 'compare.md']);
  });
});

// `npm run report`: re-renders the markdown (and gallery) from a results JSON without training.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx/esm', script, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mnist-duel-report-'));
  const r = run('src/cli/compare.ts', ['--preset', 'smoke', '--trainers', 'scratch-gd,tfjs-sgd', '--backend', 'cpu', '--out', join(dir, 'a')]);
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report CLI', () => {
  it('re-renders the same markdown and gallery from the JSON', () => {
    const r = run('src/cli/report.ts', [join(dir, 'a', 'compare.json'), '--out', join(dir, 'b')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'b', 'compare.md'), 'utf8')).toBe(readFileSync(join(dir, 'a', 'compare.md'), 'utf8'));
    const res = JSON.parse(readFileSync(join(dir, 'a', 'compare.json'), 'utf8'));
    for (const i of res.gallery.indices) {
      expect(readFileSync(join(dir, 'b', 'gallery', `test-${i}.png`))).toEqual(readFileSync(join(dir, 'a', 'gallery', `test-${i}.png`)));
    }
  });

  it('a missing or foreign JSON is one error line, exit 2, nothing written', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"schema": "something-else"}');
    for (const f of [join(dir, 'nope.json'), bad]) {
      const r = run('src/cli/report.ts', [f, '--out', join(dir, 'c')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: .*(no such file|not a mnist-duel\/results v2 file)/);
    }
    expect(existsSync(join(dir, 'c'))).toBe(false);
  });
});

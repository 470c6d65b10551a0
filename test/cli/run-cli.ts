// Running a CLI script as `npm run` does (node with the signals preload and the tsx loader), with a hard
// time limit, and the checks the CLI tests share.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const root = new URL('../..', import.meta.url).pathname;
export const NODE_ARGS = ['--import', './src/cli/signals.mjs', '--import', 'tsx/esm'];

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tmpDirs(prefix: string): { tmp: () => string; cleanup: () => void } {
  const dirs: string[] = [];
  return {
    tmp: () => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    cleanup: () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
  };
}

export function cli(script: string, args: string[], opts: { env?: Record<string, string>; onSpawn?: (child: ChildProcess, stderr: () => string) => void } = {}): Promise<Run> {
  const child = spawn(process.execPath, [...NODE_ARGS, script, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: '0', ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const limit = setTimeout(() => child.kill('SIGKILL'), 90_000); // a hang fails the test instead of stalling the suite
  opts.onSpawn?.(child, () => stderr);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** One `error:` line matching every pattern, exit 2, and no training started. */
export function expectOneError(r: Run, ...patterns: (string | RegExp)[]): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  for (const p of patterns) typeof p === 'string' ? expect(lines[0]).toContain(p) : expect(lines[0]).toMatch(p);
}

/** A previous report: compare.md, compare.json and a gallery image, with their bytes. */
export function previousReport(out: string): Map<string, Buffer> {
  mkdirSync(join(out, 'gallery'), { recursive: true });
  const files = new Map<string, Buffer>([
    ['compare.md', Buffer.from('# previous report\n')],
    ['compare.json', Buffer.from('{"previous": true}\n')],
    ['gallery/test-5.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])],
  ]);
  for (const [f, b] of files) writeFileSync(join(out, f), b);
  return files;
}

/** The previous report byte for byte, and nothing else in the folder (no temporaries, journal or lock). */
export function expectUnchanged(out: string, files: Map<string, Buffer>): void {
  for (const [f, b] of files) expect(readFileSync(join(out, f)).equals(b), f).toBe(true);
  expect((readdirSync(out, { recursive: true }) as string[]).sort()).toEqual(['compare.json', 'compare.md', 'gallery', 'gallery/test-5.png']);
}

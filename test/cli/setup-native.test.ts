// `npm run setup:native`: what is missing (a compiler, python3 with pip, the wheel) is one `error:` line and
// exit 2, found before anything is installed. The script runs in a child with a doctored environment: a
// PATH holding only the tools a case allows, a project folder and a cache folder of its own (so the real
// node_modules is never touched), pip pointed at an empty index.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function which(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}
const hasBuildTools = !!(which('g++') ?? which('c++')) && !!which('make');
const hasPip = which('python3') != null && spawnSync('python3', ['-m', 'pip', '--version']).status === 0;

let dir: string;
let project: string;
let cache: string;
let nodedir: string;
let emptyIndex: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mnist-duel-setup-native-'));
  project = join(dir, 'project');
  cache = join(dir, 'cache');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'p', optionalDependencies: { '@tensorflow/tfjs-node': '4.22.0' } }));
  // Node's headers, as far as the script looks (node-gyp is never reached in these cases)
  nodedir = join(dir, 'node');
  mkdirSync(join(nodedir, 'include', 'node'), { recursive: true });
  writeFileSync(join(nodedir, 'include', 'node', 'node_api.h'), '');
  emptyIndex = join(dir, 'index');
  mkdirSync(emptyIndex);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder for PATH holding only the named tools (symlinks to the real ones). */
function bin(name: string, tools: string[]): string {
  const b = join(dir, name);
  mkdirSync(b);
  symlinkSync(process.execPath, join(b, 'node'));
  for (const t of tools) {
    const p = which(t);
    if (p) symlinkSync(p, join(b, t));
  }
  return b;
}

function setup(env: Record<string, string | undefined>, args: string[] = []) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PIP_|npm_config_|CXX$)/i.test(k)));
  const r = spawnSync(process.execPath, ['--import', 'tsx/esm', 'src/cli/setup-native.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...base, SETUP_NATIVE_ROOT: project, SETUP_NATIVE_CACHE: cache, npm_config_nodedir: nodedir, ...env },
  });
  return { code: r.status, stderr: r.stderr };
}

function expectNothingInstalled() {
  expect(existsSync(join(project, 'node_modules'))).toBe(false);
  expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
}

describe('setup:native error paths', () => {
  it('no C++ compiler or make on PATH: one error line naming them, exit 2', () => {
    const r = setup({ PATH: bin('bare', []) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: a C\+\+ compiler \(g\+\+, c\+\+ or clang\+\+\) and make not found on PATH/);
    expectNothingInstalled();
  });

  it('a compiler named by CXX that does not exist: one error line, exit 2', () => {
    const r = setup({ PATH: bin('make-only', ['make']), CXX: join(dir, 'no-such-g++') });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: a C\+\+ compiler .* not found on PATH/);
    expectNothingInstalled();
  });

  it.skipIf(!hasBuildTools)('no python3 on PATH: one error line naming it, exit 2 (skipped when this machine has no g++ and make)', () => {
    const r = setup({ PATH: bin('compiler-only', ['g++', 'c++', 'make']) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: python3 not found on PATH/);
    expectNothingInstalled();
  });

  it.skipIf(!hasBuildTools)('--if-available (CI): no python3 is a note and exit 0, nothing installed (skipped when this machine has no g++ and make)', () => {
    const r = setup({ PATH: bin('compiler-only-ci', ['g++', 'c++', 'make']) }, ['--if-available']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.stderr).toMatch(/^setup:native: skipped \(--if-available\): python3 not found on PATH/m);
    expectNothingInstalled();
  });

  it('--if-available still fails on a missing compiler: one error line, exit 2', () => {
    const r = setup({ PATH: bin('bare-ci', []) }, ['--if-available']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: a C\+\+ compiler/);
  });

  it.skipIf(!hasBuildTools || !hasPip)(
    'the wheel is not on the index pip sees: one error line naming it, exit 2 (skipped when this machine has no g++, make or pip)',
    () => {
      const r = setup({ PIP_CONFIG_FILE: '/dev/null', PIP_INDEX_URL: pathToFileURL(emptyIndex).href, PIP_NO_INPUT: '1' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^setup:native: downloading the tensorflow-cpu 2\.21\.0 wheel/m);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: the tensorflow-cpu 2\.21\.0 wheel is not available from pip's configured index \(ERROR: .*tensorflow-cpu==2\.21\.0/);
      expect(existsSync(join(project, 'node_modules'))).toBe(false);
      expect(readdirSync(cache).filter((f) => f.endsWith('.whl'))).toEqual([]);
    },
  );
});

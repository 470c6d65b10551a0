// The architecture as the design states it, checked on the source: no import cycles, and `npm run report`
// (results JSON → markdown) loads neither tfjs nor any training code.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(new URL('../..', import.meta.url).pathname);

/** Value imports (not `import type`) of a file: relative paths resolved, packages by name. */
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (m[2]) continue; // type-only: erased at run time
    const spec = m[3];
    // a named import list made only of `type X` entries is erased too
    const clause = m[0].slice(0, m[0].lastIndexOf('from'));
    const names = clause.match(/\{([^}]*)\}/)?.[1];
    if (names && names.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(spec.startsWith('.') ? resolve(dirname(file), spec) : spec);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module reachable from `entry` through value imports (files and package names). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.startsWith('/') && f.endsWith('.ts')) stack.push(...imports(f));
  }
  return seen;
}

describe('architecture', () => {
  it('the import walker sees what it should (so the checks below can fail)', () => {
    const run = closure(join(root, 'src/harness/run.ts'));
    expect(run.has('@tensorflow/tfjs')).toBe(true);
    expect(run.has(join(root, 'src/scratch/network.ts'))).toBe(true);
    // a type-only import is not followed
    expect(imports(join(root, 'src/results/results.ts')).some((f) => f.includes('tfjs'))).toBe(false);
  });

  it('no import cycles in src/', () => {
    const files = tsFiles(join(root, 'src'));
    const graph = new Map(files.map((f) => [f, imports(f).filter((d) => d.startsWith('/'))]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((x) => relative(root, x)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('no implementation imports another: no file of src/scratch, src/simd, src/tfjs imports from the other two', () => {
    const impls = ['scratch', 'simd', 'tfjs'];
    const arrows: string[] = [];
    for (const from of impls) {
      for (const f of tsFiles(join(root, 'src', from))) {
        for (const d of imports(f)) {
          const to = relative(join(root, 'src'), d).split('/')[0];
          if (d.startsWith('/') && impls.includes(to) && to !== from) arrows.push(`${relative(root, f)} → ${relative(root, d)}`);
        }
      }
    }
    expect(arrows).toEqual([]);
  });

  it('the report imports nothing from the harness (the results contract is src/results)', () => {
    const arrows = tsFiles(join(root, 'src/report')).flatMap((f) => {
      const src = readFileSync(f, 'utf8');
      // every import, type-only ones included
      return [...src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)]
        .map((m) => resolve(dirname(f), m[1]))
        .filter((d) => relative(root, d).startsWith('src/harness/'))
        .map((d) => `${relative(root, f)} → ${relative(root, d)}`);
    });
    expect(arrows).toEqual([]);
  });

  it('npm run report loads neither tfjs nor the training code', () => {
    const loaded = [...closure(join(root, 'src/cli/report.ts'))].map((f) => (f.startsWith('/') ? relative(root, f) : f));
    expect(loaded).toContain('src/report/markdown.ts');
    const training = loaded.filter((f) => /tensorflow|^src\/(scratch|tfjs)\/|^src\/harness\/(run|plan)\.ts$/.test(f));
    expect(training).toEqual([]);
  });

  it('compare --help loads no tfjs: what compare.ts imports before it parses its flags reaches no tfjs', () => {
    for (const entry of ['src/cli/args.ts', 'src/cli/compare.ts']) {
      const loaded = [...closure(join(root, entry))].map((f) => (f.startsWith('/') ? relative(root, f) : f));
      expect(loaded, entry).toContain('src/harness/plan.ts'); // the presets are reached (so the walk is real)
      expect(loaded.filter((f) => /tensorflow|^src\/(scratch|simd|tfjs)\//.test(f)), entry).toEqual([]);
    }
    // the training code is loaded by a dynamic import, after the flags and the --out preflight
    expect(readFileSync(join(root, 'src/cli/compare.ts'), 'utf8')).toMatch(/await import\('\.\.\/harness\/run\.ts'\)/);
    const help = spawnSync(process.execPath, ['--import', 'tsx/esm', 'src/cli/compare.ts', '--help'], { cwd: root, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^npm run compare -- \[flags\]/);
    expect(help.stdout).toContain('--backend NAME     auto | tensorflow | wasm | cpu');
  });
});

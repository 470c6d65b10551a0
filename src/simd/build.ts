/**
 * Compiles assembly/net.ts to the two wasm modules scratch-simd loads, into build/ (not committed), and
 * loads them (`loadModule`, once per process, after checking that the runtime has WebAssembly SIMD).
 *
 * Why compile at install time rather than commit the .wasm: the AssemblyScript source is then the only
 * thing in git, there is no binary to keep in step with it, and the compiler is pinned to an exact
 * version in package.json. `npm install` / `npm ci` run this through the `prepare` script (about 10 s),
 * and test/simd/build.test.ts checks that build/ is what the current source compiles to, so a stale
 * build after an edit cannot go unnoticed (`npm run build:simd` rebuilds).
 *
 * Two variants of the same source, which differ only in how they take their memory:
 *   scratch-simd.wasm         a private memory (calling thread): never grown, so V8 never detaches its
 *                             buffer (see the README, "How it is built", the bullet "One truth for timing"),
 *                             and copies into it run at memcpy speed
 *   scratch-simd-shared.wasm  a shared memory (worker threads; needs the threads feature for `shared`)
 * Both are 128-bit SIMD only (no relaxed SIMD, which Node 20 does not enable).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SOURCE = 'assembly/net.ts';
export const OUT_DIR = join(ROOT, 'build');

/** Largest memory the modules accept, in 64 KiB pages (4 GiB, the wasm32 limit); the loader asks for less. */
const MAX_PAGES = 65536;

const COMMON = ['-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--use', 'abort=', '--importMemory', '--noExportMemory', '--initialMemory', '1', '--maximumMemory', String(MAX_PAGES)];

export const VARIANTS = {
  plain: { source: SOURCE, file: 'scratch-simd.wasm', flags: COMMON },
  shared: { source: SOURCE, file: 'scratch-simd-shared.wasm', flags: [...COMMON, '--enable', 'threads', '--sharedMemory'] },
  // the bench's SIMD ceilings (bench/ceiling.ts): a module with its own small memory
  ceiling: { source: 'assembly/ceiling.ts', file: 'ceiling.wasm', flags: ['-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--use', 'abort=', '--initialMemory', '1', '--maximumMemory', '1'] },
} as const;
export type Variant = keyof typeof VARIANTS;

// ---- loading what was built ----

/** The smallest module that uses a 128-bit SIMD instruction (i8x16.splat, i8x16.popcnt). */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

export type Validate = (bytes: Uint8Array) => boolean;

/** Throws a one-line error unless the runtime validates a WebAssembly SIMD module. */
export function requireSimd(validate: Validate = (b) => WebAssembly.validate(b)): void {
  let ok = false;
  try {
    ok = validate(SIMD_PROBE);
  } catch {
    ok = false;
  }
  if (!ok) throw new Error('scratch-simd: this JavaScript runtime does not support WebAssembly SIMD (128-bit); use Node ≥ 16.4');
}

const modules = new Map<Variant, WebAssembly.Module>(); // compiled code is immutable: one per process

/** The compiled module of a variant, read from build/ (made by `npm install`, see above). */
export function loadModule(variant: Variant, validate?: Validate): WebAssembly.Module {
  requireSimd(validate);
  let mod = modules.get(variant);
  if (!mod) {
    const file = join(OUT_DIR, VARIANTS[variant].file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw new Error(`scratch-simd: ${file} is missing; run \`npm install\` (or \`npm run build:simd\`) to compile assembly/net.ts`);
    }
    mod = new WebAssembly.Module(bytes);
    modules.set(variant, mod);
  }
  return mod;
}

// ---- compiling ----

/** The part of assemblyscript/asc's API used here. */
interface Asc {
  main(
    argv: string[],
    opts: { writeFile(name: string, contents: Uint8Array | string): void; stderr: { write(s: string | Uint8Array): boolean }; stdout: { write(s: string | Uint8Array): boolean } },
  ): Promise<{ error: Error | null }>;
}

/** Compiles one variant in memory; returns the module's bytes. */
export async function compile(variant: Variant): Promise<Uint8Array> {
  // A variable specifier: the compiler's own type declarations add AssemblyScript's globals (a `console`
  // of its own among them) to the whole TypeScript program, so they are kept out of it.
  const pkg = 'assemblyscript/asc';
  const asc = ((await import(pkg)) as { default: Asc }).default;
  let binary: Uint8Array | null = null;
  const errors: string[] = [];
  const { error } = await asc.main([VARIANTS[variant].source, ...VARIANTS[variant].flags, '--outFile', 'out.wasm', '--baseDir', ROOT], {
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('out.wasm') && typeof contents !== 'string') binary = contents;
    },
    stderr: { write: (s: string | Uint8Array) => (errors.push(String(s)), true) },
    stdout: { write: () => true },
  });
  if (error || !binary) throw new Error(`compiling ${VARIANTS[variant].source} (${variant}) failed: ${error?.message ?? 'no output'}\n${errors.join('')}`);
  return binary;
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  for (const v of Object.keys(VARIANTS) as Variant[]) {
    const bytes = await compile(v);
    writeFileSync(join(OUT_DIR, VARIANTS[v].file), bytes);
    process.stdout.write(`scratch-simd: ${VARIANTS[v].source} → build/${VARIANTS[v].file} (${bytes.length} bytes)\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

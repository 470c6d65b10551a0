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
 * and each again with relaxed SIMD (`-relaxed`: the products' multiply-adds are f32x4.relaxed_madd, one
 * fused multiply-add on a CPU with FMA; see `madd` in assembly/net.ts), as is the bench's ceiling module.
 *
 * Which one runs: the relaxed builds where the runtime validates them (Node 20 does once V8's flag
 * --experimental-wasm-relaxed-simd is set, which `relaxedSimd` does; later Node versions have it on by
 * default), else the plain 128-bit ones. MNIST_DUEL_RELAXED_SIMD=0 in the environment asks for the plain
 * ones. Results are deterministic either way, but the two differ in rounding (fused or not), so a run
 * records which it used (`simdFlavour`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SOURCE = 'assembly/net.ts';
export const OUT_DIR = join(ROOT, 'build');

/** Largest memory the modules accept, in 64 KiB pages (4 GiB, the wasm32 limit); the loader asks for less. */
const MAX_PAGES = 65536;

const COMMON = ['-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--use', 'abort=', '--importMemory', '--noExportMemory', '--initialMemory', '1', '--maximumMemory', String(MAX_PAGES)];

const SHARED = [...COMMON, '--enable', 'threads', '--sharedMemory'];
const CEILING = ['-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--use', 'abort=', '--initialMemory', '1', '--maximumMemory', '1'];
const RELAXED = ['--enable', 'relaxed-simd'];

export const VARIANTS = {
  plain: { source: SOURCE, file: 'scratch-simd.wasm', flags: COMMON },
  shared: { source: SOURCE, file: 'scratch-simd-shared.wasm', flags: SHARED },
  // the bench's SIMD ceilings (bench/ceiling.ts): a module with its own small memory
  ceiling: { source: 'assembly/ceiling.ts', file: 'ceiling.wasm', flags: CEILING },
  'plain-relaxed': { source: SOURCE, file: 'scratch-simd-relaxed.wasm', flags: [...COMMON, ...RELAXED] },
  'shared-relaxed': { source: SOURCE, file: 'scratch-simd-shared-relaxed.wasm', flags: [...SHARED, ...RELAXED] },
  'ceiling-relaxed': { source: 'assembly/ceiling.ts', file: 'ceiling-relaxed.wasm', flags: [...CEILING, ...RELAXED] },
} as const;
export type Variant = keyof typeof VARIANTS;
/** what the network and the ceiling load: each resolved to its `-relaxed` twin when relaxed SIMD is used */
export type Kind = 'plain' | 'shared' | 'ceiling';
export type SimdFlavour = 'relaxed' | 'plain';

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

function readBuilt(variant: Variant): Buffer {
  const file = join(OUT_DIR, VARIANTS[variant].file);
  try {
    return readFileSync(file);
  } catch {
    throw new Error(`scratch-simd: ${file} is missing; run \`npm install\` (or \`npm run build:simd\`) to compile assembly/net.ts`);
  }
}

let relaxedValid: boolean | null = null;

/**
 * Whether scratch-simd runs its relaxed-SIMD builds (see the header): not when MNIST_DUEL_RELAXED_SIMD is 0
 * (read at each call: a test can switch); else whether the runtime validates the relaxed build, after
 * switching on V8's flag for it if it does not at first (Node 20). The runtime is asked once per process;
 * V8's flags are the process's, worker threads included.
 */
export function relaxedSimd(): boolean {
  if (process.env.MNIST_DUEL_RELAXED_SIMD === '0') return false;
  if (relaxedValid === null) {
    const bytes = readBuilt('plain-relaxed');
    relaxedValid = WebAssembly.validate(bytes);
    if (!relaxedValid) {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxedValid = WebAssembly.validate(bytes);
    }
  }
  return relaxedValid;
}

/** Which builds scratch-simd runs now: 'relaxed' (fused multiply-add where the CPU has it) or 'plain'. */
export const simdFlavour = (): SimdFlavour => (relaxedSimd() ? 'relaxed' : 'plain');

/**
 * The compiled module of a kind, read from build/ (made by `npm install`, see above): its relaxed build
 * when `relaxed` (default: relaxedSimd()).
 */
export function loadModule(kind: Kind, validate?: Validate, relaxed?: boolean): WebAssembly.Module {
  requireSimd(validate);
  const variant: Variant = (relaxed ?? relaxedSimd()) ? `${kind}-relaxed` : kind;
  let mod = modules.get(variant);
  if (!mod) {
    mod = new WebAssembly.Module(readBuilt(variant));
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

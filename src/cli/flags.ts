/** Flag parsing shared by every entry point: node's parseArgs, with each problem one UserError line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkBeta, checkLearningRate, checkThreads } from '../core/checks.ts';
import { UserError } from '../core/errors.ts';

export const fail = (msg: string): never => {
  throw new UserError(msg);
};

/**
 * parseArgs, strict: each flag of `withValue` takes a value (`--lr 0.1`), each of `switches` does not
 * (`--smoke`), and `--help` (`-h`) is always a switch. Its errors (already one line, e.g. "Unknown option
 * '--foo'") become UserErrors; a flag given twice is an error too (parseArgs would keep the last one
 * silently).
 */
export function parseFlags<V extends string, S extends string = never>(
  argv: string[],
  withValue: readonly V[],
  switches: readonly S[] = [],
  allowPositionals = false,
): { values: Partial<Record<V, string> & Record<S | 'help', boolean>>; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const f of withValue) options[f] = { type: 'string' };
  for (const f of switches) options[f] = { type: 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals, options, tokens: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) fail(`--${t.name} is given more than once; give it once (see --help)`);
    seen.add(t.name);
  }
  return { values: parsed.values as Partial<Record<V, string> & Record<S | 'help', boolean>>, positionals: parsed.positionals };
}

/** Plain decimal notation only: digits, an optional fraction and exponent, an optional leading minus. */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `v` as a number if it is written in plain decimal (`0.1`, `1e-5`, `.5`), else NaN: so `0x10`, `0b1`,
 * `1e`, `Infinity`, ` 1`, `1_000` and the empty string are never read as numbers (Number() reads some).
 * The rules of src/core/checks.ts then reject the NaN with their own message.
 */
export function decimal(v: string): number {
  return DECIMAL.test(v) ? Number(v) : NaN;
}

export function positiveInt(flag: string, v: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v)) fail(`--${flag} must be a positive integer, got '${v}'`);
  const n = Number(v);
  if (n < 1 || n > max) fail(`--${flag} must be between 1 and ${max}, got ${v}`);
  return n;
}

export function positiveNumber(flag: string, v: string): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n <= 0) fail(`--${flag} must be a finite number > 0, got '${v}'`);
  return n;
}

/** A learning rate (the rule of checkLearningRate). */
export function learningRate(flag: string, v: string): number {
  return checkLearningRate(decimal(v), `--${flag}`, `'${v}'`);
}

/** A worker-thread count (the rule of checkThreads), written as digits. */
export function threadCount(flag: string, v: string): number {
  return checkThreads(/^\d+$/.test(v) ? Number(v) : NaN, `--${flag}`, `'${v}'`);
}

export function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) fail(`--${flag} must be one of ${allowed.join(', ')}; got '${v}'`);
  return v as T;
}

/** A comma-separated list without empty entries (and, unless `repeats`, without repeated ones). */
export function list(flag: string, v: string, repeats = false): string[] {
  const xs = v.split(',').map((s) => s.trim());
  if (xs.some((s) => s === '')) fail(`--${flag} must be a comma-separated list, got '${v}'`);
  if (!repeats && new Set(xs).size !== xs.length) fail(`--${flag} lists an entry twice: '${v}'`);
  return xs;
}

/** Adam's β1 or β2 (the rule of checkBeta). */
export function beta(flag: string, v: string): number {
  return checkBeta(decimal(v), `--${flag}`, `'${v}'`);
}

/** Flag parsing shared by every entry point: node's parseArgs, with each problem one UserError line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../core/errors.ts';

export const fail = (msg: string): never => {
  throw new UserError(msg);
};

/**
 * parseArgs, strict, with its errors (already one line, e.g. "Unknown option '--foo'") as UserErrors;
 * a flag given twice is an error too (parseArgs would keep the last one silently).
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, allowPositionals = false) {
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
  const { tokens: _, ...rest } = parsed;
  return rest;
}

/** Plain decimal notation only: digits, an optional fraction and exponent, an optional leading minus. */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `v` as a number if it is written in plain decimal (`0.1`, `1e-5`, `.5`), else NaN: so `0x10`, `0b1`,
 * `1e`, `Infinity`, ` 1`, `1_000` and the empty string are never read as numbers (Number() reads some).
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

/** A number in [0, 1) (Adam's β). */
export function unitInterval(flag: string, v: string): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) fail(`--${flag} must be a number in [0, 1), got '${v}'`);
  return n;
}

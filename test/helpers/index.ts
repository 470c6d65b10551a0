/**
 * The tests' one helpers module: bit equality and ULP distance of float32 values, per-tensor agreement
 * against the thresholds the reports use, and batches (MNIST slices, seeded synthetic ones).
 * (Building IDX and CSV files for the data tests is in test/data/util.ts.)
 */
import { afterEach, assert, beforeEach, expect, it } from 'vitest';
import { agreement, type Agreement } from '../../src/core/metrics.ts';
import { rng } from '../../src/core/rng.ts';
import { tensorNames, type Batch, type Params } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';
import { AGREEMENT_THRESHOLDS } from '../../src/results/results.ts';
import type { Params64 } from '../../src/scratch/reference64.ts';
import { relaxedSimd, type SimdFlavour } from '../../src/simd/build.ts';

// ---- bit equality and ULPs -------------------------------------------------------------------------

/** Float32 tensors: one array, a list of them, or a parameter list (W1 b1 W2 b2 …). */
export type Float32Tensors = Float32Array | readonly Float32Array[] | Params;

/** The IEEE-754 bit pattern of every element (a copy; shared buffers and offset views work too). */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function float32List(x: Float32Tensors): readonly Float32Array[] {
  if (x instanceof Float32Array) return [x];
  if (Array.isArray(x)) return x as readonly Float32Array[];
  return flat(x as Params) as Float32Array[];
}

/** How many tensors differ in length or in the bits of at least one element, and a line saying where. */
function bitDifferences(a: Float32Tensors, b: Float32Tensors): string[] {
  const ta = float32List(a), tb = float32List(b);
  if (ta.length !== tb.length) return [`${ta.length} tensors vs ${tb.length}`];
  const out: string[] = [];
  ta.forEach((x, i) => {
    if (!(x instanceof Float32Array) || !(tb[i] instanceof Float32Array)) throw new Error(`tensor ${i} is not a Float32Array`);
    if (x.length !== tb[i].length) return void out.push(`tensor ${i}: length ${x.length} vs ${tb[i].length}`);
    const u = bitsOf(x), v = bitsOf(tb[i]);
    let diff = 0, first = -1;
    for (let j = 0; j < u.length; j++) if (u[j] !== v[j] && diff++ === 0) first = j;
    if (diff > 0) out.push(`tensor ${i}: ${diff} of ${u.length} values differ (first at ${first}: ${x[first]} vs ${tb[i][first]})`);
  });
  return out;
}

/** True when a and b have the same shapes and the same bits in every element (−0 ≠ +0, NaN = the same NaN). */
export function sameBits(a: Float32Tensors, b: Float32Tensors): boolean {
  return bitDifferences(a, b).length === 0;
}

/** Asserts a and b are bit-identical: as many tensors, the same lengths, no element differing in its bits. */
export function expectBitEqual(a: Float32Tensors, b: Float32Tensors, label: string): void {
  const d = bitDifferences(a, b);
  if (d.length > 0) assert.fail(`${label}: not bit-identical: ${d.join('; ')}`);
}

const ulpF32 = new Float32Array(2);
const ulpI32 = new Int32Array(ulpF32.buffer);
/**
 * Distance in units in the last place between two float32 values: 0 for identical bits and for −0 vs +0,
 * 1 for neighbours (also across zero: the smallest subnormal and ±0).
 */
export function ulps(a: number, b: number): number {
  ulpF32[0] = a;
  ulpF32[1] = b;
  const key = (x: number) => (x < 0 ? -(x & 0x7fffffff) : x); // sign-magnitude bits → a monotone integer line
  return Math.abs(key(ulpI32[0]) - key(ulpI32[1]));
}

/** Element by element: the largest ULP distance, and how many elements have identical bits. */
export function ulpStats(a: Float32Array, b: Float32Array): { worst: number; identical: number; total: number } {
  if (a.length !== b.length) throw new Error(`ulpStats: length ${a.length} vs ${b.length}`);
  const u = bitsOf(a), v = bitsOf(b);
  let worst = 0, identical = 0;
  for (let j = 0; j < a.length; j++) {
    worst = Math.max(worst, ulps(a[j], b[j]));
    if (u[j] === v[j]) identical++;
  }
  return { worst, identical, total: a.length };
}

// ---- agreement of parameter / gradient lists ---------------------------------------------------------

/** The per-tensor agreement thresholds every report checks (candidate a vs reference b). */
export { AGREEMENT_THRESHOLDS };

/** W1 b1 W2 b2 … of a float32 or float64 parameter list; anything else is an error. */
export function flat(p: Params | Params64): ArrayLike<number>[] {
  const layers = (p as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) throw new Error(`flat: expected a parameter list { layers: [{ W, b }, …] }, got ${kindOf(p)}`);
  return layers.flatMap((l: { W?: unknown; b?: unknown }, i) => {
    const isArray = (x: unknown) => x instanceof Float32Array || x instanceof Float64Array;
    if (!isArray(l?.W) || !isArray(l?.b)) throw new Error(`flat: layer ${i + 1} has no W and b arrays`);
    return [l.W as ArrayLike<number>, l.b as ArrayLike<number>];
  });
}

const kindOf = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? `an object with keys ${Object.keys(x as object).join(', ') || '(none)'}` : typeof x);

/** Worst agreement seen per tensor, for a summary line per test file. */
export class Worst {
  readonly w = new Map<string, Agreement>();
  add(k: string, a: Agreement): void {
    const o = this.w.get(k) ?? { relL2: 0, maxAbsRel: 0, cosine: 1 };
    this.w.set(k, { relL2: Math.max(o.relL2, a.relL2), maxAbsRel: Math.max(o.maxAbsRel, a.maxAbsRel), cosine: Math.min(o.cosine, a.cosine) });
  }
  summary(): string {
    return [...this.w.entries()].map(([k, a]) => `${k}: relL2 ${a.relL2.toExponential(2)}, maxAbsRel ${a.maxAbsRel.toExponential(2)}, 1−cos ${(1 - a.cosine).toExponential(2)}`).join(' | ');
  }
}

/**
 * Asserts the three per-tensor thresholds for every tensor of a (candidate) against b (reference). Fails
 * on anything that would make the check empty or meaningless: no tensors, a different number of tensors,
 * tensors of different lengths, an empty tensor, or a reference tensor that is all zeros.
 */
export function expectAgree(a: Params | Params64, b: Params | Params64, label: string, worst?: Worst): void {
  const ta = flat(a), tb = flat(b);
  expect(tb.length, `${label}: the reference has no tensors`).toBeGreaterThan(0);
  expect(ta.length, `${label}: tensor count`).toBe(tb.length);
  const th = AGREEMENT_THRESHOLDS;
  tensorNames(ta.length / 2).forEach((k, i) => {
    expect(ta[i].length, `${label} ${k}: length`).toBe(tb[i].length);
    expect(tb[i].length, `${label} ${k}: empty`).toBeGreaterThan(0);
    expect(Array.prototype.some.call(tb[i], (v: number) => v !== 0), `${label} ${k}: the reference is all zeros`).toBe(true);
    const ag = agreement(ta[i], tb[i]);
    worst?.add(k, ag);
    expect(ag.relL2, `${label} ${k} relative L2`).toBeLessThanOrEqual(th.relL2);
    expect(ag.maxAbsRel, `${label} ${k} max|a−b|/max|b|`).toBeLessThanOrEqual(th.maxAbsRel);
    expect(ag.cosine, `${label} ${k} cosine`).toBeGreaterThanOrEqual(th.cosineMin);
  });
}

// ---- batches ---------------------------------------------------------------------------------------

let mnist: ReturnType<typeof loadEmbedded> | null = null;
/** The embedded MNIST (loaded once per test file). */
export function mnistData(): ReturnType<typeof loadEmbedded> {
  return (mnist ??= loadEmbedded());
}

/** Rows [from, from+m) of the MNIST training set, as views. */
export function mnistSlice(from: number, m: number): Batch {
  const t = mnistData().train;
  if (from < 0 || from + m > t.m) throw new Error(`mnistSlice: rows ${from}..${from + m} outside the ${t.m} training images`);
  return { x: t.x.subarray(from * 784, (from + m) * 784), y: t.y.subarray(from, from + m), m };
}

/** Seeded synthetic batch that looks like MNIST to the code: ~80% zero pixels, the rest in (0, 1]. */
export function syntheticBatch(m: number, seed = 7): Batch {
  const r = rng(seed, 'test');
  const x = new Float32Array(m * 784);
  for (let i = 0; i < x.length; i++) x[i] = r.float() < 0.8 ? 0 : r.int(1, 255) / 255;
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) y[i] = r.int(0, 9);
  return { x, y, m };
}

/** Seeded batch of uniform [0, 1) pixels (dense, unlike MNIST) and uniform labels. */
export function uniformBatch(m: number, seed: number): Batch {
  const r = rng(seed, 'test');
  const x = new Float32Array(m * 784);
  for (let i = 0; i < x.length; i++) x[i] = r.float();
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) y[i] = r.int(0, 9);
  return { x, y, m };
}

/**
 * scratch-simd's builds to test: 'relaxed' where the runtime validates relaxed SIMD (its default there) and
 * 'plain'. Where relaxed SIMD is absent, registers a skipped test that says so, in the calling file.
 */
export function simdFlavours(): SimdFlavour[] {
  if (relaxedSimd()) return ['relaxed', 'plain'];
  it.skip('relaxed build: this runtime does not validate relaxed SIMD, so it is not run here', () => {});
  return ['plain'];
}

/** Runs the tests of the enclosing describe block on scratch-simd's `flavour` build (MNIST_DUEL_RELAXED_SIMD=0 for 'plain'). */
export function useSimdFlavour(flavour: SimdFlavour): void {
  beforeEach(() => {
    if (flavour === 'plain') process.env.MNIST_DUEL_RELAXED_SIMD = '0';
  });
  afterEach(() => {
    delete process.env.MNIST_DUEL_RELAXED_SIMD;
  });
}

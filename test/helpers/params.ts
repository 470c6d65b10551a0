/** Shared checks on parameter/gradient lists: bit-identity, and the per-tensor agreement thresholds. */
import { expect } from 'vitest';
import { agreement, type Agreement } from '../../src/core/metrics.ts';
import { tensorNames, tensors, type Batch, type Params } from '../../src/core/types.ts';
import { AGREEMENT_THRESHOLDS } from '../../src/results/results.ts';
import type { Params64 } from '../../src/scratch/reference64.ts';
import { loadEmbedded } from '../../src/data/index.ts';

/** Per-tensor gradient agreement thresholds (candidate a vs reference b): the reports' own. */
export const { relL2: REL_L2, maxAbsRel: MAX_ABS_REL, cosineMin: COS } = AGREEMENT_THRESHOLDS;

/** W1 b1 W2 b2 … of a float32 or float64 parameter list. */
export const flat = (p: Params | Params64): ArrayLike<number>[] => ('layers' in p ? p.layers.flatMap((l) => [l.W, l.b]) : []);

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function expectIdentical(a: Params, b: Params, label: string): void {
  const ta = tensors(a), tb = tensors(b);
  expect(ta.length, `${label}: layer count`).toBe(tb.length);
  tensorNames(ta.length / 2).forEach((k, i) => expect(bytes(ta[i]).equals(bytes(tb[i])), `${label}: ${k} differs`).toBe(true));
}

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

/** Asserts the three per-tensor thresholds for every tensor of a (candidate) against b (reference). */
export function expectAgree(a: Params | Params64, b: Params | Params64, label: string, worst?: Worst): void {
  const ta = flat(a), tb = flat(b);
  expect(ta.length, `${label}: tensor count`).toBe(tb.length);
  tensorNames(ta.length / 2).forEach((k, i) => {
    const ag = agreement(ta[i], tb[i]);
    worst?.add(k, ag);
    expect(ag.relL2, `${label} ${k} relative L2`).toBeLessThanOrEqual(REL_L2);
    expect(ag.maxAbsRel, `${label} ${k} max|a−b|/max|b|`).toBeLessThanOrEqual(MAX_ABS_REL);
    expect(ag.cosine, `${label} ${k} cosine`).toBeGreaterThanOrEqual(COS);
  });
}

let mnist: ReturnType<typeof loadEmbedded> | null = null;
export function mnistData(): ReturnType<typeof loadEmbedded> {
  return (mnist ??= loadEmbedded());
}

/** Rows [from, from+m) of the MNIST training set, as views. */
export function mnistSlice(from: number, m: number): Batch {
  const t = mnistData().train;
  return { x: t.x.subarray(from * 784, (from + m) * 784), y: t.y.subarray(from, from + m), m };
}

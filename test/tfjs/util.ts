/** Shared bits for the tfjs tests: thresholds, agreement checks with a worst-case log, batches. */
import { expect } from 'vitest';
import { agreement, type Agreement } from '../../src/core/metrics.ts';
import { rng } from '../../src/core/rng.ts';
import { PARAM_NAMES, type Batch, type ParamName } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';

/** Per-tensor gradient agreement thresholds (candidate a vs reference b). */
export const REL_L2 = 1e-5;
export const MAX_ABS_REL = 1e-5;
export const COS = 1 - 1e-6;

type Tensors = Record<ParamName, ArrayLike<number>>;

/** Worst agreement seen per tensor, for a summary line per test file. */
export class Worst {
  readonly w = new Map<ParamName, Agreement>();
  add(k: ParamName, a: Agreement): void {
    const o = this.w.get(k) ?? { relL2: 0, maxAbsRel: 0, cosine: 1 };
    this.w.set(k, { relL2: Math.max(o.relL2, a.relL2), maxAbsRel: Math.max(o.maxAbsRel, a.maxAbsRel), cosine: Math.min(o.cosine, a.cosine) });
  }
  summary(): string {
    return PARAM_NAMES.filter((k) => this.w.has(k))
      .map((k) => {
        const a = this.w.get(k)!;
        return `${k}: relL2 ${a.relL2.toExponential(2)}, maxAbsRel ${a.maxAbsRel.toExponential(2)}, 1−cos ${(1 - a.cosine).toExponential(2)}`;
      })
      .join(' | ');
  }
}

/** Asserts the three per-tensor thresholds for every parameter tensor. */
export function expectAgree(a: Tensors, b: Tensors, label: string, worst?: Worst): void {
  for (const k of PARAM_NAMES) {
    const ag = agreement(a[k], b[k]);
    worst?.add(k, ag);
    expect(ag.relL2, `${label} ${k} relative L2`).toBeLessThanOrEqual(REL_L2);
    expect(ag.maxAbsRel, `${label} ${k} max|a−b|/max|b|`).toBeLessThanOrEqual(MAX_ABS_REL);
    expect(ag.cosine, `${label} ${k} cosine`).toBeGreaterThanOrEqual(COS);
  }
}

/** m samples of uniform [0, 1) pixels and uniform labels, from a seeded stream. */
export function randomBatch(m: number, seed: number): Batch {
  const r = rng(seed, 'test');
  const x = new Float32Array(m * 784);
  for (let i = 0; i < x.length; i++) x[i] = r.float();
  const y = new Uint8Array(m);
  for (let i = 0; i < m; i++) y[i] = r.int(0, 9);
  return { x, y, m };
}

let mnist: ReturnType<typeof loadEmbedded> | null = null;
/** Rows [from, from+m) of the MNIST training set (copies). */
export function mnistBatch(from: number, m: number): Batch {
  mnist ??= loadEmbedded();
  const t = mnist.train;
  return { x: t.x.slice(from * 784, (from + m) * 784), y: t.y.slice(from, from + m), m };
}

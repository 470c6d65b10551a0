/** Metrics shared by every trainer and the report. */
import { CLASSES } from './types.ts';

export function accuracy(pred: Uint8Array, y: Uint8Array): number {
  if (pred.length !== y.length) throw new Error('accuracy: length mismatch');
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return y.length === 0 ? 0 : ok / y.length;
}


/** confusion[t][p] = number of samples of true class t predicted as p. */
export function confusion(pred: Uint8Array, y: Uint8Array): number[][] {
  const c = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
  for (let i = 0; i < y.length; i++) c[y[i]][pred[i]]++;
  return c;
}

export function perClassAccuracy(conf: number[][]): number[] {
  return conf.map((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n === 0 ? 0 : row[t] / n;
  });
}

/**
 * Scale-aware agreement of two tensors a (candidate) and b (reference): three numbers that do not change
 * when both tensors are scaled alike (the README's "How it is built", bullet "Gradient agreement", gives
 * the pass thresholds).
 */
export interface Agreement {
  relL2: number; // ‖a−b‖ / ‖b‖
  maxAbsRel: number; // max|a−b| / max|b|
  cosine: number; // a·b / (‖a‖‖b‖)
}

export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): Agreement {
  if (a.length !== b.length) throw new Error(`agreement: length ${a.length} vs ${b.length}`);
  let d2 = 0, b2 = 0, a2 = 0, ab = 0, maxd = 0, maxb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i], d = x - y;
    d2 += d * d; a2 += x * x; b2 += y * y; ab += x * y;
    const ad = Math.abs(d);
    if (ad > maxd) maxd = ad;
    const ay = Math.abs(y);
    if (ay > maxb) maxb = ay;
  }
  const nb = Math.sqrt(b2), na = Math.sqrt(a2);
  return {
    relL2: nb === 0 ? (d2 === 0 ? 0 : Infinity) : Math.sqrt(d2) / nb,
    maxAbsRel: maxb === 0 ? (maxd === 0 ? 0 : Infinity) : maxd / maxb,
    cosine: na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : ab / (na * nb),
  };
}


/** Linear-interpolated quantile (q in [0,1]). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function meanSd(xs: number[]): { mean: number; sd: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}

// two-sided 95% Student's t critical values for df = 1..30 (beyond: the normal 1.96 is within 2%)
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** The two-sided 95% critical value of Student's t with df degrees of freedom (df ≥ 1). */
export function t95(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new Error(`t95: degrees of freedom must be a positive integer, got ${df}`);
  return df <= T95.length ? T95[df - 1] : 1.96;
}

/** Mean of xs and its 95% confidence interval (Student t on n−1 d.o.f.); null interval for n < 2. */
export function meanCi95(xs: number[]): { n: number; mean: number; sd: number; ci: [number, number] | null } {
  const { mean, sd } = meanSd(xs);
  const n = xs.length;
  if (n < 2) return { n, mean, sd, ci: null };
  const h = (t95(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, ci: [mean - h, mean + h] };
}

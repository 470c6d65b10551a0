// Each fast kernel of src/scratch/kernels.ts against its plain loop beside it, on random inputs with the
// zeros the network feeds them: MNIST-like images (~80% zero pixels), hidden activations with ReLU's and
// dropout's zeros, dZ with the zeros of ReLU′ and the masks, and one sample that is all zeros.
//
// Both sides work in double and add the nonzero terms in the same order (ascending index, samples
// ascending), so they must agree bit for bit: a skipped zero term would only have added ±0, which leaves
// a nonzero sum unchanged and a +0 sum +0. One exception, stated: backDense's 10-unit path starts its sum
// from the first product rather than from +0, so a sample whose dZ is all zero gives −0 where all ten
// products are −0 (a column of W all negative) and the plain loop gives +0; for that path the comparison
// is by value (−0 === +0).
import { describe, expect, it } from 'vitest';
import { rng, type Rng } from '../../src/core/rng.ts';
import {
  backDense, backDenseNaive, createLists, forwardSparse, forwardSparseNaive, listNonzeros, listPixels, outerSparse, outerSparseNaive,
} from '../../src/scratch/kernels.ts';

const NETS = [[784, 10, 10], [784, 400, 100, 10]];
const SAMPLES = [1, 7, 64];

/** The first index where a and b differ (Object.is, or === when `byValue`), or −1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>, byValue = false): number {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (byValue ? a[i] !== b[i] : !Object.is(a[i], b[i])) return i;
  return -1;
}

const uniform = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r.float();

/** n MNIST-like images: ~80% zero pixels, the rest k/255; sample 3 (if any) blank. */
function images(r: Rng, n: number): Float32Array {
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) if (r.float() < 0.2 && Math.floor(i / 784) !== 3) x[i] = r.int(1, 255) / 255;
  return x;
}

/** n×w activations: ReLU of a normal (half zero) times a keep-0.5 dropout mask (0 or 2); sample 3 all zero. */
function activations(r: Rng, n: number, w: number): Float64Array {
  const a = new Float64Array(n * w);
  for (let i = 0; i < a.length; i++) a[i] = Math.floor(i / w) === 3 ? 0 : Math.max(0, r.normal()) * (r.float() < 0.5 ? 0 : 2);
  return a;
}

/** n×w dZ: the output layer's is dense (softmax − Y); a hidden layer's has ReLU′'s and the mask's zeros. */
function dZof(r: Rng, n: number, w: number, output: boolean): Float64Array {
  const d = new Float64Array(n * w);
  for (let i = 0; i < d.length; i++) {
    if (Math.floor(i / w) === 3) continue; // one sample all zero
    d[i] = output ? r.normal() * 0.3 : (r.float() < 0.5 ? 0 : r.normal() * 0.1) * (r.float() < 0.5 ? 0 : 2);
  }
  return d;
}

function weights(r: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => uniform(r, -0.5, 0.5));
}

const zeros = (a: ArrayLike<number>) => Array.prototype.filter.call(a, (v: number) => v === 0).length;

describe('scratch kernels: each fast kernel against its plain loop', () => {
  for (const sizes of NETS) {
    for (const m of SAMPLES) {
      it(`${sizes.join('-')}, n = ${m}: Z = W·A + b, dW += dZ·Aᵀ, dA = Wᵀ·dZ agree bit for bit, every layer`, () => {
        const r = rng(1000 * sizes.length + m, 'test');
        const L = sizes.length - 1;
        for (let l = 1; l <= L; l++) {
          const nIn = sizes[l - 1], nOut = sizes[l];
          const W = weights(r, nOut * nIn), b = weights(r, nOut);
          // the input A_{l−1} and its lists of nonzeros, built as the network builds them
          const lists = createLists(m, nIn);
          let A: Float32Array | Float64Array;
          if (l === 1) {
            const x = images(r, m);
            listPixels(new Int32Array(x.buffer), x.byteOffset >> 2, x, 0, m, lists);
            A = x;
          } else {
            const a = activations(r, m, nIn);
            listNonzeros(a, m, nIn, lists);
            A = a;
          }
          const nonzero = m * nIn - zeros(A);
          if (m > 1) expect(nonzero, 'the input has zeros to skip').toBeLessThan(0.6 * m * nIn);
          const where = `${sizes.join('-')} layer ${l}, n = ${m}`;

          // Z = W·A + b
          const Zf = new Float64Array(m * nOut), Zn = new Float64Array(m * nOut);
          expect(forwardSparse(W, b, nIn, nOut, lists, m, Zf), `${where}: multiply-adds counted`).toBe(nOut * nonzero);
          forwardSparseNaive(W, b, nIn, nOut, A, m, Zn);
          expect(firstDiff(Zf, Zn), `${where}: Z`).toBe(-1);

          // dW += dZ·Aᵀ, onto the same nonzero start
          const dZ = dZof(r, m, nOut, l === L);
          const start = Float64Array.from({ length: nOut * nIn }, () => r.normal());
          const dWf = start.slice(), dWn = start.slice();
          outerSparse(dWf, nIn, nOut, dZ, lists, m);
          outerSparseNaive(dWn, nIn, nOut, dZ, A, m);
          expect(firstDiff(dWf, dWn), `${where}: dW`).toBe(-1);
          expect(firstDiff(dWf, start), `${where}: dW changed`).not.toBe(-1);

          // dA = Wᵀ·dZ (the network runs it for l ≥ 2; every layer here)
          const dAf = new Float64Array(m * nIn).fill(NaN), dAn = new Float64Array(m * nIn);
          backDense(W, nIn, nOut, dZ, m, dAf);
          backDenseNaive(W, nIn, nOut, dZ, m, dAn);
          expect(firstDiff(dAf, dAn, nOut === 10), `${where}: dA`).toBe(-1);
          if (m > 3) expect(zeros(dAn.subarray(3 * nIn, 4 * nIn)), `${where}: the all-zero sample gives dA = 0`).toBe(nIn);
        }
      });
    }
  }

  it('the comparison can fail: one changed weight shows in Z, dW and dA', () => {
    const r = rng(7, 'test');
    const nIn = 784, nOut = 10, m = 7;
    const W = weights(r, nOut * nIn), b = weights(r, nOut);
    const x = images(r, m);
    const lists = createLists(m, nIn);
    listPixels(new Int32Array(x.buffer), 0, x, 0, m, lists);
    const k = lists.idx[lists.start[0]]; // a nonzero pixel of sample 0
    const W2 = W.slice();
    W2[k] += 2 ** -20;
    const Zf = new Float64Array(m * nOut), Zn = new Float64Array(m * nOut);
    forwardSparse(W, b, nIn, nOut, lists, m, Zf);
    forwardSparseNaive(W2, b, nIn, nOut, x, m, Zn);
    expect(firstDiff(Zf, Zn)).toBe(0);
    const dZ = dZof(r, m, nOut, true);
    const dAf = new Float64Array(m * nIn), dAn = new Float64Array(m * nIn);
    backDense(W, nIn, nOut, dZ, m, dAf);
    backDenseNaive(W2, nIn, nOut, dZ, m, dAn);
    expect(firstDiff(dAf, dAn, true)).toBe(k);
    const dWf = new Float64Array(nOut * nIn), dWn = new Float64Array(nOut * nIn);
    outerSparse(dWf, nIn, nOut, dZ, lists, m);
    const x2 = x.slice();
    x2[k] *= 1 + 2 ** -20;
    outerSparseNaive(dWn, nIn, nOut, dZ, x2, m);
    expect(firstDiff(dWf, dWn)).toBe(k);
  });
});

/**
 * The scratch network's inner loops. network.ts says *what* is computed, in the notebook's order; this file
 * says *how*, on a sub-block of n samples at a time:
 *
 * - Every layer's input is read as per-sample lists of its nonzero entries (`Lists`): for layer 1 the
 *   image's nonzero pixels (~20% of MNIST's), for deeper layers the nonzero activations (ReLU and dropout
 *   zero most of them). A zero input only adds zeros to Z = W·A and to dW = dZ·Aᵀ, so it is skipped in
 *   both, and the list is built once per sample and layer and serves both products.
 * - Z = W·A + b runs over groups of 10 (or 4, or 1) rows of W with one accumulator per row in a local
 *   (a register), so each list entry is loaded once per group; all samples of the sub-block pass over a
 *   group while its rows are in the L1 cache (10 rows of a 784-wide W are 31 KB).
 * - dW += dZ·Aᵀ skips every (unit, sample) whose dZ is 0 (a dead ReLU unit, a dropped unit). For 10 units
 *   it updates all ten rows in one pass per sample; for wider layers it goes row by row, all samples of
 *   the sub-block per row, so the row stays in the L1 cache.
 * - dA = Wᵀ·dZ skips the terms of units whose dZ is 0.
 *
 * Every sum adds its terms in a fixed order (list order, i.e. ascending index; samples ascending), so a
 * result does not depend on how the work is grouped, and sums over samples are those of the notebook's
 * matrix products. All arithmetic is in double (JavaScript's number); weights are read from Float32Array.
 * The three product kernels return the number of multiply-adds they executed, so the bench can count the
 * work actually done (zeros skipped) rather than the dense-equivalent.
 *
 * Each product kernel has its plain loop beside it (`forwardSparseNaive`, `outerSparseNaive`,
 * `backDenseNaive`: the definition, on dense input, nothing skipped), as llm.c keeps matmul_forward_naive
 * beside matmul_forward. They are not used by the network; test/scratch/kernels.test.ts checks that each
 * fast kernel gives the same numbers as its plain loop.
 *
 * Hot code reads only module-local constants: a TypeScript loader may turn each use of an imported
 * binding into a getter call, which costs 5× in an inner loop (measured).
 */
import type { Activation } from '../core/types.ts';

/** Per-sample lists of nonzero entries: sample i's are idx/val[start[i] .. start[i+1]). */
export interface Lists {
  idx: Int32Array; // column index of each entry
  val: Float64Array; // its value
  start: Int32Array; // n+1 offsets
}

export function createLists(samples: number, width: number): Lists {
  return { idx: new Int32Array(samples * width), val: new Float64Array(samples * width), start: new Int32Array(samples + 1) };
}

/**
 * The nonzero pixels of images i0 .. i0+n−1 of x (784 each) into `L`. `bits` is x's buffer read as int32
 * and `bo` the int32 offset of x[0] in it. Branch-light, because strokes make the zero/nonzero pattern
 * unpredictable: four pixels whose bits are all 0 are skipped with one test; otherwise each pixel is
 * written at position t and t advances by 1 exactly when its bits are nonzero, ((b | −b) >>> 31).
 * A −0 pixel (bits 0x80000000) is kept; it adds −0, which changes nothing.
 */
export function listPixels(bits: Int32Array, bo: number, x: Float32Array, i0: number, n: number, L: Lists): void {
  const { idx, val, start } = L;
  let t = 0;
  for (let i = 0; i < n; i++) {
    start[i] = t;
    const xo = (i0 + i) * 784;
    const o = bo + xo;
    for (let k = 0; k < 784; k += 4) { // 784 = 4·196
      const b0 = bits[o + k], b1 = bits[o + k + 1], b2 = bits[o + k + 2], b3 = bits[o + k + 3];
      if ((b0 | b1 | b2 | b3) === 0) continue;
      idx[t] = k;
      val[t] = x[xo + k];
      t += (b0 | -b0) >>> 31;
      idx[t] = k + 1;
      val[t] = x[xo + k + 1];
      t += (b1 | -b1) >>> 31;
      idx[t] = k + 2;
      val[t] = x[xo + k + 2];
      t += (b2 | -b2) >>> 31;
      idx[t] = k + 3;
      val[t] = x[xo + k + 3];
      t += (b3 | -b3) >>> 31;
    }
  }
  start[n] = t;
}

/** The nonzero entries of the n rows of A (n×w, sample-major) into `L`, branch-light as above. */
export function listNonzeros(A: Float64Array, n: number, w: number, L: Lists): void {
  const { idx, val, start } = L;
  let t = 0;
  for (let i = 0; i < n; i++) {
    start[i] = t;
    const ao = i * w;
    for (let j = 0; j < w; j++) {
      const a = A[ao + j];
      idx[t] = j;
      val[t] = a;
      t += a !== 0 ? 1 : 0;
    }
  }
  start[n] = t;
}

/**
 * Z = W·A + b for n samples: Z[i, j] = (Σ_t W[j, idx_t]·val_t) + b[j] over sample i's list, t ascending.
 * W is nOut×nIn (float32), Z is n×nOut (sample-major).
 */
export function forwardSparse(W: Float32Array, b: Float32Array, nIn: number, nOut: number, L: Lists, n: number, Z: Float64Array): number {
  const { idx, val, start } = L;
  let j = 0;
  for (; j + 10 <= nOut; j += 10) {
    const wo = j * nIn;
    for (let i = 0; i < n; i++) {
      let z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0, z8 = 0, z9 = 0;
      const end = start[i + 1];
      for (let t = start[i]; t < end; t++) {
        const v = val[t];
        let k = wo + idx[t];
        z0 += W[k] * v;
        k += nIn;
        z1 += W[k] * v;
        k += nIn;
        z2 += W[k] * v;
        k += nIn;
        z3 += W[k] * v;
        k += nIn;
        z4 += W[k] * v;
        k += nIn;
        z5 += W[k] * v;
        k += nIn;
        z6 += W[k] * v;
        k += nIn;
        z7 += W[k] * v;
        k += nIn;
        z8 += W[k] * v;
        k += nIn;
        z9 += W[k] * v;
      }
      const zo = i * nOut + j;
      Z[zo] = z0 + b[j];
      Z[zo + 1] = z1 + b[j + 1];
      Z[zo + 2] = z2 + b[j + 2];
      Z[zo + 3] = z3 + b[j + 3];
      Z[zo + 4] = z4 + b[j + 4];
      Z[zo + 5] = z5 + b[j + 5];
      Z[zo + 6] = z6 + b[j + 6];
      Z[zo + 7] = z7 + b[j + 7];
      Z[zo + 8] = z8 + b[j + 8];
      Z[zo + 9] = z9 + b[j + 9];
    }
  }
  for (; j + 4 <= nOut; j += 4) {
    const wo = j * nIn;
    for (let i = 0; i < n; i++) {
      let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
      const end = start[i + 1];
      for (let t = start[i]; t < end; t++) {
        const v = val[t];
        let k = wo + idx[t];
        z0 += W[k] * v;
        k += nIn;
        z1 += W[k] * v;
        k += nIn;
        z2 += W[k] * v;
        k += nIn;
        z3 += W[k] * v;
      }
      const zo = i * nOut + j;
      Z[zo] = z0 + b[j];
      Z[zo + 1] = z1 + b[j + 1];
      Z[zo + 2] = z2 + b[j + 2];
      Z[zo + 3] = z3 + b[j + 3];
    }
  }
  for (; j < nOut; j++) {
    const wo = j * nIn;
    for (let i = 0; i < n; i++) {
      let z = 0;
      const end = start[i + 1];
      for (let t = start[i]; t < end; t++) z += W[wo + idx[t]] * val[t];
      Z[i * nOut + j] = z + b[j];
    }
  }
  return nOut * (start[n] - start[0]);
}

/** forwardSparse's plain loop: Z = W·A + b, A dense (n×nIn, sample-major), every k ascending. */
export function forwardSparseNaive(W: Float32Array, b: Float32Array, nIn: number, nOut: number, A: ArrayLike<number>, n: number, Z: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nOut; j++) {
      let z = 0;
      for (let k = 0; k < nIn; k++) z += W[j * nIn + k] * A[i * nIn + k];
      Z[i * nOut + j] = z + b[j];
    }
  }
}

/**
 * dW += dZ·Aᵀ for n samples: dW[j, idx_t] += dZ[i, j]·val_t over sample i's list, samples ascending.
 * dW is nOut×nIn (float64 sums), dZ is n×nOut.
 */
export function outerSparse(dW: Float64Array, nIn: number, nOut: number, dZ: Float64Array, L: Lists, n: number): number {
  const { idx, val, start } = L;
  if (nOut === 10) {
    for (let i = 0; i < n; i++) {
      const zo = i * 10;
      const d0 = dZ[zo], d1 = dZ[zo + 1], d2 = dZ[zo + 2], d3 = dZ[zo + 3], d4 = dZ[zo + 4];
      const d5 = dZ[zo + 5], d6 = dZ[zo + 6], d7 = dZ[zo + 7], d8 = dZ[zo + 8], d9 = dZ[zo + 9];
      const end = start[i + 1];
      for (let t = start[i]; t < end; t++) {
        const v = val[t];
        let k = idx[t];
        dW[k] += d0 * v;
        k += nIn;
        dW[k] += d1 * v;
        k += nIn;
        dW[k] += d2 * v;
        k += nIn;
        dW[k] += d3 * v;
        k += nIn;
        dW[k] += d4 * v;
        k += nIn;
        dW[k] += d5 * v;
        k += nIn;
        dW[k] += d6 * v;
        k += nIn;
        dW[k] += d7 * v;
        k += nIn;
        dW[k] += d8 * v;
        k += nIn;
        dW[k] += d9 * v;
      }
    }
    return 10 * (start[n] - start[0]);
  }
  let madds = 0;
  for (let j = 0; j < nOut; j++) {
    const wo = j * nIn;
    for (let i = 0; i < n; i++) {
      const d = dZ[i * nOut + j];
      if (d === 0) continue;
      const end = start[i + 1];
      madds += end - start[i];
      for (let t = start[i]; t < end; t++) dW[wo + idx[t]] += d * val[t];
    }
  }
  return madds;
}

/** outerSparse's plain loop: dW += dZ·Aᵀ, A dense (n×nIn), each dW[j, k] summed over the samples ascending. */
export function outerSparseNaive(dW: Float64Array, nIn: number, nOut: number, dZ: Float64Array, A: ArrayLike<number>, n: number): void {
  for (let j = 0; j < nOut; j++) {
    for (let k = 0; k < nIn; k++) {
      for (let i = 0; i < n; i++) dW[j * nIn + k] += dZ[i * nOut + j] * A[i * nIn + k];
    }
  }
}

/**
 * dA = Wᵀ·dZ for n samples: dA[i, j] = Σ_c W[c, j]·dZ[i, c], c ascending (terms with dZ = 0 skipped).
 * W is nOut×nIn, dZ is n×nOut, dA is n×nIn.
 */
export function backDense(W: Float32Array, nIn: number, nOut: number, dZ: Float64Array, n: number, dA: Float64Array): number {
  if (nOut === 10) {
    for (let i = 0; i < n; i++) {
      const zo = i * 10, ao = i * nIn;
      const d0 = dZ[zo], d1 = dZ[zo + 1], d2 = dZ[zo + 2], d3 = dZ[zo + 3], d4 = dZ[zo + 4];
      const d5 = dZ[zo + 5], d6 = dZ[zo + 6], d7 = dZ[zo + 7], d8 = dZ[zo + 8], d9 = dZ[zo + 9];
      for (let j = 0; j < nIn; j++) {
        let k = j;
        let s = W[k] * d0;
        k += nIn;
        s += W[k] * d1;
        k += nIn;
        s += W[k] * d2;
        k += nIn;
        s += W[k] * d3;
        k += nIn;
        s += W[k] * d4;
        k += nIn;
        s += W[k] * d5;
        k += nIn;
        s += W[k] * d6;
        k += nIn;
        s += W[k] * d7;
        k += nIn;
        s += W[k] * d8;
        k += nIn;
        s += W[k] * d9;
        dA[ao + j] = s;
      }
    }
    return 10 * nIn * n;
  }
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const zo = i * nOut, ao = i * nIn;
    dA.fill(0, ao, ao + nIn);
    for (let c = 0; c < nOut; c++) {
      const d = dZ[zo + c];
      if (d === 0) continue;
      rows++;
      const wo = c * nIn;
      for (let j = 0; j < nIn; j++) dA[ao + j] += W[wo + j] * d;
    }
  }
  return rows * nIn;
}

/** backDense's plain loop: dA = Wᵀ·dZ, dA[i, k] = Σ_c W[c, k]·dZ[i, c], c ascending, nothing skipped. */
export function backDenseNaive(W: Float32Array, nIn: number, nOut: number, dZ: Float64Array, n: number, dA: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < nIn; k++) {
      let s = 0;
      for (let c = 0; c < nOut; c++) s += W[c * nIn + k] * dZ[i * nOut + c];
      dA[i * nIn + k] = s;
    }
  }
}

/** A = g(Z) ∘ M over `count` values; M (float32, read from offset mo) may be absent (no dropout). */
export function activateForward(act: Activation, Z: Float64Array, A: Float64Array, count: number, M: Float32Array | undefined, mo: number): void {
  if (act === 'relu') for (let i = 0; i < count; i++) A[i] = Z[i] > 0 ? Z[i] : 0;
  else if (act === 'tanh') for (let i = 0; i < count; i++) A[i] = Math.tanh(Z[i]);
  else for (let i = 0; i < count; i++) A[i] = 1 / (1 + Math.exp(-Z[i]));
  if (M) for (let i = 0; i < count; i++) A[i] *= M[mo + i];
}

/** dZ = dA ∘ M ∘ g′(Z), in place in dA, over `count` values; g′ is computed from Z. */
export function activateBackward(act: Activation, Z: Float64Array, dA: Float64Array, count: number, M: Float32Array | undefined, mo: number): void {
  if (M) for (let i = 0; i < count; i++) dA[i] *= M[mo + i];
  if (act === 'relu') {
    for (let i = 0; i < count; i++) dA[i] = Z[i] > 0 ? dA[i] : 0; // ReLU′(z) = [z > 0]
  } else if (act === 'tanh') {
    for (let i = 0; i < count; i++) {
      const t = Math.tanh(Z[i]);
      dA[i] *= 1 - t * t;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const s = 1 / (1 + Math.exp(-Z[i]));
      dA[i] *= s * (1 - s);
    }
  }
}

/**
 * Softmax of each of the n rows of Z (n×10) in place, max-subtracted; logZ[i] = log Σ_c exp(Z[i, c]) is
 * kept for the loss (computed before Z is overwritten).
 */
export function softmaxRows(Z: Float64Array, n: number, logZ: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * 10;
    let max = -Infinity;
    for (let c = 0; c < 10; c++) if (Z[o + c] > max) max = Z[o + c];
    let sum = 0;
    for (let c = 0; c < 10; c++) {
      const e = Math.exp(Z[o + c] - max);
      Z[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < 10; c++) Z[o + c] /= sum;
    logZ[i] = max + Math.log(sum);
  }
}

/** s[j] += Σ_i D[i, j] over the n rows of D (n×w), samples ascending. */
export function addRows(s: Float64Array, D: Float64Array, n: number, w: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * w;
    for (let j = 0; j < w; j++) s[j] += D[o + j];
  }
}

/**
 * The one place where the shared (seed-notebook) parameter layout meets tfjs's Dense-kernel layout.
 *
 * Seed layout (src/core/types.ts): W1 is hidden×784 and W2 is 10×hidden, row-major, used as z = W·x + b.
 * tfjs layout: kernels multiply row vectors from the right, z = x·K + b, so K1 = W1ᵀ (784×hidden) and
 * K2 = W2ᵀ (hidden×10), row-major. Biases are the same in both. Conversion is an exact transpose (copies,
 * no arithmetic), so a round trip is bit-exact.
 */
import { CLASSES, checkParams, INPUT, type Params } from '../core/types.ts';

export interface Kernels {
  k1: Float32Array; // 784×hidden
  b1: Float32Array; // hidden
  k2: Float32Array; // hidden×10
  b2: Float32Array; // 10
}

/** out[c*rows + r] = a[r*cols + c]: transpose of a row-major rows×cols matrix. */
export function transpose(a: Float32Array, rows: number, cols: number, out = new Float32Array(rows * cols)): Float32Array {
  if (a.length !== rows * cols) throw new Error(`transpose: ${a.length} values, expected ${rows}×${cols}`);
  if (out.length !== rows * cols) throw new Error(`transpose: output has ${out.length} values, expected ${rows * cols}`);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c];
  }
  return out;
}

/** Seed-layout Params → tfjs kernels (fresh arrays). */
export function toKernels(p: Params): Kernels {
  const h = checkParams(p);
  return {
    k1: transpose(p.W1, h, INPUT),
    b1: p.b1.slice(),
    k2: transpose(p.W2, CLASSES, h),
    b2: p.b2.slice(),
  };
}

/** tfjs kernels → seed-layout Params (fresh arrays). */
export function fromKernels(k: Kernels): Params {
  const h = k.b1.length;
  if (h < 1) throw new Error('fromKernels: b1 is empty');
  if (k.k1.length !== INPUT * h) throw new Error(`fromKernels: k1 has ${k.k1.length} values, expected ${INPUT}×${h}`);
  if (k.k2.length !== h * CLASSES) throw new Error(`fromKernels: k2 has ${k.k2.length} values, expected ${h}×${CLASSES}`);
  if (k.b2.length !== CLASSES) throw new Error(`fromKernels: b2 has ${k.b2.length} values, expected ${CLASSES}`);
  return {
    W1: transpose(k.k1, INPUT, h),
    b1: k.b1.slice(),
    W2: transpose(k.k2, h, CLASSES),
    b2: k.b2.slice(),
  };
}

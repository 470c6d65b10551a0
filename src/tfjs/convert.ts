/**
 * The one place where the shared (seed-notebook) parameter layout meets tfjs's Dense-kernel layout.
 *
 * Seed layout (src/core/types.ts): layer l's W is out×in, row-major, used as z = W·x + b.
 * tfjs layout: kernels multiply row vectors from the right, z = x·K + b, so K = Wᵀ (in×out), row-major.
 * Biases are the same in both. Conversion is an exact transpose (copies, no arithmetic), so a round trip
 * is bit-exact.
 */
import { sizesOf, type Params } from '../core/types.ts';

export interface DenseKernel {
  k: Float32Array; // in×out
  b: Float32Array; // out
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
export function toKernels(p: Params): DenseKernel[] {
  const sizes = sizesOf(p);
  return p.layers.map((l, i) => ({ k: transpose(l.W, sizes[i + 1], sizes[i]), b: l.b.slice() }));
}

/** tfjs kernels → seed-layout Params (fresh arrays), given the layer sizes [784, …, 10]. */
export function fromKernels(ks: DenseKernel[], sizes: readonly number[]): Params {
  if (ks.length !== sizes.length - 1) throw new Error(`fromKernels: ${ks.length} kernels for ${sizes.length - 1} layers`);
  return {
    layers: ks.map((k, i) => {
      const inp = sizes[i], out = sizes[i + 1];
      if (k.k.length !== inp * out) throw new Error(`fromKernels: kernel ${i + 1} has ${k.k.length} values, expected ${inp}×${out}`);
      if (k.b.length !== out) throw new Error(`fromKernels: bias ${i + 1} has ${k.b.length} values, expected ${out}`);
      return { W: transpose(k.k, inp, out), b: k.b.slice() };
    }),
  };
}

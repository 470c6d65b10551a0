/**
 * Inverted-dropout masks, drawn from the seed's `dropout` stream and shared by every implementation: the
 * harness hands the same masks to every trainer for the same step, so scratch and tfjs stay comparable
 * (tfjs's own `tf.dropout` RNG is never used). A mask value is 0 (dropped) or 1/keep (kept, as a float32),
 * multiplied into the hidden layer's activations; prediction and evaluation never drop.
 *
 * Draws: one 32-bit value per unit, kept when it falls in the lowest `keep` fraction of the 2^32 range.
 * Per step, hidden layer by hidden layer, each m×width sample-major; a layer with keep = 1 draws nothing
 * and gets all ones, which is exactly no dropout (×1 is exact).
 */
import { rng, type Rng } from './rng.ts';

export function checkKeep(keep: readonly number[], hidden: readonly number[]): void {
  if (keep.length !== hidden.length) throw new Error(`keep: ${keep.length} values for ${hidden.length} hidden layers`);
  for (const k of keep) if (!(Number.isFinite(k) && k > 0 && k <= 1)) throw new Error(`keep probabilities must be in (0, 1], got ${k}`);
}

export const usesDropout = (keep: readonly number[]): boolean => keep.some((k) => k < 1);

/** Fills `out` (m×width) with a mask for one hidden layer. */
export function fillMask(r: Rng, keep: number, out: Float32Array): Float32Array {
  if (keep >= 1) return out.fill(1);
  const scale = Math.fround(1 / keep);
  // int32() < below ⇔ the unsigned draw < keep·2^32; for an integer draw, < below ⇔ < ⌈below⌉
  const below = Math.ceil(keep * 4294967296 - 2147483648);
  // the draws first, in one loop (the same values as int32() one by one), then a comparison without a
  // branch (a kept/dropped branch is mispredicted 40% of the time: this is ~6× faster, measured)
  if (draws.length < out.length) draws = new Int32Array(out.length);
  const d = r.fillInt32(draws.subarray(0, out.length));
  for (let i = 0; i < out.length; i++) out[i] = scale * +(d[i] < below);
  return out;
}
let draws = new Int32Array(0);

export interface MaskStream {
  /** The masks of step s (steps in increasing order; buffers are reused: copy to keep). */
  masks(s: number, m: number): Float32Array[];
}

/**
 * Masks for a run of steps from (seed, 'dropout'): step s gets the same masks however it is reached, as
 * long as steps are visited in increasing order (the stream is advanced over skipped steps).
 */
export function maskStream(seed: number, hidden: readonly number[], keep: readonly number[], stream: 'dropout' | 'probe' = 'dropout'): MaskStream {
  checkKeep(keep, hidden);
  const r = rng(seed, stream);
  let next = 0;
  let bufs: Float32Array[] = [];
  let bufM = -1;
  return {
    masks(s: number, m: number): Float32Array[] {
      if (s < next) throw new Error('dropout masks: steps must be visited in increasing order');
      if (m !== bufM) {
        bufs = hidden.map((w) => new Float32Array(m * w));
        bufM = m;
      }
      // every step draws m×width values per dropped layer, whatever is skipped
      for (; next < s; next++) for (let l = 0; l < hidden.length; l++) if (keep[l] < 1) for (let i = 0; i < m * hidden[l]; i++) r.int32();
      next = s + 1;
      return hidden.map((_, l) => fillMask(r, keep[l], bufs[l]));
    },
  };
}

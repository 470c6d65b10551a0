/**
 * The project's one seeded PRNG (pure-rand's xoroshiro128+), with separate streams derived from the seed
 * so that, e.g., changing the batch order never shifts the initial weights.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

export type Stream = 'init' | 'batches' | 'holdout' | 'sample' | 'test' | 'gallery' | 'dropout' | 'probe';

// Fixed, distinct stream ids. The generator for (seed, stream) is xoroshiro128+ seeded with the seed,
// then jumped stream-id times: each jump moves 2^64 steps ahead, so streams never overlap.
const STREAM_ID: Record<Stream, number> = { init: 1, batches: 2, holdout: 3, sample: 4, test: 5, gallery: 6, dropout: 7, probe: 8 };

export interface Rng {
  /** uniform in [0, 1), 53 random bits */
  float(): number;
  /** uniform integer in [from, to] inclusive */
  int(from: number, to: number): number;
  /** standard normal (Box–Muller) */
  normal(): number;
  /** the generator's next raw 32 bits, as a signed integer in −2^31..2^31−1 */
  int32(): number;
  /** out[i] = int32() for i = 0, 1, … in order: the same draws, in one tight loop */
  fillInt32(out: Int32Array): Int32Array;
}

export function rng(seed: number, stream: Stream): Rng {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0x7fffffff)) {
    throw new Error(`seed must be an integer in 0..2147483647, got ${seed}`);
  }
  const g = xoroshiro128plus(seed);
  for (let i = 0; i < STREAM_ID[stream]; i++) g.jump(); // in place
  let spare: number | null = null;
  return {
    float: () => uniformFloat64(g),
    int: (from, to) => uniformInt(g, from, to),
    int32: () => g.next(),
    fillInt32(out) {
      for (let i = 0; i < out.length; i++) out[i] = g.next();
      return out;
    },
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = uniformFloat64(g);
      const v = uniformFloat64(g);
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/** Fisher–Yates shuffle of 0..n-1 (into `out` if given). */
export function permutation(r: Rng, n: number, out: Uint32Array = new Uint32Array(n)): Uint32Array {
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(0, i);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

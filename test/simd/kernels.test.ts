// Each SIMD kernel of assembly/net.ts against its plain loop beside it (scanRows, spmm, outerCols, outer64 and their
// `…Naive` twins, exported for this test), on random inputs with the zeros the network feeds them:
// MNIST-like images (~80% zero pixels), hidden activations with ReLU's and dropout's zeros, dZ with the
// zeros of ReLU′ and the masks, and one sample that is all zeros; at 784-10-10 and 784-400-100-10, for
// n = 1, 7 and 64 samples, every layer, as the network calls them (Z = W·A + b through Wᵀ, Wᵀ·dZ through
// the row-major W, dWᵀ += Aᵀ·dZ into float64 sums), in both builds: the plain 128-bit one and the relaxed
// one (fused multiply-adds; skipped, with the reason, where the runtime has no relaxed SIMD).
//
// What must agree, and how:
// - the lists of nonzeros (scanRows): identical;
// - every float32 sum (spmm's Z and Wᵀ·dZ; outerCols's per-input sums over the samples, then added to the
//   float64 dWᵀ) must lie within the float32 rounding bound of the exact sum, |r − s| ≤ γ_N·Σ|terms| with
//   γ_N = N·u/(1 − N·u), u = 2^−24 and N the number of nonzero products plus the bias (Higham, any order of
//   summation, fused or not), s computed in float64 from the same float32 inputs (each product exact; its
//   own error, below 2^−40·Σ|terms|, is added to the bound);
// - in the plain build, where a kernel adds its terms one by one in the plain loop's order (outerCols:
//   samples ascending; spmm: tiles of more than 4 vectors, list order; the zeros they skip only add ±0),
//   bit for bit. spmm's narrower tiles keep two interleaved partial sums (even and odd list entries), a
//   different order, so they are held to the bound only.
import { describe, expect, it } from 'vitest';
import { rng, type Rng } from '../../src/core/rng.ts';
import { loadModule } from '../../src/simd/build.ts';
import { simdFlavours } from '../helpers/index.ts';
import { builtDescriptorOffsets, pad4, readDescriptor } from '../../src/simd/layout.ts';

interface Twins {
  heapBase(): number;
  scanRows(rows: number, rs: number, wP: number, n: number, idx: number, start: number): number;
  scanRowsNaive(rows: number, rs: number, wP: number, n: number, idx: number, start: number): number;
  spmm(rows: number, rs: number, idx: number, start: number, n: number, M: number, K: number, wP: number, bias: number, out: number, cst: number, pairs: number): void;
  spmmNaive(rows: number, rs: number, n: number, M: number, K: number, wP: number, bias: number, out: number): void;
  outerCols(rows: number, rs: number, idx: number, start: number, n: number, dZ: number, outP: number, K: number, S: number, cs: number, ce: number, first: number, f32: number): number;
  outerColsNaive(rows: number, rs: number, K: number, n: number, dZ: number, outP: number, S: number): void;
  outer64(rows: number, rs: number, idx: number, start: number, n: number, dz: number, outP: number, out: number, S: number): void;
  outer64Naive(rows: number, rs: number, K: number, n: number, dz: number, outP: number, out: number, S: number): void;
}

const NETS = [[784, 10, 10], [784, 400, 100, 10]];
const SAMPLES = [1, 7, 64];
const U = 2 ** -24;

const memory = new WebAssembly.Memory({ initial: 512, maximum: 512 }); // 32 MiB, never grown
const instance = (relaxed: boolean) => new WebAssembly.Instance(loadModule('plain', undefined, relaxed), { env: { memory } }).exports as unknown as Twins;
const hasRelaxed = simdFlavours().includes('relaxed'); // (registers a skip saying so where it is absent)
const BUILDS = [
  { name: 'plain', k: instance(false), exact: true },
  ...(hasRelaxed ? [{ name: 'relaxed', k: instance(true), exact: false }] : []),
];
let k: Twins = BUILDS[0].k;
/** whether the build under test adds one term at a time with two roundings, as the plain loops do */
let exact = true;
const f32 = new Float32Array(memory.buffer), f64 = new Float64Array(memory.buffer), i32 = new Int32Array(memory.buffer);
let top = 0;
/** A fresh region of memory (64-byte aligned, 16 spare bytes: the kernels store whole vectors). */
const alloc = (bytes: number) => {
  const at = top;
  top = Math.ceil((top + bytes + 16) / 64) * 64;
  return at;
};

/**
 * Which float32 columns (of wP) spmm sums one term at a time. spmm's tiling: ⌈(wP/4)/7⌉ tiles of at most 7
 * vectors (MAX_V), as even as can be (the widest first); the rows of M cut into ⌈K / ⌊L1_TILE_BYTES / 16·widest⌋⌉
 * chunks, L1_TILE_BYTES = 40 KiB. With more than one chunk every tile adds one term at a time; with one,
 * tiles of more than 4 vectors do (narrower ones keep two interleaved partial sums).
 */
function sequentialColumns(K: number, wP: number): boolean[] {
  const vecs = wP / 4, tiles = Math.ceil(vecs / 7), widest = Math.ceil(vecs / tiles);
  const chunks = Math.ceil(K / Math.max(1, Math.floor((40 * 1024) / (widest * 16))));
  const seq: boolean[] = [];
  for (let left = vecs, tl = tiles; tl > 0; tl--) {
    const V = Math.ceil(left / tl);
    for (let c = 0; c < 4 * V; c++) seq.push(chunks > 1 || V > 4);
    left -= V;
  }
  return seq;
}

const f = Math.fround;
/** n rows of w floats (row stride wP), written at `at`: value(i, j), padding lanes 0; sample 3 all zero. */
function fill(at: number, n: number, w: number, wP: number, value: (i: number, j: number) => number): void {
  f32.fill(0, at >> 2, (at >> 2) + n * wP);
  for (let i = 0; i < n; i++) if (i !== 3) for (let j = 0; j < w; j++) f32[(at >> 2) + i * wP + j] = f(value(i, j));
}
const images = (r: Rng) => () => (r.float() < 0.2 ? r.int(1, 255) / 255 : 0);
const relu = (r: Rng) => () => Math.max(0, r.normal()) * (r.float() < 0.5 ? 0 : 2); // ReLU, then a keep-0.5 mask
const hiddenDZ = (r: Rng) => () => (r.float() < 0.5 ? 0 : r.normal() * 0.1) * (r.float() < 0.5 ? 0 : 2);
const outputDZ = (r: Rng) => () => r.normal() * 0.3;
const weight = (r: Rng) => () => r.float() - 0.5;

/** Float32 bits at `at` (count floats) as an array, for exact comparison. */
const bits32 = (at: number, count: number) => Array.from(new Uint32Array(memory.buffer, at, count));

/**
 * Checks spmm against spmmNaive and the float64 bound. rows: n×K in rowsP lanes (stride rs bytes), M: K×wP,
 * bias: wP floats (or 0 for none).
 * Returns the worst |r − s| / bound seen (fast and plain loop) and how many outputs were held bit for bit.
 */
function checkSpmm(where: string, rows: number, rs: number, rowsP: number, n: number, M: number, K: number, wP: number, bias: number): { worst: number; sequential: number } {
  const idx = alloc(n * rowsP * 4), start = alloc((n + 1) * 4);
  const outF = alloc(n * wP * 4), outN = alloc(n * wP * 4);
  k.scanRows(rows, rs, rowsP, n, idx, start); // as the network lists them: rowsP lanes, the padding 0
  const cst = alloc(n * (Math.ceil(K / 365) + 1) * 4); // the chunk table: chunks of at least CHUNK_ROWS = ⌊40 KiB / (16·7)⌋ = 365 rows
  k.spmm(rows, rs, idx, start, n, M, K, wP, bias, outF, cst, alloc(n * rowsP * 8)); // (and room for its pairs: 8 bytes per entry)
  k.spmmNaive(rows, rs, n, M, K, wP, bias, outN);
  const seq = sequentialColumns(K, wP);
  let worst = 0, sequential = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < wP; c++) {
      let s = 0, abs = 0, N = 0;
      for (let t = 0; t < K; t++) {
        const a = f32[(rows + i * rs) / 4 + t], w = f32[(M >> 2) + t * wP + c];
        if (a === 0 || w === 0) continue;
        s += a * w;
        abs += Math.abs(a * w);
        N++;
      }
      if (bias) {
        const b = f32[(bias >> 2) + c];
        s += b;
        abs += Math.abs(b);
        if (b !== 0) N++;
      }
      const bound = (N * U) / (1 - N * U) * abs + 2 ** -40 * abs;
      const o = i * wP + c;
      const rf = f32[(outF >> 2) + o], rn = f32[(outN >> 2) + o];
      for (const r of [rf, rn]) {
        expect(Math.abs(r - s), `${where}: out[${i}, ${c}] = ${r}, exact ${s}, bound ${bound}`).toBeLessThanOrEqual(bound);
        if (bound > 0) worst = Math.max(worst, Math.abs(r - s) / bound);
      }
      if (seq[c] && exact) {
        sequential++;
        expect(bits32(outF + 4 * o, 1)[0], `${where}: out[${i}, ${c}] (a one-by-one tile) bit for bit`).toBe(bits32(outN + 4 * o, 1)[0]);
      }
    }
  }
  return { worst, sequential };
}

describe.each(BUILDS)('scratch-simd kernels ($name build): each SIMD kernel against its plain loop', (build) => {
  for (const sizes of NETS) {
    for (const n of SAMPLES) {
      it(`${sizes.join('-')}, n = ${n}: lists identical; Z = W·A + b, Wᵀ·dZ and dWᵀ within float32 rounding of the exact sums${build.exact ? ', and bit for bit where the order is the plain loop\'s' : ''}`, () => {
        k = build.k;
        exact = build.exact;
        const r = rng(1000 * sizes.length + n, 'test');
        const L = sizes.length - 1;
        let worst = 0, sequential = 0;
        const spmmCase = (c: { worst: number; sequential: number }) => {
          worst = Math.max(worst, c.worst);
          sequential += c.sequential;
        };
        for (let l = 1; l <= L; l++) {
          top = Math.ceil(k.heapBase() / 64) * 64;
          const nIn = sizes[l - 1], nOut = sizes[l], inP = pad4(nIn), outP = pad4(nOut);
          const where = `${sizes.join('-')} layer ${l}, n = ${n}`;
          // the layer's input A_{l−1}: images (784 wide, unpadded) or hidden activations (inP lanes)
          const rowsP = l === 1 ? nIn : inP, rs = rowsP * 4;
          const rows = alloc(n * rs);
          fill(rows, n, nIn, rowsP, l === 1 ? images(r) : relu(r));

          // the lists of nonzeros
          const idxF = alloc(n * rowsP * 4), startF = alloc((n + 1) * 4), idxN = alloc(n * rowsP * 4), startN = alloc((n + 1) * 4);
          const t = k.scanRows(rows, rs, rowsP, n, idxF, startF);
          expect(k.scanRowsNaive(rows, rs, rowsP, n, idxN, startN), `${where}: list length`).toBe(t);
          expect(Array.from(i32.subarray(startF >> 2, (startF >> 2) + n + 1)), `${where}: list starts`).toEqual(Array.from(i32.subarray(startN >> 2, (startN >> 2) + n + 1)));
          expect(Array.from(i32.subarray(idxF >> 2, (idxF >> 2) + t)), `${where}: list entries`).toEqual(Array.from(i32.subarray(idxN >> 2, (idxN >> 2) + t)));
          if (n > 1) expect(t, `${where}: the input has zeros to skip`).toBeLessThan(0.6 * n * nIn);

          // Z = W·A + b, through Wᵀ (nIn×outP, padding columns 0) and b (outP)
          const WT = alloc(nIn * outP * 4), b = alloc(outP * 4);
          fill(WT, nIn, nOut, outP, weight(r));
          f32.fill(0, b >> 2, (b >> 2) + outP);
          for (let j = 0; j < nOut; j++) f32[(b >> 2) + j] = f(r.float() - 0.5);
          spmmCase(checkSpmm(`${where}, Z`, rows, rs, rowsP, n, WT, nIn, outP, b));

          // dZ_l (n×outP, padding 0): dense for the output layer, with ReLU′'s and the masks' zeros otherwise
          const dZ = alloc(n * outP * 4);
          fill(dZ, n, nOut, outP, l === L ? outputDZ(r) : hiddenDZ(r));
          // Wᵀ·dZ through the row-major W (nOut×inP) over dZ's nonzeros (the network does it for l ≥ 2)
          const Wr = alloc(nOut * inP * 4);
          f32.fill(0, Wr >> 2, (Wr >> 2) + nOut * inP);
          for (let j = 0; j < nOut; j++) for (let q = 0; q < nIn; q++) f32[(Wr >> 2) + j * inP + q] = f32[(WT >> 2) + q * outP + j];
          spmmCase(checkSpmm(`${where}, Wᵀ·dZ`, dZ, outP * 4, outP, n, Wr, nOut, inP, 0));

          // dWᵀ (nIn×outP float64) += A_{l−1}ᵀ·dZ, onto the same random start
          const SF = alloc(nIn * outP * 8), SN = alloc(nIn * outP * 8);
          const cs = alloc((nIn + 1) * 4), ce = alloc(n * nIn * 8);
          for (let q = 0; q < nIn * outP; q++) f64[(SF >> 3) + q] = f64[(SN >> 3) + q] = q % outP < nOut ? r.normal() : 0;
          const before = Float64Array.from(f64.subarray(SF >> 3, (SF >> 3) + nIn * outP));
          expect(k.outerCols(rows, rs, idxF, startF, n, dZ, outP, nIn, SF, cs, ce, 0, 0), `${where}: dWᵀ entries`).toBe(t);
          k.outerColsNaive(rows, rs, rowsP, n, dZ, outP, SN);
          let changed = false, outside = '', differ = '';
          for (let q = 0; q < nIn; q++) {
            for (let c = 0; c < outP; c++) {
              const e = q * outP + c;
              let sum = 0, abs = 0, N = 0;
              for (let i = 0; i < n; i++) {
                const term = f32[(rows + i * rs) / 4 + q] * f32[(dZ >> 2) + i * outP + c];
                if (term === 0) continue;
                sum += term;
                abs += Math.abs(term);
                N++;
              }
              const bound = (N * U) / (1 - N * U) * abs + 2 ** -40 * abs;
              const sf = f64[(SF >> 3) + e], sn = f64[(SN >> 3) + e];
              changed ||= sf !== before[e];
              // the float32 sum, recovered from the float64 total (its addition's own rounding allowed for)
              const slack = 2 ** -52 * (Math.abs(sf) + Math.abs(before[e]));
              for (const got of [sf, sn]) if (!(Math.abs(got - before[e] - sum) <= bound + slack)) outside ||= `dWᵀ[${q}, ${c}] = ${got}, from ${before[e]} + exact ${sum}, bound ${bound}`;
              if (bound > 0) worst = Math.max(worst, (Math.abs(sf - before[e] - sum) - slack) / bound);
              if (exact && !Object.is(sf, sn)) differ ||= `dWᵀ[${q}, ${c}]: ${sf} vs the plain loop's ${sn}`;
            }
          }
          expect(outside, `${where}: dWᵀ within the float32 bound`).toBe('');
          expect(differ, `${where}: dWᵀ bit for bit`).toBe('');
          // a block's first pass writes every row instead of adding: the same bits as adding to zeros,
          // whatever was there before, and nothing past the K rows is touched
          const SZ = alloc((nIn + 1) * outP * 8), SW = alloc((nIn + 1) * outP * 8);
          f64.fill(0, SZ >> 3, (SZ >> 3) + nIn * outP);
          for (let q = 0; q < (nIn + 1) * outP; q++) f64[(SW >> 3) + q] = r.normal();
          const past = f64.slice((SW >> 3) + nIn * outP, (SW >> 3) + (nIn + 1) * outP);
          k.outerCols(rows, rs, idxF, startF, n, dZ, outP, nIn, SZ, cs, ce, 0, 0);
          k.outerCols(rows, rs, idxF, startF, n, dZ, outP, nIn, SW, cs, ce, 1, 0);
          expect(Array.from(new Uint32Array(memory.buffer, SW, nIn * outP * 2)), `${where}: first pass = adding to zeros`).toEqual(Array.from(new Uint32Array(memory.buffer, SZ, nIn * outP * 2)));
          expect(Array.from(f64.subarray((SW >> 3) + nIn * outP, (SW >> 3) + (nIn + 1) * outP)), `${where}: the row past K untouched`).toEqual(Array.from(past));
          // a worker thread's slot (f32): the float32 column sums themselves, which widened to float64 are
          // what the first pass writes (+0 + f64(sum) = f64(sum)), over whatever was there, and no further
          const S32 = alloc((nIn + 1) * outP * 4);
          for (let q = 0; q < (nIn + 1) * outP; q++) f32[(S32 >> 2) + q] = r.normal();
          const past32 = f32.slice((S32 >> 2) + nIn * outP, (S32 >> 2) + (nIn + 1) * outP);
          k.outerCols(rows, rs, idxF, startF, n, dZ, outP, nIn, S32, cs, ce, 1, 1);
          const widened = Array.from(f32.subarray(S32 >> 2, (S32 >> 2) + nIn * outP), (v) => v);
          expect(widened.map((v) => (Object.is(v, -0) ? 0 : v)), `${where}: slot = the first pass's sums`).toEqual(Array.from(f64.subarray(SW >> 3, (SW >> 3) + nIn * outP)));
          expect(Array.from(f32.subarray((S32 >> 2) + nIn * outP, (S32 >> 2) + (nIn + 1) * outP)), `${where}: the slot row past K untouched`).toEqual(Array.from(past32));

          // the narrow layers' kernel (outer64): float64 sums of exact float32×float32 products, added
          // sample by sample in both it and its loop, so bit for bit in either build
          const dz64 = alloc(n * outP * 8);
          for (let q = 0; q < n * outP; q++) f64[(dz64 >> 3) + q] = f32[(dZ >> 2) + q];
          const S6 = alloc(nIn * outP * 8), S6N = alloc(nIn * outP * 8);
          for (let q = 0; q < nIn * outP; q++) f64[(S6 >> 3) + q] = f64[(S6N >> 3) + q] = q % outP < nOut ? r.normal() : 0;
          const before6 = Float64Array.from(f64.subarray(S6 >> 3, (S6 >> 3) + nIn * outP));
          k.outer64(rows, rs, idxF, startF, n, dz64, outP, nOut, S6);
          k.outer64Naive(rows, rs, nIn, n, dz64, outP, nOut, S6N);
          const s6 = new Uint32Array(memory.buffer, S6, nIn * outP * 2), s6n = new Uint32Array(memory.buffer, S6N, nIn * outP * 2);
          let diff6 = -1;
          for (let q = 0; q < s6.length && diff6 < 0; q++) if (s6[q] !== s6n[q]) diff6 = q >> 1;
          expect(diff6, `${where}: outer64 dWᵀ bit for bit (first difference at element ${diff6})`).toBe(-1);
          expect(f64.subarray(S6 >> 3, (S6 >> 3) + nIn * outP).some((v, q) => v !== before6[q]), `${where}: outer64 changed dWᵀ`).toBe(true);
          expect(changed, `${where}: dWᵀ changed`).toBe(true);
        }
        expect(worst, 'the worst error, as a fraction of its bound').toBeLessThan(1);
        // the wide outputs (400 units of Z_2, 784 or 400 inputs of Wᵀ·dZ) come in one-by-one tiles: held bit for bit
        if (exact) expect(sequential, 'outputs held bit for bit').toBeGreaterThanOrEqual(n * 768);
      });
    }
  }
});

describe('scratch-simd descriptor: one source, assembly/net.ts', () => {
  it('the offsets come from the module, and a module without them is refused with one clear line', () => {
    const d = builtDescriptorOffsets();
    const globals = new WebAssembly.Instance(loadModule('plain'), { env: { memory } }).exports as Record<string, { value: number }>;
    for (const [name, v] of Object.entries(d)) expect(v, name).toBe(globals[name].value);
    expect(() => readDescriptor({})).toThrow(/^scratch-simd: build\/ is out of date \(the module does not export N_L\); run `npm run build:simd`$/);
  });

  it('the offsets describe tables whose fields do not overlap', () => {
    const d = builtDescriptorOffsets();
    const distinctBelow = (names: string[], limit: number) => {
      const v = names.map((n) => d[n as keyof typeof d]);
      expect(new Set(v).size, names.join(' ')).toBe(v.length);
      for (const x of v) expect(x, names.join(' ')).toBeLessThan(limit);
      for (const x of v) expect(x).toBeGreaterThanOrEqual(0);
    };
    distinctBelow(['N_L', 'N_SUMS_BYTES', 'N_LOSS'], d.N_LAYER0);
    distinctBelow(['L_IN', 'L_OUT', 'L_INP', 'L_OUTP', 'L_WT', 'L_WR', 'L_B', 'L_DW', 'L_DB', 'L_MW', 'L_VW', 'L_MB', 'L_VB'], d.N_STRIDE);
    distinctBelow(['W_X', 'W_Y', 'W_DZLIST', 'W_DZSTART', 'W_COLSTART', 'W_COUNT', 'W_DZ64', 'W_PAIRS'], d.W_LAYER0);
    distinctBelow(['WL_Z', 'WL_A', 'WL_DZ', 'WL_LIST', 'WL_START', 'WL_MASK', 'WL_CS', 'WL_CE', 'WL_SLOT'], d.W_STRIDE);
  });
});

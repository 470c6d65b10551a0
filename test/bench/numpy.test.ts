// The numpy reference row (bench/numpy_ref.py through bench/numpy.ts): it computes the same math as the
// rest of the project (its float32 gradients vs a float64 implementation written here, on real MNIST
// batches), its timing run returns sane numbers on one BLAS thread, and a missing python is a skip, not
// an error. Without python3 + numpy the tests that need them are skipped, with the reason in their name.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NUMPY_SCRIPT,
  NUMPY_THREAD_VARS,
  probeNumpy,
  runNumpy,
  type NumpyConfig,
  type NumpyResult,
} from '../../bench/numpy.ts';
import type { Batch } from '../../src/core/types.ts';
import { SMOKE_PLAN } from '../../bench/budgets.ts';
import { expectBitEqual, mnistData, mnistSlice } from '../helpers/index.ts';

const probe = probeNumpy();
const noNumpy = !probe.ok;
const skipNote = probe.ok ? '' : ` (skipped: ${probe.reason})`;

// ----------------------------------------------------------------- a float64 reference, written here
// Matrices are features × samples ("column-major" in the notebook's sense: one sample per column),
// stored r×c in a Float64Array, v[i·c + j]. Generic over the list of layers; no tricks.

interface Mat {
  r: number;
  c: number;
  v: Float64Array;
}

const zeros = (r: number, c: number): Mat => ({ r, c, v: new Float64Array(r * c) });

function matmul(A: Mat, B: Mat): Mat {
  if (A.c !== B.r) throw new Error(`matmul ${A.r}×${A.c} · ${B.r}×${B.c}`);
  const C = zeros(A.r, B.c);
  for (let i = 0; i < A.r; i++)
    for (let j = 0; j < B.c; j++) {
      let s = 0;
      for (let t = 0; t < A.c; t++) s += A.v[i * A.c + t] * B.v[t * B.c + j];
      C.v[i * B.c + j] = s;
    }
  return C;
}

function transpose(A: Mat): Mat {
  const T = zeros(A.c, A.r);
  for (let i = 0; i < A.r; i++) for (let j = 0; j < A.c; j++) T.v[j * A.r + i] = A.v[i * A.c + j];
  return T;
}

interface Layer {
  W: Mat; // n_out × n_in
  b: Float64Array; // n_out
}

/** Loss and gradients of the batch-mean cross-entropy, the notebook's equations over any list of layers. */
function reference64(params: Layer[], batch: Batch): { loss: number; grads: { dW: Mat; db: Float64Array }[] } {
  const m = batch.m;
  const X = zeros(784, m);
  for (let i = 0; i < m; i++) for (let f = 0; f < 784; f++) X.v[f * m + i] = batch.x[i * 784 + f];
  const Y = zeros(10, m);
  for (let i = 0; i < m; i++) Y.v[batch.y[i] * m + i] = 1;
  const L = params.length;
  const Zs: Mat[] = [];
  const As: Mat[] = [X];
  for (let l = 0; l < L; l++) {
    const Z = matmul(params[l].W, As[l]);
    for (let j = 0; j < Z.r; j++) for (let i = 0; i < m; i++) Z.v[j * m + i] += params[l].b[j];
    Zs.push(Z);
    As.push({ ...Z, v: Z.v.map((z) => Math.max(0, z)) }); // the last one is replaced by the softmax below
  }
  const Z = Zs[L - 1];
  const A = zeros(10, m);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let c = 0; c < 10; c++) mx = Math.max(mx, Z.v[c * m + i]);
    let s = 0;
    for (let c = 0; c < 10; c++) s += Math.exp(Z.v[c * m + i] - mx);
    const lse = mx + Math.log(s);
    for (let c = 0; c < 10; c++) A.v[c * m + i] = Math.exp(Z.v[c * m + i] - lse);
    loss -= Z.v[batch.y[i] * m + i] - lse;
  }
  As[L] = A;
  let dZ: Mat = { r: 10, c: m, v: A.v.map((a, k) => a - Y.v[k]) };
  const grads: { dW: Mat; db: Float64Array }[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const dW = matmul(dZ, transpose(As[l]));
    dW.v = dW.v.map((v) => v / m);
    const db = new Float64Array(dZ.r);
    for (let j = 0; j < dZ.r; j++) for (let i = 0; i < m; i++) db[j] += dZ.v[j * m + i] / m;
    grads[l] = { dW, db };
    if (l > 0) {
      const back = matmul(transpose(params[l].W), dZ);
      dZ = { ...back, v: back.v.map((v, k) => (Zs[l - 1].v[k] > 0 ? v : 0)) };
    }
  }
  return { loss: loss / m, grads };
}

// ------------------------------------------------------------------------------------------ helpers

/** mulberry32: a tiny seeded PRNG for test weights, uniform in [0, 1). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 weights in the script's file layout: for each layer, W (row-major) then b. */
function testParams(layers: number[], seed: number): Float32Array {
  const u = uniform(seed);
  const out: number[] = [];
  for (let l = 1; l < layers.length; l++) {
    const [nIn, nOut] = [layers[l - 1], layers[l]];
    const a = layers.length === 3 ? 0.5 : Math.sqrt(6 / nIn); // the notebook's range; He-uniform deeper
    for (let k = 0; k < nOut * nIn; k++) out.push((2 * u() - 1) * a);
    for (let k = 0; k < nOut; k++) out.push((2 * u() - 1) * 0.1);
  }
  return Float32Array.from(out);
}

function toLayers(flat: Float32Array, layers: number[]): Layer[] {
  const out: Layer[] = [];
  let at = 0;
  for (let l = 1; l < layers.length; l++) {
    const [nIn, nOut] = [layers[l - 1], layers[l]];
    out.push({ W: { r: nOut, c: nIn, v: Float64Array.from(flat.subarray(at, at + nOut * nIn)) }, b: Float64Array.from(flat.subarray(at + nOut * nIn, at + nOut * nIn + nOut)) });
    at += nOut * nIn + nOut;
  }
  return out;
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d2 = 0, b2 = 0;
  for (let i = 0; i < b.length; i++) {
    d2 += (a[i] - b[i]) ** 2;
    b2 += b[i] ** 2;
  }
  return Math.sqrt(d2) / Math.sqrt(b2);
}

const bytes = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// -------------------------------------------------------------------------------------------- tests

describe('numpy reference: the same math as the rest of the project (--check)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnist-duel-numpy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { layers: number[]; m: number }[] = [];
  for (const layers of [[784, 10, 10], [784, 400, 100, 10]]) for (const m of [1, 7, 64]) cases.push({ layers, m });

  for (const { layers, m } of cases) {
    it.skipIf(noNumpy)(`${layers.join('-')}, m = ${m}: loss and every gradient within relative L2 1e-5 of float64; the SGD update is float32${skipNote}`, () => {
      const name = `${layers.join('-')}-${m}`;
      const params = testParams(layers, 7 + m);
      const start = 3 * m; // the fourth consecutive batch of m training images, in file order
      const batch = mnistSlice(start, m);
      const files = { params: join(dir, `${name}.p`), x: join(dir, `${name}.x`), y: join(dir, `${name}.y`), out: join(dir, `${name}.out`) };
      writeFileSync(files.params, bytes(params));
      writeFileSync(files.x, bytes(batch.x));
      writeFileSync(files.y, bytes(batch.y));
      const r = spawnSync('python3', [NUMPY_SCRIPT, '--check', '--layers', layers.join(','), '--params', files.params, '--x', files.x, '--y', files.y, '--out', files.out, '--lr', '0.1'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const info = JSON.parse(r.stdout) as { m: number; dtypes: { loss: string; grads: string[]; params: string[] } };
      expect(info.m).toBe(m);
      expect([info.dtypes.loss, ...info.dtypes.grads, ...info.dtypes.params].every((d) => d === 'float32')).toBe(true);

      const buf = readFileSync(files.out);
      const out = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const P = params.length;
      expect(out.length).toBe(1 + 2 * P);
      const grads = out.subarray(1, 1 + P), after = out.subarray(1 + P);

      const ref = reference64(toLayers(params, layers), batch);
      expect(Math.abs(out[0] - ref.loss) / ref.loss).toBeLessThan(1e-5);
      const got = toLayers(grads, layers);
      for (let l = 0; l < ref.grads.length; l++) {
        expect(relL2(got[l].W.v, ref.grads[l].dW.v), `dW${l + 1}`).toBeLessThanOrEqual(1e-5);
        expect(relL2(got[l].b, ref.grads[l].db), `db${l + 1}`).toBeLessThanOrEqual(1e-5);
      }
      // W := W − α·dW done in float32, bit for bit: fround(W − fround(fround(α)·dW))
      const a32 = Math.fround(0.1);
      expectBitEqual(after, Float32Array.from(params, (w, i) => w - Math.fround(a32 * grads[i])), 'numpy SGD update');
    });
  }
});

describe('runNumpy', () => {
  const configs: NumpyConfig[] = [
    { layers: [784, 10, 10], what: 'step', batch: 64 },
    { layers: [784, 400, 100, 10], what: 'forward', batch: 256 },
    { layers: [784, 10, 10], what: 'gradients', batch: 'full' },
  ];

  it.skipIf(noNumpy)(`a smoke run: finite positive times for every configuration, on one BLAS thread, on the embedded MNIST${skipNote}`, async () => {
    const progress: string[] = [];
    const r = await runNumpy(configs, { plan: SMOKE_PLAN, onProgress: (p) => progress.push(`${p.round}/${p.rounds} ${p.id}`) });
    if ('skipped' in r) throw new Error(r.skipped);
    const res: NumpyResult = r;
    expect(res.rows.map((x) => x.id)).toEqual(['step · numpy · 784-10-10 · 64', 'forward · numpy · 784-400-100-10 · 256', 'gradients · numpy · 784-10-10 · full']);
    expect(progress).toHaveLength(SMOKE_PLAN.rounds * configs.length);
    for (const row of res.rows) {
      for (const v of [row.medianMs, row.p25Ms, row.p75Ms, row.samplesPerSec, ...row.samples]) {
        expect(Number.isFinite(v) && v > 0, `${row.id}: ${v}`).toBe(true);
      }
      expect(row.p25Ms).toBeLessThanOrEqual(row.medianMs);
      expect(row.medianMs).toBeLessThanOrEqual(row.p75Ms);
      expect(row.perRoundMedianMs).toHaveLength(SMOKE_PLAN.rounds);
      expect(row.n).toBe(row.samples.length);
      expect(row.finite).toBe(true);
    }
    const [step, fwd, full] = res.rows;
    expect([step.m, step.batches, step.impl]).toEqual([64, 937, 'numpy-sgd']);
    expect([fwd.m, fwd.batches]).toEqual([256, 39]); // 10,000 test images
    expect([full.m, full.batches, full.n]).toEqual([60_000, 1, SMOKE_PLAN.rounds]); // heavy budget: one call a round
    expect(Number.isFinite(step.lastLoss)).toBe(true);
    expect(fwd.lastLoss).toBeNull();

    for (const k of NUMPY_THREAD_VARS) expect(res.threads.env[k], k).toBe('1');
    if (res.threads.blas !== null) expect(res.threads.blas).toBe(1); // as the loaded BLAS reports it
    expect(res.numpy).toBe(probe.ok ? probe.numpy : '');

    // the same images as the project's loader
    const data = mnistData();
    for (const [k, split] of [['train', data.train], ['test', data.test]] as const) {
      let s = 0, ys = 0;
      for (let i = 0; i < split.x.length; i++) s += split.x[i];
      for (let i = 0; i < split.m; i++) ys += split.y[i];
      expect(res.data[k].m).toBe(split.m);
      expect(res.data[k].labelSum).toBe(ys);
      expect(Math.abs(res.data[k].pixelSum - s) / s).toBeLessThan(1e-12);
    }
  });

  it.skipIf(noNumpy)(`the thread count reported is the BLAS's own: 2 threads asked, 2 in effect where there are 2 cores${skipNote}`, async () => {
    const r = await runNumpy([{ layers: [784, 10, 10], what: 'forward', batch: 64 }], { plan: SMOKE_PLAN, threads: 2 });
    if ('skipped' in r) throw new Error(r.skipped);
    expect(r.threads.env.OPENBLAS_NUM_THREADS).toBe('2');
    if (r.threads.blas !== null) expect(r.threads.blas).toBe(Math.min(2, availableParallelism()));
  });

  it.skipIf(noNumpy)(`an abort kills the run: rejects with 'interrupted', promptly${skipNote}`, async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = runNumpy(configs, { signal: ac.signal }); // the full plan: many seconds
    setTimeout(() => ac.abort(), 300);
    await expect(p).rejects.toThrow('interrupted');
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a missing python is a skip with the reason, not an error', async () => {
    const bogus = join(tmpdir(), 'no-such-dir', 'python3');
    const r = await runNumpy(configs, { python: bogus, plan: SMOKE_PLAN });
    expect(r).toEqual({ skipped: expect.stringContaining('python3 with numpy not found') });
    expect((r as { skipped: string }).skipped).toContain(bogus);
    const pr = probeNumpy(bogus);
    expect(pr.ok).toBe(false);
    if (!pr.ok) expect(pr.reason).toContain(bogus);
  });

  it.skipIf(noNumpy)(`a python without numpy is a skip with the reason${skipNote}`, async () => {
    // a numpy.py that fails to import, first on the child's path: the script reports it and exits 3
    const dir = mkdtempSync(join(tmpdir(), 'mnist-duel-nonumpy-'));
    try {
      writeFileSync(join(dir, 'numpy.py'), 'raise ImportError("numpy hidden by the test")\n');
      const r = await runNumpy(configs, { plan: SMOKE_PLAN, env: { PYTHONPATH: dir } });
      expect(r).toEqual({ skipped: expect.stringContaining('numpy hidden by the test') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

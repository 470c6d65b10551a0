// The PyTorch reference row (bench/torch_ref.py): it computes the same math as the rest of the project (its
// float32 gradients vs the float64 implementation src/scratch/reference64.ts, on real MNIST batches, with
// and without the project's dropout masks), its SGD update is float32 arithmetic, and its timing run returns
// sane numbers on the thread count asked. Without a Python that imports torch (`npm run setup:torch` makes
// .venv-torch/) the tests that need it are skipped, with the reason in their name.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../bench/numpy.ts';
import { probeTorch, runTorch, TORCH_SCRIPT } from '../../bench/torch.ts';
import { SMOKE_PLAN } from '../../bench/budgets.ts';
import { maskStream } from '../../src/core/dropout.ts';
import { initParams } from '../../src/core/init.ts';
import { agreement } from '../../src/core/metrics.ts';
import { tensors, type Batch } from '../../src/core/types.ts';
import { loadEmbedded } from '../../src/data/index.ts';
import { gradients64, to64 } from '../../src/scratch/reference64.ts';

const probe = probeTorch();
const noTorch = !probe.ok;
const skipNote = probe.ok ? '' : ` (skipped: ${probe.reason})`;
const python = probe.ok ? probe.python : '';

/** Runs python without blocking this worker's event loop (a long synchronous wait starves vitest's RPC). */
function py(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
    c.stdin.end(input ?? '');
  });
}

const bytes = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const concat = (arrays: Float32Array[]) => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
};

describe('torch reference: the same math as the rest of the project (--check)', () => {
  let dir = '';
  let train: Batch;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mnist-duel-torch-'));
    train = loadEmbedded().train;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { layers: number[]; m: number; keep: number[] | null }[] = [];
  for (const m of [1, 64]) cases.push({ layers: [784, 10, 10], m, keep: null });
  for (const [m, keep] of [[7, null], [7, [0.4, 0.5]], [64, [0.4, 0.5]]] as const) cases.push({ layers: [784, 400, 100, 10], m, keep: keep && [...keep] });

  for (const { layers, m, keep } of cases) {
    const what = `${layers.join('-')}, m = ${m}${keep ? ', dropout masks' : ''}`;
    it.skipIf(noTorch)(`${what}: loss and every gradient within relative L2 1e-5 of float64; the SGD update is float32${skipNote}`, async () => {
      const name = `${layers.join('-')}-${m}-${keep ? 'd' : 'n'}`;
      const p = initParams(7 + m, layers, layers.length === 3 ? 'uniform' : 'he');
      // nonzero biases, so a bias that is dropped or misplaced shows
      tensors(p).forEach((a, i) => i % 2 === 1 && a.forEach((_, j) => (a[j] = 0.01 * ((j % 7) - 3))));
      const start = 3 * m; // the fourth consecutive batch of m training images, in file order
      const batch: Batch = { x: train.x.subarray(start * 784, (start + m) * 784), y: train.y.subarray(start, start + m), m };
      const masks = keep ? maskStream(5, layers.slice(1, -1), keep).masks(2, m) : undefined;
      const flat = concat(tensors(p));
      const files = { params: join(dir, `${name}.p`), x: join(dir, `${name}.x`), y: join(dir, `${name}.y`), masks: join(dir, `${name}.m`), out: join(dir, `${name}.out`) };
      writeFileSync(files.params, bytes(flat));
      writeFileSync(files.x, bytes(batch.x));
      writeFileSync(files.y, bytes(batch.y));
      const args = [TORCH_SCRIPT, '--check', '--layers', layers.join(','), '--params', files.params, '--x', files.x, '--y', files.y, '--out', files.out, '--lr', '0.1'];
      if (masks) {
        writeFileSync(files.masks, bytes(concat(masks)));
        args.push('--masks', files.masks);
      }
      const r = await py(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const info = JSON.parse(r.stdout) as { m: number; masks: boolean; dtypes: { loss: string; grads: string[]; params: string[] } };
      expect([info.m, info.masks]).toEqual([m, !!masks]);
      expect([info.dtypes.loss, ...info.dtypes.grads, ...info.dtypes.params].every((d) => d === 'float32')).toBe(true);

      const buf = readFileSync(files.out);
      const out = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const P = flat.length;
      expect(out.length).toBe(1 + 2 * P);
      const grads = out.subarray(1, 1 + P), after = out.subarray(1 + P);

      const ref = gradients64(to64(p), batch, { masks });
      expect(Math.abs(out[0] - ref.loss) / ref.loss).toBeLessThan(1e-5);
      let at = 0;
      ref.grads.layers.flatMap((l) => [l.W, l.b]).forEach((g, i) => {
        const a = agreement(grads.subarray(at, at + g.length), g);
        expect(a.relL2, `tensor ${i}`).toBeLessThanOrEqual(1e-5);
        expect(a.cosine, `tensor ${i}`).toBeGreaterThanOrEqual(1 - 1e-6);
        at += g.length;
      });
      // W := W − α·dW done in float32, bit for bit: fround(W − fround(fround(α)·dW))
      const a32 = Math.fround(0.1);
      let mismatches = 0;
      for (let i = 0; i < P; i++) if (after[i] !== Math.fround(flat[i] - Math.fround(a32 * grads[i]))) mismatches++;
      expect(mismatches).toBe(0);
    });
  }

  it.skipIf(noTorch)(`the check can fail: masks of another step give gradients far from the reference${skipNote}`, async () => {
    const layers = [784, 400, 100, 10], m = 16;
    const p = initParams(3, layers, 'he');
    const batch: Batch = { x: train.x.subarray(0, m * 784), y: train.y.subarray(0, m), m };
    const stream = maskStream(5, [400, 100], [0.4, 0.5]);
    const files = { params: join(dir, 'f.p'), x: join(dir, 'f.x'), y: join(dir, 'f.y'), masks: join(dir, 'f.m'), out: join(dir, 'f.out') };
    writeFileSync(files.params, bytes(concat(tensors(p))));
    writeFileSync(files.x, bytes(batch.x));
    writeFileSync(files.y, bytes(batch.y));
    writeFileSync(files.masks, bytes(concat(stream.masks(0, m))));
    const r = await py([TORCH_SCRIPT, '--check', '--layers', layers.join(','), '--params', files.params, '--x', files.x, '--y', files.y, '--masks', files.masks, '--out', files.out]);
    expect(r.status).toBe(0);
    const buf = readFileSync(files.out);
    const out = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const W1 = out.subarray(1, 1 + 400 * 784);
    const ref = gradients64(to64(p), batch, { masks: stream.masks(1, m) });
    expect(agreement(W1, ref.grads.layers[0].W).relL2).toBeGreaterThan(0.1);
  });
});

describe('torch reference: timing protocol', () => {
  for (const threads of [1, 2]) {
    it.skipIf(noTorch)(`a smoke run on ${threads} thread(s): finite positive times, the batches of the bench, the thread count in effect${skipNote}`, async () => {
      const budget = { time: 5, iterations: 2, warmupTime: 0, warmupIterations: 1, warmupEveryRound: true };
      const plan = {
        rounds: 1, seed: 1, lr: 0.1, threads, samples: true,
        configs: [
          { layers: [784, 10, 10], what: 'step', batch: 64, budget },
          { layers: [784, 400, 100, 10], what: 'step', batch: 256, keep: [0.4, 0.5], budget },
          { layers: [784, 400, 100, 10], what: 'forward', batch: 256, budget },
        ],
      };
      const r = await py([TORCH_SCRIPT, defaultDataDir(), '--plan', '-'], JSON.stringify(plan));
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.schema).toBe('mnist-duel/torch-ref');
      expect(res.threads.intraop).toBe(threads);
      expect(res.results.map((x: { id: string }) => x.id)).toEqual([
        'step · torch · 784-10-10 · 64',
        'step + dropout · torch · 784-400-100-10 · 256',
        'forward · torch · 784-400-100-10 · 256',
      ]);
      for (const row of res.results) {
        for (const v of [row.medianMs, row.p25Ms, row.p75Ms, row.samplesPerSec, ...row.samplesMs]) expect(Number.isFinite(v) && v > 0, `${row.id}: ${v}`).toBe(true);
        expect(row.finite).toBe(true);
      }
      expect(res.results.map((x: { batches: number }) => x.batches)).toEqual([937, 234, 39]);
      expect(res.results[1].keep).toEqual([0.4, 0.5]);
      // the same images as the project's loader
      const data = loadEmbedded();
      let s = 0;
      for (let i = 0; i < data.train.x.length; i++) s += data.train.x[i];
      expect(res.data.train.m).toBe(60_000);
      expect(Math.abs(res.data.train.pixelSum - s) / s).toBeLessThan(1e-6);
    });
  }

  it('an interpreter without torch is a skip with the reason, not an error', () => {
    const bogus = join(tmpdir(), 'no-such-dir', 'python3');
    const p = probeTorch(bogus);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toMatch(/^python with torch not found \(.*no-such-dir/);
  });
});

describe('runTorch: the runner of the numpy rows, for torch_ref.py', () => {
  it.skipIf(noTorch)(`on 2 threads: rows with their dropout, torch.set_num_threads and the thread variables of the child at 2${skipNote}`, async () => {
    const progress: string[] = [];
    const r = await runTorch(
      [
        { layers: [784, 10, 10], what: 'step', batch: 64 },
        { layers: [784, 400, 100, 10], what: 'step', batch: 256, keep: [0.4, 0.5] },
      ],
      { plan: SMOKE_PLAN, threads: 2, onProgress: (p) => progress.push(p.id) },
    );
    if ('skipped' in r) throw new Error(r.skipped);
    expect(r.threads.intraop).toBe(2);
    expect(r.threads.env).toEqual({ OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' });
    expect(r.plan.threads).toBe(2);
    expect(r.rows.map((x) => [x.id, x.impl, x.keep])).toEqual([
      ['step · torch · 784-10-10 · 64', 'torch-sgd', null],
      ['step + dropout · torch · 784-400-100-10 · 256', 'torch-sgd', [0.4, 0.5]],
    ]);
    // the budgets reach the script under their own names: the light budget's minimum calls every round
    for (const row of r.rows) expect(row.n).toBeGreaterThanOrEqual(SMOKE_PLAN.rounds * SMOKE_PLAN.budgets.light.iterations);
    expect(progress).toHaveLength(SMOKE_PLAN.rounds * 2);
  });

  it('an interpreter without torch is a skip with the reason from the runner too', async () => {
    const bogus = join(tmpdir(), 'no-such-dir', 'python3');
    const r = await runTorch([{ layers: [784, 10, 10], what: 'step', batch: 64 }], { python: bogus, plan: SMOKE_PLAN });
    expect(r).toEqual({ skipped: expect.stringMatching(/^python with torch not found \(.*no-such-dir/) });
  });
});

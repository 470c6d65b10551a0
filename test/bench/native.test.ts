// tfjs-node (backend 'tensorflow') timed in a child process with its TensorFlow thread variables set: a
// smoke-sized run of the child returns measurements for backend 'tensorflow' with the thread count it was
// given, and the child saw TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS at that count before loading
// tfjs-node. Skipped with the reason where @tensorflow/tfjs-node is not installed (npm run setup:native).
import { describe, expect, it } from 'vitest';
import { nativeInstalled, runNative, type NativeRequest } from '../../bench/native.ts';

const installed = nativeInstalled();
const skipNote = installed ? '' : ' (skipped: @tensorflow/tfjs-node is not installed; npm run setup:native builds it)';
const req: NativeRequest = { suites: ['forward', 'step'], sizes: [64], forwardSizes: [64], full: false, deep: false, smoke: true };

describe('the native child (tfjs-node in a process of its own)', () => {
  for (const threads of [1, 2]) {
    it.skipIf(!installed)(`on ${threads} TensorFlow thread(s): tfjs tasks only, on backend 'tensorflow', with both TF thread variables at ${threads}${skipNote}`, async () => {
      const progress: string[] = [];
      const r = await runNative(req, { threads, onProgress: (p) => progress.push(p.id) });
      if ('skipped' in r) throw new Error(r.skipped);
      expect(r.backend.name).toBe('tensorflow');
      expect(r.env).toEqual({ TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: String(threads) });
      const suffix = ` · ${threads} TF thread${threads === 1 ? '' : 's'}`;
      expect(r.tasks.map((t) => t.id).sort()).toEqual(
        ['forward · 784-10-10 · tfjs · tensorflow · 64', 'step · 784-10-10 · tfjs-sgd · tensorflow · 64', 'step · 784-10-10 · tfjs-adam · tensorflow · 64'].map((id) => id + suffix).sort(),
      );
      for (const t of r.tasks) {
        expect([t.backend, t.threads, t.ranOn]).toEqual(['tensorflow', threads, `tensorflow, ${threads} thread${threads === 1 ? '' : 's'} (child process)`]);
        const m = r.ms.get(t.id)!;
        expect(m.samples.length).toBeGreaterThan(0);
        for (const v of [m.medianMs, m.p25Ms, m.p75Ms, ...m.samples]) expect(Number.isFinite(v) && v > 0, `${t.id}: ${v}`).toBe(true);
        expect(m.perRoundMedianMs).toHaveLength(2); // the smoke plan's rounds
      }
      expect(progress.length).toBeGreaterThan(0); // JSON progress lines from the child's stderr
    });
  }

  it.skipIf(!installed)(`an abort kills the child: rejects with 'interrupted'${skipNote}`, async () => {
    const ac = new AbortController();
    const p = runNative({ ...req, smoke: false, deep: true }, { threads: 1, signal: ac.signal }); // a full plan: many seconds
    setTimeout(() => ac.abort(), 1500);
    await expect(p).rejects.toThrow('interrupted');
  });
});

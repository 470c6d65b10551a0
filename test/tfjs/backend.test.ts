// Backend selection: what `auto` picks here, forced choices, errors, and the tfjs console banner.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/core/errors.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import type { BackendName } from '../../src/core/backends.ts';

// The native backend's state here: not installed (this project's usual case: its install downloads from a
// site that is not reachable), installed but not loadable (e.g. a half-finished install), or working.
const pkg = '@tensorflow/tfjs-node';
const native: 'absent' | 'broken' | 'working' = await (async () => {
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch {
    return 'absent';
  }
  try {
    await import(pkg);
    return 'working';
  } catch {
    return 'broken';
  }
})();

describe('initBackend', () => {
  afterEach(() => vi.restoreAllMocks());

  it.skipIf(native === 'working')(`auto picks wasm when @tensorflow/tfjs-node is not usable (here: ${native}), and says why`, async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped).toHaveLength(1);
    if (native === 'absent') expect(info.skipped).toEqual(['tensorflow: @tensorflow/tfjs-node is not installed']);
    else expect(info.skipped![0]).toMatch(/^tensorflow: loading @tensorflow\/tfjs-node failed \(.+\)$/);
    expect(info.tfjsVersion).toBe('4.22.0');
    expect(info.tfjsVersion).toBe(tf.version.tfjs);
    expect(typeof info.simd).toBe('boolean');
    expect(info.threads).toBe(false); // tfjs-backend-wasm never uses threads under Node
  });

  it.skipIf(native !== 'working')(`auto picks the native backend when @tensorflow/tfjs-node works (skipped when it is not; here it is ${native})`, async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('tensorflow');
    expect(info.simd).toBeNull();
  });

  it.skipIf(native === 'working')('forcing tensorflow throws a one-line UserError naming tfjs-node (skipped when tfjs-node works)', async () => {
    await initBackend('cpu');
    const err = await initBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    if (native === 'absent') {
      expect((err as Error).message).toBe("backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed");
    } else {
      expect((err as Error).message).toMatch(/^backend 'tensorflow' is not available: loading @tensorflow\/tfjs-node failed/);
    }
    expect((err as Error).message).not.toContain('\n');
    expect(tf.getBackend()).toBe('cpu'); // the failed attempt changed nothing
  });

  it.skipIf(native !== 'working')(`forcing tensorflow runs when tfjs-node works (skipped when it is not; here it is ${native})`, async () => {
    const info = await initBackend('tensorflow');
    expect(info.name).toBe('tensorflow');
    expect(tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0])).toBe(5);
  });

  it('rejects unknown backend names with a UserError', async () => {
    for (const bad of ['webgl', 'gpu', '', 'CPU']) {
      await expect(initBackend(bad as BackendName)).rejects.toThrow(UserError);
    }
    await expect(initBackend('webgl' as BackendName)).rejects.toThrow(/unknown backend 'webgl'/);
  });

  it('switches between cpu and wasm and back, computing correctly on each', async () => {
    for (const name of ['cpu', 'wasm', 'cpu', 'cpu', 'wasm', 'wasm'] as const) {
      const info = await initBackend(name);
      expect(info.name).toBe(name);
      expect(tf.getBackend()).toBe(name);
      if (name === 'cpu') expect([info.simd, info.threads]).toEqual([null, null]);
      else expect(typeof info.simd).toBe('boolean');
      const r = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync()));
      expect(r).toEqual([19, 22, 43, 50]);
    }
  });

  it('keeps the "running TensorFlow.js in Node.js" banner out of the output, and restores console', async () => {
    const warn = console.warn, log = console.log;
    const seen: string[] = [];
    const spyW = vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void seen.push(a.join(' ')));
    const spyL = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void seen.push(a.join(' ')));
    // The cpu backend prints its banner on its instance's first tensor write; re-registering it gives a
    // fresh instance, so each half below sees a first write.
    const factory = tf.findBackendFactory('cpu')!;
    const fresh = () => {
      tf.removeBackend('cpu');
      tf.registerBackend('cpu', factory, 1);
    };
    fresh();
    await tf.setBackend('cpu');
    tf.tidy(() => tf.scalar(1));
    expect(seen.join('\n')).toMatch(/running TensorFlow\.js in Node\.js/); // plain tfjs does print it
    seen.length = 0;
    fresh();
    expect((await initBackend('cpu')).name).toBe('cpu');
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync());
    expect(seen).toEqual([]); // initBackend swallowed it
    expect(console.warn).toBe(spyW); // and put back what it found
    expect(console.log).toBe(spyL);
    vi.restoreAllMocks();
    expect(console.warn).toBe(warn);
    expect(console.log).toBe(log);
  });
  it('a backend that fails to initialise: forced → one-line UserError, previous backend kept; auto → falls back', async () => {
    await initBackend('cpu');
    const real = tf.findBackendFactory('wasm')!;
    const seen: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void seen.push(a.join(' ')));
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', async () => {
      throw new Error('simulated wasm failure\nsecond line');
    }, 2);
    try {
      const err = await initBackend('wasm').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe("backend 'wasm' is not available: initialisation failed (Error: simulated wasm failure)");
      expect(tf.getBackend()).toBe('cpu');
      expect(tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync()[0])).toBe(2);
      if (native !== 'working') {
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', async () => {
          throw new Error('simulated wasm failure');
        }, 2);
        const info = await initBackend('auto');
        expect(info.name).toBe('cpu');
        expect(info.skipped).toHaveLength(2);
        expect(info.skipped![0]).toMatch(/^tensorflow: /);
        expect(info.skipped![1]).toBe('wasm: initialisation failed (Error: simulated wasm failure)');
      }
      expect(seen).toEqual([]); // tfjs's "Initialization of backend wasm failed" + stack went into the message
    } finally {
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', real, 2);
    }
    expect((await initBackend('wasm')).name).toBe('wasm');
  });
});

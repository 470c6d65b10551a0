// scratch-simd's build, runtime check, memory bound, input checks and work counter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { netSizes } from '../../src/core/types.ts';
import { compile, OUT_DIR, VARIANTS, type Variant } from '../../src/simd/build.ts';
import { batchSums, createEngine } from '../../src/simd/engine.ts';
import { createSimdAdamTrainer, createSimdTrainer, gradients, MAX_MEMORY_BYTES, predict, requireSimd } from '../../src/simd/index.ts';
import { planLayout } from '../../src/simd/layout.ts';
import { mnistData, mnistSlice } from '../helpers/index.ts';

const mnist = mnistData();

describe('build', () => {
  for (const v of Object.keys(VARIANTS) as Variant[]) {
    it(`build/${VARIANTS[v].file} is what assembly/net.ts compiles to now (run \`npm run build:simd\` if not)`, async () => {
      const fresh = await compile(v);
      const built = new Uint8Array(readFileSync(join(OUT_DIR, VARIANTS[v].file)));
      expect(built.length).toBe(fresh.length);
      expect(Buffer.compare(Buffer.from(built), Buffer.from(fresh))).toBe(0);
    }, 120_000);
  }
});

describe('runtime without WebAssembly SIMD', () => {
  const noSimd = () => false;
  const message = /^scratch-simd: this JavaScript runtime does not support WebAssembly SIMD \(128-bit\); use Node ≥ 16\.4$/;

  it('this runtime has it', () => {
    expect(() => requireSimd()).not.toThrow();
  });

  it('gives one clear line from every entry point', () => {
    const p = initParams(1, netSizes([10]));
    expect(() => requireSimd(noSimd)).toThrow(message);
    expect(() => requireSimd(() => { throw new Error('boom'); })).toThrow(message);
    expect(() => gradients(p, mnistSlice(0, 4), { validate: noSimd })).toThrow(message);
    expect(() => predict(p, mnistSlice(0, 4).x, 4, { validate: noSimd })).toThrow(message);
    expect(() => createSimdTrainer({ lr: 0.1, validate: noSimd }).load(p)).toThrow(message);
    expect(() => createSimdAdamTrainer({ lr: 0.1, threads: 1, validate: noSimd }).load(p)).toThrow(message);
  });

  it('the probe really is a SIMD module: it validates here, and a corrupted copy does not', () => {
    let probe: Uint8Array | null = null;
    requireSimd((b) => ((probe = b), WebAssembly.validate(b)));
    expect(probe).not.toBeNull();
    const bad = Uint8Array.from(probe!);
    bad[bad.length - 3] = 0xff; // the SIMD prefix 0xfd → an unknown opcode
    expect(WebAssembly.validate(bad)).toBe(false);
  });
});

describe('bounded memory', () => {
  it('a network that needs more than the bound is refused before anything is allocated', () => {
    expect(MAX_MEMORY_BYTES).toBe(1024 * 1024 * 1024);
    expect(() => planLayout(netSizes([100_000]), 1, 1024, { adam: false })).toThrow(/scratch-simd: a \[784, 100000, 10\] network needs [\d.]+ MiB of wasm memory, over the bound of 1024\.0 MiB/);
    expect(() => planLayout(netSizes([1000]), 2, 1024, { adam: true, maxBytes: 8 << 20 })).toThrow(/on 2 threads needs .* over the bound of 8\.0 MiB/);
    const ok = planLayout(netSizes([400, 100]), 2, 1024, { adam: true });
    expect(ok.bytes).toBeLessThan(64 << 20);
  });

  it('the memory is sized once per network: a 60,000-sample batch streams through it without growing it', () => {
    const e = createEngine(netSizes([10]), { workspaces: 1, shared: false, adam: false });
    const before = e.memory.buffer.byteLength;
    expect(before).toBeLessThan(4 << 20); // a few MiB for 784-10-10, whatever the batch
    batchSums(e, mnist.train, 'relu', undefined);
    expect(e.memory.buffer.byteLength).toBe(before);
    expect(() => e.memory.grow(1)).toThrow(); // maximum = initial: it cannot grow
  });

  it('an absurd batch gets a clear error, not an out-of-memory', () => {
    const t = createSimdTrainer({ lr: 0.1 });
    t.load(initParams(1, netSizes([10])));
    expect(() => t.step({ x: new Float32Array(784), y: new Uint8Array(1), m: 2 ** 31 })).toThrow(/batch\.x has 784 values, expected 2147483648×784/);
    expect(() => t.step({ x: new Float32Array(784), y: new Uint8Array(1), m: 0 })).toThrow(/m = 0, expected a positive integer/);
    expect(() => t.step({ x: new Float32Array(784), y: new Uint8Array(1), m: 1.5 })).toThrow(/m = 1\.5/);
    expect(() => t.step({ x: new Float32Array(784), y: Uint8Array.of(10), m: 1 })).toThrow(/labels are 0\.\.9/);
    expect(() => t.predict(new Float32Array(10), 1)).toThrow(/x has 10 values/);
    expect(() => t.step(mnistSlice(0, 64), [new Float32Array(64 * 10), new Float32Array(1)])).toThrow(/masks: 2 arrays/);
    expect(t.step(mnistSlice(0, 64))).toBeGreaterThan(0); // and it still works
    t.dispose();
  });

  it('trainers need load() first, take new sizes on load(), and check their options', () => {
    const t = createSimdTrainer({ lr: 0.1 });
    expect(() => t.step(mnistSlice(0, 1))).toThrow(/load\(params\) first/);
    t.load(initParams(1, netSizes([10])));
    t.load(initParams(1, netSizes([20]))); // other sizes: a new memory
    expect((t.read() as { layers: unknown[] }).layers).toHaveLength(2);
    expect(() => createSimdTrainer({ lr: -1 })).toThrow(/learning rate/);
    expect(() => createSimdTrainer({ lr: 0.1, threads: 1.5 })).toThrow(/threads/);
    t.dispose();
  });
});

describe('work counter', () => {
  it('counts the multiply-adds actually executed: nonzero inputs × units, per product', () => {
    const sizes = netSizes([10]);
    const p = initParams(2, sizes);
    const b = mnistSlice(17, 1);
    let nz = 0;
    for (let k = 0; k < 784; k++) if (b.x[k] !== 0) nz++;
    // the hidden activations: relu(W1·x + b1) recomputed in double (no value lies near 0 here)
    let active = 0;
    for (let j = 0; j < 10; j++) {
      let z = p.layers[0].b[j];
      for (let k = 0; k < 784; k++) z += p.layers[0].W[j * 784 + k] * b.x[k];
      expect(Math.abs(z)).toBeGreaterThan(1e-3);
      if (z > 0) active++;
    }
    const w = gradients(p, b).work;
    // forward: nz·10 + active·10; dW: the same again; W2ᵀ·dZ2: 10 nonzero dZ2 × 10
    expect(w.multiplyAdds).toBe(2 * (nz * 10 + active * 10) + 10 * 10);
    expect(w.flops).toBe(2 * w.multiplyAdds);
    expect(nz).toBeLessThan(784 / 2); // MNIST is mostly zeros: the count is far below the dense 2·7,940 + 100
    const t = createSimdTrainer({ lr: 0.1 });
    t.load(p);
    t.predict(b.x, 1);
    expect(t.lastWork().multiplyAdds).toBe(nz * 10 + active * 10);
    t.step(b);
    expect(t.lastWork().multiplyAdds).toBe(w.multiplyAdds);
    t.dispose();
  });
});

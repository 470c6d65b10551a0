/**
 * scratch-simd's stateless functions, the contract of src/scratch/index.ts: `gradients(params, batch,
 * opts?)` → { loss, grads } and `predict`. Each call plans a memory for the network, copies the parameters
 * in and runs on the calling thread; the trainers (trainer.ts) keep theirs between steps.
 */
import { checkBatch } from '../core/checks.ts';
import { allocParams, checkMasks, hiddenOf, INPUT, sizesOf, type Activation, type Batch, type GradientOptions, type GradientResult, type Params } from '../core/types.ts';
import { batchLoss, batchSums, createEngine, predictLocal, takeCount, type Engine, type Validate } from './engine.ts';
import { readGrads, writeParams } from './layout.ts';

/** Work actually executed by the last call, for honest GFLOP/s: the matrix products' multiply-adds. */
export interface SimdWork {
  /**
   * Multiply-adds executed in the matrix products (Z = W·A, dW = dZ·Aᵀ, W·dZ) on real units: a skipped
   * zero input or dZ is not counted, and neither are padding lanes, activations, softmax or the update.
   */
  multiplyAdds: number;
  /** 2·multiplyAdds */
  flops: number;
}

export const work = (multiplyAdds: number): SimdWork => ({ multiplyAdds, flops: 2 * multiplyAdds });

export interface SimdGradientResult extends GradientResult {
  work: SimdWork;
}

export function checkX(x: Float32Array, m: number): void {
  if (!Number.isInteger(m) || m < 0) throw new Error(`scratch-simd: predict: m = ${m}, expected an integer ≥ 0`);
  if (x.length < m * INPUT) throw new Error(`scratch-simd: predict: x has ${x.length} values, expected ${m}×${INPUT}`);
}

/** An engine on the calling thread holding `p`. */
function engineFor(p: Params, validate?: Validate): Engine {
  const e = createEngine(sizesOf(p), { workspaces: 1, shared: false, adam: false, validate });
  writeParams(e.layout, e.f32, p);
  e.k.paramsChanged(e.layout.net);
  return e;
}

/** The batch-mean cross-entropy and its gradients (float64 sums, rounded to float32 once). */
export function gradients(p: Params, batch: Batch, opts: GradientOptions & { validate?: Validate } = {}): SimdGradientResult {
  const sizes = sizesOf(p);
  const masks = checkMasks(opts.masks, hiddenOf(sizes), batch.m);
  checkBatch(batch);
  const e = engineFor(p, opts.validate);
  batchSums(e, batch, opts.activation ?? 'relu', masks);
  e.k.gradients(e.layout.net, e.layout.total, batch.m, e.layout.grads);
  const grads = readGrads(e.layout, e.f32, allocParams(sizes));
  return { loss: batchLoss(e, batch.m), grads, work: work(takeCount(e)) };
}

/** argmax of A_L per sample (no dropout). */
export function predict(p: Params, x: Float32Array, m: number, opts: { activation?: Activation; validate?: Validate } = {}): Uint8Array {
  checkX(x, m);
  return predictLocal(engineFor(p, opts.validate), x, m, opts.activation ?? 'relu');
}

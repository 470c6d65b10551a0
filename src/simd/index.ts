/**
 * scratch-simd: the hand-written network again, in AssemblyScript compiled to WebAssembly with 128-bit
 * SIMD, behind the same contract as src/scratch/index.ts (see src/core/types.ts).
 *
 *   ../../assembly/net.ts  the kernels: sparse-input products, float64 gradient sums, softmax, updates
 *   build.ts               compiles them into build/ (run by `npm install`)
 *   layout.ts              the wasm memory plan (fixed size per network) and the descriptor tables
 *   engine.ts              loader, SIMD check, the calling-thread driver
 *   threads.ts             the same on worker threads over one shared memory, bit-identical
 *   network.ts             gradients() and predict()
 *   trainer.ts             the trainers: scratch-simd-gd, scratch-simd-adam
 */
export { gradients, predict, type SimdGradientResult, type SimdWork } from './network.ts';
export { createSimdTrainer, createSimdAdamTrainer, type SimdTrainer, type SimdTrainerOptions, type SimdAdamOptions } from './trainer.ts';
export { requireSimd, type Validate } from './engine.ts';
export { simdFlavour, type SimdFlavour } from './build.ts';
export { SIMD_BLOCK, SUB, MAX_MEMORY_BYTES } from './layout.ts';

/**
 * The hand-written network's public face: `gradients(params, batch, opts?)` → { loss, grads } (the
 * contract every implementation meets; see src/core/types.ts), prediction, and the trainers.
 *
 *   network.ts      the equations, in the notebooks' order, generic over the layer list
 *   kernels.ts      the inner loops behind them (zero-skipping, register and cache blocking)
 *   trainer.ts      the trainer shell and plain gradient descent
 *   adam.ts         Adam, reproducing tfjs's update bit for bit
 *   threads.ts      the same computation on worker threads, bit-identical for any thread count
 *   reference64.ts  the readable float64 twin, the yardstick of every implementation
 */
export { gradients, predict, probabilities } from './network.ts';
export { createScratchTrainer } from './trainer.ts';
export { createScratchAdamTrainer } from './adam.ts';

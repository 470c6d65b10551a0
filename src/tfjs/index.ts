/**
 * TensorFlow.js's side: `gradients(params, batch, opts?)` → Promise<{ loss, grads }> by autodiff (the
 * contract every implementation meets; see src/core/types.ts), the SGD and Adam trainers, and backend
 * selection (tensorflow → wasm → cpu).
 */
export { gradients, createTfjsTrainer } from './network.ts';
export { initBackend } from './backend.ts';

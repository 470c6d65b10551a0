/**
 * The contract both implementations meet (see DESIGN.md, "Shared types").
 *
 * Shapes follow the seed notebook: W1 is hidden×784, b1 hidden, W2 10×hidden, b2 10, all row-major
 * Float32Array. A batch is sample-major: x is m×784 with pixels scaled to [0, 1], y holds m labels 0..9.
 */

export const INPUT = 784;
export const CLASSES = 10;
export const DEFAULT_HIDDEN = 10;

export interface Params {
  W1: Float32Array; // hidden×784
  b1: Float32Array; // hidden
  W2: Float32Array; // 10×hidden
  b2: Float32Array; // 10
}

export const PARAM_NAMES = ['W1', 'b1', 'W2', 'b2'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export interface Batch {
  x: Float32Array; // m×784, sample-major, pixels in [0, 1]
  y: Uint8Array; // m labels in 0..9
  m: number;
}

export type Activation = 'relu' | 'tanh' | 'sigmoid';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'sigmoid'];

export interface GradientResult {
  loss: number; // batch-mean cross-entropy
  grads: Params; // gradients of that mean loss
}

/** All an implementation shows the harness. Factories create them; no module-level state. */
export interface Trainer {
  readonly name: string;
  /** Copy `params` into the trainer (and reset optimiser state). */
  load(params: Params): void | Promise<void>;
  /** One update on one batch; returns the batch loss before the update. */
  step(batch: Batch): number | Promise<number>;
  /** A copy of the current weights. */
  read(): Params | Promise<Params>;
  /** Class predictions for m samples. */
  predict(x: Float32Array, m: number): Uint8Array | Promise<Uint8Array>;
  dispose(): void;
}


export function allocParams(hidden: number): Params {
  return {
    W1: new Float32Array(hidden * INPUT),
    b1: new Float32Array(hidden),
    W2: new Float32Array(CLASSES * hidden),
    b2: new Float32Array(CLASSES),
  };
}

export function cloneParams(p: Params): Params {
  return { W1: p.W1.slice(), b1: p.b1.slice(), W2: p.W2.slice(), b2: p.b2.slice() };
}

export function copyParams(src: Params, dst: Params): void {
  for (const k of PARAM_NAMES) {
    if (src[k].length !== dst[k].length) {
      throw new Error(`copyParams: ${k} has ${src[k].length} values, expected ${dst[k].length}`);
    }
    dst[k].set(src[k]);
  }
}

/** Checks that a Params object has consistent shapes; returns the hidden width. */
export function checkParams(p: Params): number {
  const h = p.b1.length;
  if (h < 1) throw new Error('Params: b1 is empty');
  if (p.W1.length !== h * INPUT) throw new Error(`Params: W1 has ${p.W1.length} values, expected ${h}×${INPUT}`);
  if (p.W2.length !== CLASSES * h) throw new Error(`Params: W2 has ${p.W2.length} values, expected ${CLASSES}×${h}`);
  if (p.b2.length !== CLASSES) throw new Error(`Params: b2 has ${p.b2.length} values, expected ${CLASSES}`);
  return h;
}

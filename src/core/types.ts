/**
 * The contract every implementation meets.
 *
 * A network is a list of dense layers. Layer l maps sizes[l−1] inputs to sizes[l] outputs as in the seed
 * notebooks, Z_l = W_l·A_{l−1} + b_l: W_l is row-major out×in (layer 1's W is h1×784), b_l has length out.
 * The notebook's network is the two-layer case [784 → 10 → 10]; the deep notebook's is [784 → 400 → 100 → 10].
 * Gradients have the same shape as the parameters. Tensors are named W1 b1 W2 b2 W3 b3 …, as in the notebooks.
 *
 * A batch is sample-major: x is m×784 with pixels scaled to [0, 1], y holds m labels 0..9.
 */

export const INPUT = 784;
export const CLASSES = 10;
/** the notebook's hidden layer: one of 10 units */
export const DEFAULT_HIDDEN: readonly number[] = [10];

export interface Layer {
  W: Float32Array; // out×in, row-major
  b: Float32Array; // out
}

export interface Params {
  layers: Layer[];
}

export interface Batch {
  x: Float32Array; // m×784, sample-major, pixels in [0, 1]
  y: Uint8Array; // m labels in 0..9
  m: number;
}

export type Activation = 'relu' | 'tanh' | 'sigmoid';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'sigmoid'];

export interface GradientOptions {
  /** hidden-layer activation (default relu); the output layer is always softmax */
  activation?: Activation;
  /**
   * Inverted dropout: one array per hidden layer, m×width sample-major, each value 0 or 1/keep, multiplied
   * into that layer's activations. Absent: no dropout (prediction and evaluation never drop).
   */
  masks?: Float32Array[];
}

export interface GradientResult {
  loss: number; // batch-mean cross-entropy
  grads: Params; // gradients of that mean loss
}

/** All an implementation shows the harness. Factories create them; no module-level state. */
export interface Trainer {
  readonly name: string;
  /** Copy `params` into the trainer (and reset optimiser state). */
  load(params: Params): void | Promise<void>;
  /** One update on one batch (with dropout masks, if given); returns the batch loss before the update. */
  step(batch: Batch, masks?: Float32Array[]): number | Promise<number>;
  /** The learning rate of the following steps (learning-rate decay). */
  setLearningRate(lr: number): void;
  /** A copy of the current weights. */
  read(): Params | Promise<Params>;
  /** Class predictions for m samples (no dropout). */
  predict(x: Float32Array, m: number): Uint8Array | Promise<Uint8Array>;
  dispose(): void;
}

/** [784, ...hidden, 10]: the layer sizes of a network with these hidden widths. */
export function netSizes(hidden: readonly number[]): number[] {
  return [INPUT, ...hidden, CLASSES];
}

/** W1 b1 W2 b2 …: the names of a network's tensors, in the order of `tensors`. */
export function tensorNames(layerCount: number): string[] {
  return Array.from({ length: layerCount }, (_, l) => [`W${l + 1}`, `b${l + 1}`]).flat();
}

/** W1 b1 W2 b2 …: a network's tensors in order, the same arrays (no copies). */
export function tensors(p: Params): Float32Array[] {
  return p.layers.flatMap((l) => [l.W, l.b]);
}

/** Zero parameters for layer sizes [784, h1, …, 10]. */
export function allocParams(sizes: readonly number[]): Params {
  checkSizes(sizes);
  const layers: Layer[] = [];
  for (let l = 1; l < sizes.length; l++) layers.push({ W: new Float32Array(sizes[l] * sizes[l - 1]), b: new Float32Array(sizes[l]) });
  return { layers };
}

export function checkSizes(sizes: readonly number[]): void {
  if (sizes.length < 2) throw new Error(`a network needs at least one layer, got sizes [${sizes.join(', ')}]`);
  if (sizes[0] !== INPUT || sizes[sizes.length - 1] !== CLASSES) {
    throw new Error(`layer sizes must run from ${INPUT} to ${CLASSES}, got [${sizes.join(', ')}]`);
  }
  for (const s of sizes) if (!(Number.isInteger(s) && s >= 1)) throw new Error(`layer sizes must be positive integers, got [${sizes.join(', ')}]`);
}

/** Checks that a Params object has consistent shapes; returns its layer sizes [784, h1, …, 10]. */
export function sizesOf(p: Params): number[] {
  if (!p || !Array.isArray(p.layers) || p.layers.length === 0) throw new Error('Params: no layers');
  const sizes = [INPUT];
  p.layers.forEach((layer, i) => {
    const out = layer.b.length, inp = sizes[i];
    if (out < 1) throw new Error(`Params: b${i + 1} is empty`);
    if (layer.W.length !== out * inp) throw new Error(`Params: W${i + 1} has ${layer.W.length} values, expected ${out}×${inp}`);
    sizes.push(out);
  });
  if (sizes[sizes.length - 1] !== CLASSES) throw new Error(`Params: the last layer has ${sizes[sizes.length - 1]} outputs, expected ${CLASSES}`);
  return sizes;
}

/** The hidden widths of a network: its sizes without the 784 inputs and 10 outputs. */
export const hiddenOf = (sizes: readonly number[]): number[] => sizes.slice(1, -1);

export function sameSizes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function cloneParams(p: Params): Params {
  return { layers: p.layers.map((l) => ({ W: l.W.slice(), b: l.b.slice() })) };
}

export function copyParams(src: Params, dst: Params): void {
  const s = tensors(src), d = tensors(dst);
  if (s.length !== d.length) throw new Error(`copyParams: ${s.length / 2} layers, expected ${d.length / 2}`);
  const names = tensorNames(s.length / 2);
  s.forEach((a, i) => {
    if (a.length !== d[i].length) throw new Error(`copyParams: ${names[i]} has ${a.length} values, expected ${d[i].length}`);
    d[i].set(a);
  });
}

/** Checks masks against a batch of m samples and the hidden widths; returns them (or undefined). */
export function checkMasks(masks: Float32Array[] | undefined, hidden: readonly number[], m: number): Float32Array[] | undefined {
  if (masks === undefined) return undefined;
  if (masks.length !== hidden.length) throw new Error(`masks: ${masks.length} arrays, expected one per hidden layer (${hidden.length})`);
  masks.forEach((mk, l) => {
    if (mk.length !== m * hidden[l]) throw new Error(`masks: layer ${l + 1} has ${mk.length} values, expected ${m}×${hidden[l]}`);
  });
  return masks;
}

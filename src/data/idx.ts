/**
 * IDX readers (LeCun's MNIST format, http://yann.lecun.com/exdb/mnist/): a big-endian header
 * (magic, then one uint32 per dimension) followed by the raw unsigned bytes. Files may be gzipped.
 */
import { UserError } from '../core/errors.ts';
import { bytesToPixels, hex32, readBytes } from './files.ts';

const IMAGES_MAGIC = 0x00000803; // ubyte, 3 dimensions (n, rows, cols)
const LABELS_MAGIC = 0x00000801; // ubyte, 1 dimension (n)

/** Checks the magic number and total size; returns the dimensions. */
function checkHeader(file: string, buf: Buffer, magic: number, what: string, dims: number): number[] {
  const headerBytes = 4 + 4 * dims;
  if (buf.length < 4) throw new UserError(`${file}: truncated: only ${buf.length} bytes, too short for an IDX header`);
  const found = buf.readUInt32BE(0);
  if (found !== magic) {
    const hint = found === IMAGES_MAGIC ? ' (an image file)' : found === LABELS_MAGIC ? ' (a label file)' : '';
    throw new UserError(
      `${file}: wrong magic number for IDX ${what}: expected ${hex32(magic)}, found ${hex32(found)}${hint}`,
    );
  }
  if (buf.length < headerBytes) {
    throw new UserError(`${file}: truncated: expected at least ${headerBytes} header bytes, found ${buf.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(buf.readUInt32BE(4 + 4 * d));
  const expected = headerBytes + shape.reduce((a, b) => a * b, 1);
  if (buf.length !== expected) {
    const problem = buf.length < expected ? 'truncated' : 'wrong size';
    throw new UserError(
      `${file}: ${problem}: header says ${shape.join('×')} ${what}, so expected ${expected} bytes, found ${buf.length}`,
    );
  }
  return shape;
}

/** Reads an IDX image file into one Float32Array, pixels scaled to [0, 1]. Any rows×cols is accepted here. */
export function readIdxImages(file: string): { x: Float32Array; n: number; rows: number; cols: number } {
  const buf = readBytes(file);
  const [n, rows, cols] = checkHeader(file, buf, IMAGES_MAGIC, 'images', 3);
  const x = new Float32Array(n * rows * cols);
  bytesToPixels(buf, 16, x.length, x);
  return { x, n, rows, cols };
}

/** Reads an IDX label file; every label must be in 0..9. */
export function readIdxLabels(file: string): Uint8Array {
  const buf = readBytes(file);
  const [n] = checkHeader(file, buf, LABELS_MAGIC, 'labels', 1);
  const y = new Uint8Array(n);
  y.set(buf.subarray(8, 8 + n)); // copy: `buf` may be a slice of Node's shared pool
  for (let i = 0; i < n; i++) {
    if (y[i] > 9) throw new UserError(`${file}: label ${y[i]} at index ${i} is outside 0..9`);
  }
  return y;
}

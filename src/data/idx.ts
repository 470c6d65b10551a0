/**
 * IDX readers (LeCun's MNIST format, http://yann.lecun.com/exdb/mnist/): a big-endian header
 * (magic, then one uint32 per dimension) followed by the raw unsigned bytes. Files may be gzipped.
 *
 * The header is read first (for a .gz, by inflating only the first bytes), and it fixes the size the
 * file must have: a raw file of another size is refused before its data is read, a .gz is inflated up to
 * that size and no further, and absurd dimensions are refused up front.
 */
import { UserError } from '../core/errors.ts';
import { GiB, bytesToPixels, contentHead, formatBytes, hex32, readContent, withDataFile } from './files.ts';

const IMAGES_MAGIC = 0x00000803; // ubyte, 3 dimensions (n, rows, cols)
const LABELS_MAGIC = 0x00000801; // ubyte, 1 dimension (n)

/** At most this many images or labels in one file (MNIST has 60,000; EMNIST's largest split 700,000). */
export const MAX_IDX_ITEMS = 10_000_000;
/** At most this many bytes in one IDX file, header included (MNIST's training images: 47 MB). */
export const MAX_IDX_BYTES = 2 * GiB;

/** Checks the magic number and the dimensions in the header; returns the dimensions and the file's expected size. */
function checkHeader(file: string, head: Buffer, magic: number, what: string, dims: number): { shape: number[]; expected: number } {
  const headerBytes = 4 + 4 * dims;
  if (head.length < 4) throw new UserError(`${file}: truncated: only ${head.length} bytes, too short for an IDX header`);
  const found = head.readUInt32BE(0);
  if (found !== magic) {
    const hint = found === IMAGES_MAGIC ? ' (an image file)' : found === LABELS_MAGIC ? ' (a label file)' : '';
    throw new UserError(
      `${file}: wrong magic number for IDX ${what}: expected ${hex32(magic)}, found ${hex32(found)}${hint}`,
    );
  }
  if (head.length < headerBytes) {
    throw new UserError(`${file}: truncated: expected at least ${headerBytes} header bytes, found ${head.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(head.readUInt32BE(4 + 4 * d));
  if (shape[0] > MAX_IDX_ITEMS) {
    throw new UserError(`${file}: header says ${shape[0]} ${what}, more than the ${MAX_IDX_ITEMS} accepted`);
  }
  const expected = headerBytes + shape.reduce((a, b) => a * b, 1);
  if (expected > MAX_IDX_BYTES) {
    throw new UserError(
      `${file}: header says ${shape.join('×')} ${what}, that is ${expected} bytes, more than the ${formatBytes(MAX_IDX_BYTES)} accepted`,
    );
  }
  return { shape, expected };
}

/** The whole content of an IDX file, after its header and size checks; and the dimensions. */
function readIdx(file: string, magic: number, what: string, dims: number): { buf: Buffer; shape: number[] } {
  return withDataFile(file, (f) => {
    const { shape, expected } = checkHeader(file, contentHead(f, 4 + 4 * dims), magic, what, dims);
    const sizeError = (found: number | null) => {
      const problem = found !== null && found < expected ? 'truncated' : 'wrong size';
      const foundText = found === null ? 'more than that (inflating stopped there)' : String(found);
      return new UserError(
        `${file}: ${problem}: header says ${shape.join('×')} ${what}, so expected ${expected} bytes, found ${foundText}`,
      );
    };
    if (!f.gz && f.size !== expected) throw sizeError(f.size); // before reading the data
    const buf = readContent(f, expected);
    if (buf === null || buf.length !== expected) throw sizeError(buf === null ? null : buf.length);
    return { buf, shape };
  });
}

/** Reads an IDX image file into one Float32Array, pixels scaled to [0, 1]. Any rows×cols is accepted here. */
export function readIdxImages(file: string): { x: Float32Array; n: number; rows: number; cols: number } {
  const { buf, shape } = readIdx(file, IMAGES_MAGIC, 'images', 3);
  const [n, rows, cols] = shape;
  const x = new Float32Array(n * rows * cols);
  bytesToPixels(buf, 16, x.length, x);
  return { x, n, rows, cols };
}

/** Reads an IDX label file; every label must be in 0..9. */
export function readIdxLabels(file: string): Uint8Array {
  const { buf, shape } = readIdx(file, LABELS_MAGIC, 'labels', 1);
  const [n] = shape;
  const y = new Uint8Array(n);
  y.set(buf.subarray(8, 8 + n)); // copy: `buf` may be a slice of a larger buffer
  for (let i = 0; i < n; i++) {
    if (y[i] > 9) throw new UserError(`${file}: label ${y[i]} at index ${i} is outside 0..9`);
  }
  return y;
}

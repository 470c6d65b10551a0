/**
 * IDX readers (LeCun's MNIST format, http://yann.lecun.com/exdb/mnist/): a big-endian header
 * (magic, then one uint32 per dimension) followed by the raw unsigned bytes. Files may be gzipped.
 *
 * The header is read first (for a .gz, by inflating only the first bytes), and it fixes the size the
 * file must have: absurd dimensions are refused up front, a raw file of another size is refused before
 * its data is read, and a .gz is first inflated once as a stream that is only counted (stopping one
 * byte past the size the header implies), so the tensors are allocated only for a file that is accepted.
 * The data is then streamed straight into them, never held whole as bytes.
 */
import { UserError } from '../core/errors.ts';
import { GiB, MAX_IMAGES, formatBytes, contentHead, hex32, streamContent, withDataFile, type DataFile } from './files.ts';

const IMAGES_MAGIC = 0x00000803; // ubyte, 3 dimensions (n, rows, cols)
const LABELS_MAGIC = 0x00000801; // ubyte, 1 dimension (n)

/** At most this many images or labels in one file: the limit on a whole dataset (MNIST has 60,000 + 10,000). */
export const MAX_IDX_ITEMS = MAX_IMAGES;
/** At most this many bytes in one IDX file, header included (MNIST's training images: 47 MB). */
export const MAX_IDX_BYTES = 2 * GiB;

/** An IDX file's header, checked on its own: the dimensions, and the content size they imply. */
export interface IdxHeader {
  file: string;
  shape: number[]; // images: [n, rows, cols]; labels: [n]
  headerBytes: number;
  expected: number; // header + data bytes
}

type Kind = { magic: number; what: 'images' | 'labels'; dims: number };
const IMAGES: Kind = { magic: IMAGES_MAGIC, what: 'images', dims: 3 };
const LABELS: Kind = { magic: LABELS_MAGIC, what: 'labels', dims: 1 };

/** Checks the magic number and the dimensions in the header; returns the dimensions and the file's expected size. */
function checkHeader(file: string, head: Buffer, { magic, what, dims }: Kind): IdxHeader {
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
  return { file, shape, headerBytes, expected };
}

/** The header of an IDX file, checked; reads only its first bytes (for a .gz, inflates only those). */
function readHeader(file: string, kind: Kind): IdxHeader {
  return withDataFile(file, (f) => checkHeader(file, contentHead(f, 4 + 4 * kind.dims), kind));
}

/** The header of an IDX image file: n, rows, cols; nothing after the header is read. */
export function readIdxImagesHeader(file: string): IdxHeader {
  return readHeader(file, IMAGES);
}

/** The header of an IDX label file: n; nothing after the header is read. */
export function readIdxLabelsHeader(file: string): IdxHeader {
  return readHeader(file, LABELS);
}

/**
 * Streams the data after the header into `sink(bytes, index)` (index: of the first byte after the
 * header), once the file is known to hold exactly the size its header implies. The header is read
 * again from the open file and must be the one checked before (`h`).
 */
function readBody(h: IdxHeader, kind: Kind, sink: (bytes: Buffer, index: number) => void): void {
  withDataFile(h.file, (f) => {
    const again = checkHeader(h.file, contentHead(f, h.headerBytes), kind);
    if (again.expected !== h.expected) throw new UserError(`${h.file}: changed while being read (its header)`);
    const sizeError = (found: number | null) => {
      const problem = found !== null && found < h.expected ? 'truncated' : 'wrong size';
      const foundText = found === null ? 'more than that (inflating stopped there)' : String(found);
      return new UserError(
        `${h.file}: ${problem}: header says ${h.shape.join('×')} ${kind.what}, so expected ${h.expected} bytes, found ${foundText}`,
      );
    };
    if (!f.gz && f.size !== h.expected) throw sizeError(f.size); // from its size, before reading the data
    if (f.gz) {
      const { bytes, more } = streamContent(f, h.expected, () => {}); // counted, not kept
      if (more || bytes !== h.expected) throw sizeError(more ? null : bytes);
    }
    fill(f, h, sink, sizeError);
  });
}

/** Streams the content of an accepted file into `sink`, skipping the header. */
function fill(f: DataFile, h: IdxHeader, sink: (bytes: Buffer, index: number) => void, sizeError: (found: number | null) => UserError): void {
  let at = 0; // content offset of the piece
  const { bytes, more } = streamContent(f, h.expected, (piece) => {
    const skip = Math.max(0, h.headerBytes - at);
    if (skip < piece.length) sink(piece.subarray(skip), at + skip - h.headerBytes);
    at += piece.length;
  });
  if (more || bytes !== h.expected) throw sizeError(more ? null : bytes); // it changed since it was checked
}

/** Reads the images of an IDX file whose header `h` was checked, into one Float32Array scaled to [0, 1]. */
export function readIdxImagesData(h: IdxHeader): Float32Array {
  const x = new Float32Array(h.expected - h.headerBytes);
  readBody(h, IMAGES, (bytes, i) => {
    for (let k = 0; k < bytes.length; k++) x[i + k] = bytes[k] / 255; // as bytesToPixels
  });
  return x;
}

/** Reads the labels of an IDX file whose header `h` was checked; every label must be in 0..9. */
export function readIdxLabelsData(h: IdxHeader): Uint8Array {
  const y = new Uint8Array(h.shape[0]);
  readBody(h, LABELS, (bytes, i) => {
    for (let k = 0; k < bytes.length; k++) {
      if (bytes[k] > 9) throw new UserError(`${h.file}: label ${bytes[k]} at index ${i + k} is outside 0..9`);
    }
    y.set(bytes, i);
  });
  return y;
}

/** Reads an IDX image file into one Float32Array, pixels scaled to [0, 1]. Any rows×cols is accepted here. */
export function readIdxImages(file: string): { x: Float32Array; n: number; rows: number; cols: number } {
  const h = readIdxImagesHeader(file);
  const [n, rows, cols] = h.shape;
  return { x: readIdxImagesData(h), n, rows, cols };
}

/** Reads an IDX label file; every label must be in 0..9. */
export function readIdxLabels(file: string): Uint8Array {
  return readIdxLabelsData(readIdxLabelsHeader(file));
}

/**
 * Shared helpers for the data readers: opening a data file (regular files only), reading its content
 * (raw or gzip) within a size bound, and byte → [0, 1] pixel scaling.
 *
 * Why regular files only: opening a FIFO for reading blocks until a writer appears, and the reads here
 * are synchronous, so the process would hang and not even see SIGTERM; a device such as /dev/zero never
 * ends. Why a bound: a small .gz can inflate to gigabytes (a "gzip bomb"), so the readers say how much
 * content they expect and inflation stops one byte past it.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { constants as Z, gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.ts';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** How many bytes of a file are read up front: enough for any header and for spotting gzip. */
const HEAD_BYTES = 64 * 1024;

/** An open regular file, as handed to the callback of withDataFile. */
export interface DataFile {
  file: string; // the path, for messages
  fd: number;
  size: number; // bytes on disk (compressed, for a .gz)
  gz: boolean; // name ends in .gz, or the content starts with the gzip magic 1f 8b
  head: Buffer; // the first (up to 64 KiB) bytes on disk
}

/** What a file that is not a regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const notRegular = (file: string, st: Stats) => new UserError(`${file}: is ${kindOf(st)}, expected a regular file`);

function fsError(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${file}: file not found`);
  if (code === 'EACCES') return new UserError(`${file}: cannot read (permission denied)`);
  if (code === 'ENOTDIR') return new UserError(`${file}: file not found (a part of the path is not a directory)`);
  return new UserError(`${file}: cannot read (${code ?? (e as Error).message})`);
}

/** Up to `n` bytes from `pos`, fewer at the end of the file. */
function readAt(f: { file: string; fd: number }, pos: number, n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  try {
    while (got < n) {
      const k = readSync(f.fd, buf, got, n - got, pos + got);
      if (k === 0) break;
      got += k;
    }
  } catch (e) {
    throw fsError(f.file, e);
  }
  return buf.subarray(0, got);
}

/**
 * Runs `fn` on `file` opened for reading, if it is a regular file; closes it afterwards. The path is
 * stat'ed before it is opened, so that a FIFO, a device, a socket or a directory is refused without
 * being opened; it is then opened non-blocking and the descriptor fstat'ed, so that a file swapped in
 * between is refused too.
 */
export function withDataFile<T>(file: string, fn: (f: DataFile) => T): T {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw fsError(file, e);
  }
  if (!st.isFile()) throw notRegular(file, st);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw fsError(file, e);
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw notRegular(file, fst);
    const head = readAt({ file, fd }, 0, Math.min(fst.size, HEAD_BYTES));
    const gz = file.endsWith('.gz') || (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b);
    return fn({ file, fd, size: fst.size, gz, head });
  } finally {
    closeSync(fd);
  }
}

const gzipError = (file: string, e: unknown) => new UserError(`${file}: not valid gzip data (${(e as Error).message})`);

/**
 * The first `n` bytes of the content (fewer if the content is shorter), `n` ≤ 64 KiB. For a .gz, only a
 * prefix of the compressed bytes is inflated: deflate expands at most ~1032:1, so 64 compressed bytes
 * give at most ~66 KB, and the prefix grows only while it has not yielded `n` bytes yet.
 */
export function contentHead(f: DataFile, n: number): Buffer {
  if (!f.gz) return f.head.subarray(0, n);
  let out = Buffer.alloc(0);
  for (let len = Math.min(64, f.head.length); ; len = Math.min(len * 4, f.head.length)) {
    try {
      out = gunzipSync(f.head.subarray(0, len), { finishFlush: Z.Z_SYNC_FLUSH }); // a prefix: no end-of-stream error
    } catch (e) {
      throw gzipError(f.file, e);
    }
    if (out.length >= n || len === f.head.length) return out.subarray(0, n);
  }
}

/**
 * The whole content, or null if it is longer than `maxBytes` (then at most `maxBytes` + a chunk was
 * inflated, and a raw file was not read at all). gunzipSync stops with ERR_BUFFER_TOO_LARGE once its
 * output passes `maxOutputLength`.
 */
export function readContent(f: DataFile, maxBytes: number): Buffer | null {
  if (!f.gz) return f.size > maxBytes ? null : f.size <= f.head.length ? f.head : readAt(f, 0, f.size);
  // Valid gzip of at most maxBytes is at most maxBytes plus a little (stored blocks add 5 bytes per
  // 64 KiB); anything much larger than that is not the file the caller expects.
  const maxCompressed = maxBytes + Math.ceil(maxBytes / 1000) + MiB;
  if (f.size > maxCompressed) {
    throw new UserError(`${f.file}: ${f.size} bytes of gzip data, more than ${maxBytes} bytes of content can take; expected at most ${maxBytes} bytes`);
  }
  const compressed = f.size <= f.head.length ? f.head : readAt(f, 0, f.size);
  try {
    return gunzipSync(compressed, { maxOutputLength: Math.max(1, maxBytes), chunkSize: 256 * 1024 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw gzipError(f.file, e);
  }
}

/**
 * The content of `file`, gunzipped if it is gzip, which must be at most `maxBytes` (`what` names the
 * kind of file in the error). File-system, gzip and size problems become one-line UserErrors naming the file.
 */
export function readBytes(file: string, maxBytes: number, what: string): Buffer {
  return withDataFile(file, (f) => {
    const buf = readContent(f, maxBytes);
    if (buf === null) {
      const found = f.gz ? 'more than that after gunzip' : `${f.size} bytes`;
      throw new UserError(`${file}: too large for ${what}: at most ${formatBytes(maxBytes)} is accepted, found ${found}`);
    }
    return buf;
  });
}

/** 1 GiB, 512 MiB, 1000 bytes. */
export function formatBytes(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  return `${n} bytes`;
}

/** Scales `n` bytes of `src` from `offset` into `dst` as value/255 (the CSV reader scales the same way). */
export function bytesToPixels(src: Uint8Array, offset: number, n: number, dst: Float32Array): void {
  for (let i = 0; i < n; i++) dst[i] = src[offset + i] / 255;
}

/** `n` as hex with 8 digits, for magic numbers: 0x00000803. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

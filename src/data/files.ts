/**
 * Shared helpers for the data readers: opening a data file (regular files only), reading its content
 * (raw or gzip) within a size bound, and byte → [0, 1] pixel scaling.
 *
 * Why regular files only: opening a FIFO for reading blocks until a writer appears, and the reads here
 * are synchronous, so the process would hang and not even see SIGTERM; a device such as /dev/zero never
 * ends. Why a bound: a small .gz can inflate to gigabytes (a "gzip bomb"), so the readers say how much
 * content they expect, content is streamed in pieces (a .gz inflated as it is read), and it stops at the bound.
 */
import { fileKind } from '../core/files.ts';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { constants as Z, gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.ts';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/**
 * At most this many images in all the files of one dataset (train, test and images to predict), so
 * that what a dataset holds in memory is bounded: 150,000 images are 470 MB as float32 (MNIST has
 * 70,000 in all, Kaggle's digit-recognizer 70,000).
 */
export const MAX_IMAGES = 150_000;

/** What is left of MAX_IMAGES while a dataset's files are read: each file is charged before its data is read. */
export class ImageBudget {
  left = MAX_IMAGES;

  /** The error for a file that holds more images (or rows) than are left. */
  exceeded(file: string, what: string, n?: number): UserError {
    const count = n === undefined ? `more than ${this.left.toLocaleString('en-US')}` : n.toLocaleString('en-US');
    const limit =
      this.left === MAX_IMAGES
        ? `the most accepted (${MAX_IMAGES.toLocaleString('en-US')} images in all, ${Math.round((MAX_IMAGES * 784 * 4) / 1e6)} MB as float32)`
        : `${this.left === 0 ? 'none' : `only ${this.left.toLocaleString('en-US')}`} left of the ${MAX_IMAGES.toLocaleString('en-US')} images accepted in all (train, test and images to predict)`;
    return new UserError(`${file}: too many ${what}: ${count}, ${limit}`);
  }

  /** Charges `n` images of `file`, or refuses them. */
  take(file: string, n: number, what = 'images'): void {
    if (n > this.left) throw this.exceeded(file, what, n);
    this.left -= n;
  }
}

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

const notRegular = (file: string, st: Stats) => new UserError(`${file}: is ${fileKind(st)}, expected a regular file`);

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

/** How many bytes of content are handed over at a time (raw reads, and inflated gzip output). */
const CHUNK = MiB;

/**
 * The worker that inflates a .gz for streamContent (plain JavaScript, evaluated). It reads the file
 * through the descriptor it is given (threads share them) with node's streaming gunzip, and hands each
 * piece of output over through a shared buffer: state EMPTY → it fills the buffer and sets FULL; the
 * reader uses it and sets EMPTY (or STOP). Any failure becomes state ERROR with the message.
 */
const INFLATE_WORKER = `
const { workerData: { fd, sab, cap } } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createGunzip } = require('node:zlib');
const { pipeline } = require('node:stream/promises');
const ctl = new Int32Array(sab, 0, 4); // [state, bytes in buf, 1 once the descriptor is no longer used]
const buf = new Uint8Array(sab, 16);
const [EMPTY, FULL, DONE, ERROR, STOP] = [0, 1, 2, 3, 4];
class Stopped extends Error {}
let filled = 0; // bytes in buf not handed over yet: pieces go over full, not one per gunzip chunk
function hand(state) {
  Atomics.wait(ctl, 0, FULL); // until the reader has taken the previous piece
  if (Atomics.load(ctl, 0) === STOP) throw new Stopped();
  ctl[1] = filled;
  filled = 0;
  Atomics.store(ctl, 0, state);
  Atomics.notify(ctl, 0);
}
function add(bytes) {
  for (let i = 0; i < bytes.length; ) {
    if (filled === cap) hand(FULL);
    if (filled === 0) Atomics.wait(ctl, 0, FULL); // buf is the reader's until it is taken
    if (Atomics.load(ctl, 0) === STOP) throw new Stopped();
    const n = Math.min(cap - filled, bytes.length - i);
    buf.set(bytes.subarray(i, i + n), filled);
    filled += n;
    i += n;
  }
}
function finished() {
  Atomics.store(ctl, 2, 1);
  Atomics.notify(ctl, 2);
}
function fail(e) {
  finished();
  if (e instanceof Stopped) return;
  try {
    filled = 0;
    Atomics.wait(ctl, 0, FULL);
    const msg = Buffer.from(String((e && e.message) || e)).subarray(0, 1000);
    buf.set(msg);
    filled = msg.length;
    hand(ERROR);
  } catch {}
}
process.on('uncaughtException', fail);
async function* read() {
  // positional reads of the shared descriptor (never closed here: the reader owns it)
  for (let pos = 0; ; ) {
    const b = Buffer.allocUnsafe(256 * 1024);
    const n = readSync(fd, b, 0, b.length, pos);
    if (n === 0) return;
    pos += n;
    yield b.subarray(0, n);
  }
}
pipeline(
  read,
  createGunzip({ chunkSize: 256 * 1024 }),
  async function (source) {
    for await (const out of source) add(out);
  },
).then(() => {
  finished();
  if (filled > 0) hand(FULL);
  hand(DONE);
}, fail);
`;

/**
 * Hands the content of `f` (gunzipped if it is gzip) to `onChunk` in pieces of at most 1 MiB, in order,
 * and never more than `maxBytes` bytes in all: memory stays at one piece whatever the file holds. A
 * piece is only valid during the call (copy what you keep). Returns the bytes handed over, and whether
 * there was more content than `maxBytes` (then it stopped there). `onChunk` may throw to stop early.
 *
 * A .gz is inflated as it is read, by a worker thread with node's streaming gunzip, while this thread
 * waits for each piece: so the readers stay synchronous and a gzip bomb is stopped at `maxBytes` of output.
 */
export function streamContent(f: DataFile, maxBytes: number, onChunk: (chunk: Buffer) => void): { bytes: number; more: boolean } {
  let bytes = 0;
  const give = (chunk: Buffer): boolean => {
    const room = maxBytes - bytes;
    if (chunk.length > room) {
      if (room > 0) onChunk(chunk.subarray(0, room));
      bytes = maxBytes;
      return false; // more content than maxBytes
    }
    if (chunk.length > 0) onChunk(chunk);
    bytes += chunk.length;
    return true;
  };
  if (!f.gz) {
    for (let pos = 0; ; ) {
      const chunk = readAt(f, pos, Math.min(CHUNK, maxBytes + 1 - bytes));
      if (chunk.length === 0) return { bytes, more: false };
      pos += chunk.length;
      if (!give(chunk)) return { bytes, more: true };
    }
  }
  const sab = new SharedArrayBuffer(16 + CHUNK);
  const ctl = new Int32Array(sab, 0, 4);
  const [EMPTY, FULL, DONE, ERROR, STOP] = [0, 1, 2, 3, 4];
  const worker = new Worker(INFLATE_WORKER, { eval: true, execArgv: [], workerData: { fd: f.fd, sab, cap: CHUNK } });
  worker.unref();
  try {
    for (;;) {
      // Wait for the next piece. A worker that makes no progress for a minute has failed in a way it
      // could not report (it cannot, here, be seen exiting: this thread's event loop is not running).
      if (Atomics.wait(ctl, 0, EMPTY, 60_000) === 'timed-out') throw new UserError(`${f.file}: inflating stalled (no output for 60 s)`);
      const state = Atomics.load(ctl, 0);
      const piece = Buffer.from(sab, 16, ctl[1]);
      if (state === DONE) return { bytes, more: false };
      if (state === ERROR) throw gzipError(f.file, new Error(piece.toString()));
      if (!give(piece)) return { bytes, more: true };
      Atomics.store(ctl, 0, EMPTY);
      Atomics.notify(ctl, 0);
    }
  } finally {
    Atomics.store(ctl, 0, STOP); // a worker waiting to hand over a piece stops at once
    Atomics.notify(ctl, 0);
    Atomics.wait(ctl, 2, 0, 5000); // and says when it no longer reads the descriptor, which the caller closes next
    void worker.terminate();
  }
}

/**
 * The whole content of `file`, gunzipped if it is gzip, which must be at most `maxBytes` (`what` names
 * the kind of file in the error); a raw file over the bound is refused from its size, a .gz as soon as
 * its output passes the bound. File-system, gzip and size problems become one-line UserErrors naming the file.
 */
export function readBytes(file: string, maxBytes: number, what: string): Buffer {
  return withDataFile(file, (f) => {
    const tooLarge = (found: string) => new UserError(`${file}: too large for ${what}: at most ${formatBytes(maxBytes)} is accepted, found ${found}`);
    if (!f.gz && f.size > maxBytes) throw tooLarge(`${f.size} bytes`);
    const parts: Buffer[] = [];
    const { more } = streamContent(f, maxBytes, (chunk) => parts.push(Buffer.from(chunk)));
    if (more) throw tooLarge(f.gz ? 'more than that after gunzip' : 'more than that');
    return Buffer.concat(parts);
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

/** Shared helpers for the data readers: reading a file (raw or gzip) and byte → [0, 1] pixel scaling. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../core/errors.ts';

/**
 * The bytes of `file`, gunzipped if its name ends in `.gz` or it starts with the gzip magic 1f 8b.
 * File-system and gzip failures become one-line UserErrors naming the file.
 */
export function readBytes(file: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, expected a file`);
    throw new UserError(`${file}: cannot read (${code ?? (e as Error).message})`);
  }
  if (file.endsWith('.gz') || (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b)) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new UserError(`${file}: not valid gzip data (${(e as Error).message})`);
    }
  }
  return buf;
}

/** Scales `n` bytes of `src` from `offset` into `dst` as value/255 (the CSV reader scales the same way). */
export function bytesToPixels(src: Uint8Array, offset: number, n: number, dst: Float32Array): void {
  for (let i = 0; i < n; i++) dst[i] = src[offset + i] / 255;
}

/** `n` as hex with 8 digits, for magic numbers: 0x00000803. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

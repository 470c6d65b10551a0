/**
 * Kaggle "digit-recognizer" CSV: a header `label,pixel0,...,pixel783`, then one image per line,
 * `label,p0,...,p783` with integer pixels 0..255; or Kaggle's unlabelled test.csv, the same without the
 * label column (`pixel0,...,pixel783`). Parsed straight from the bytes: a fast loop for good rows, and a
 * slow re-read of just the offending line to word the error when a row is bad. A CSV may be at most
 * 1 GiB, raw or after gunzip (Kaggle's train.csv is 76 MB).
 */
import { UserError } from '../core/errors.ts';
import { INPUT } from '../core/types.ts';
import { GiB, contentHead, readBytes, withDataFile } from './files.ts';

/** The most bytes a CSV may have, raw or after gunzip. */
export const MAX_CSV_BYTES = GiB;

const HEADER = 'label,pixel0,...,pixel783';
const UNLABELLED_HEADER = 'pixel0,...,pixel783';
const NL = 10;
const CR = 13;
const COMMA = 44;

/** Splits a header line into names, dropping a BOM, surrounding spaces and double quotes. */
function headerNames(line: string): string[] {
  return line
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '')
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
}

function checkHeader(file: string, names: string[], labelled: boolean): void {
  const header = labelled ? HEADER : UNLABELLED_HEADER;
  const fields = labelled ? 1 + INPUT : INPUT;
  if (/^\d/.test(names[0])) {
    throw new UserError(`${file}: missing header row: line 1 is data; expected '${header}'`);
  }
  if (names.length !== fields) {
    throw new UserError(`${file}: invalid header: ${names.length} columns, expected ${fields} ('${header}')`);
  }
  for (let i = 0; i < fields; i++) {
    const want = labelled ? (i === 0 ? 'label' : `pixel${i - 1}`) : `pixel${i}`;
    if (names[i] !== want) {
      throw new UserError(`${file}: invalid header: column ${i + 1} is '${names[i]}', expected '${want}'`);
    }
  }
}

/** The error for a row the fast loop rejected: re-reads that one line as text to say what is wrong. */
function rowError(file: string, buf: Buffer, lineStart: number, line: number, labelled: boolean): UserError {
  const nFields = labelled ? 1 + INPUT : INPUT;
  let end = buf.indexOf(NL, lineStart);
  if (end < 0) end = buf.length;
  const fields = buf.toString('latin1', lineStart, end).replace(/\r$/, '').split(',');
  if (fields.length !== nFields) {
    const expected = labelled ? `${nFields} (label + ${INPUT} pixels)` : `${nFields} (${INPUT} pixels, no label)`;
    return new UserError(`${file}: line ${line} has ${fields.length} fields, expected ${expected}`);
  }
  const show = (s: string) => `'${s.length > 20 ? s.slice(0, 20) + '…' : s}'`;
  const first = labelled ? 1 : 0; // index of pixel0
  for (let i = 0; i < nFields; i++) {
    const s = fields[i];
    const ok = /^\d+$/.test(s) && Number(s) <= (i < first ? 9 : 255);
    if (ok) continue;
    if (i < first) return new UserError(`${file}: line ${line}, column 1 (label): ${show(s)} is not a label 0..9`);
    return new UserError(`${file}: line ${line}, column ${i + 1} (pixel${i - first}): ${show(s)} is not an integer 0..255`);
  }
  return new UserError(`${file}: line ${line}: malformed row`); // e.g. a lone carriage return
}

/** Parses a whole CSV, labelled (`label,pixel0..`) or not (`pixel0..`); y is empty when unlabelled. */
function parseCsv(file: string, labelled: boolean): { x: Float32Array; y: Uint8Array; m: number } {
  const buf = readBytes(file, MAX_CSV_BYTES, 'a CSV file');
  const header = labelled ? HEADER : UNLABELLED_HEADER;
  const FIELDS = labelled ? 1 + INPUT : INPUT;
  const first = labelled ? 1 : 0; // fields before pixel0
  const len = buf.length;
  let pos = len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  let nonBlank = pos; // first non-blank byte
  while (nonBlank < len && (buf[nonBlank] === 32 || buf[nonBlank] === 9 || buf[nonBlank] === NL || buf[nonBlank] === CR)) nonBlank++;
  if (nonBlank === len) {
    throw new UserError(`${file}: empty CSV: no header and no rows; expected '${header}' then one image per line`);
  }
  let eol = buf.indexOf(NL, pos);
  if (eol < 0) eol = len;
  checkHeader(file, headerNames(buf.toString('latin1', pos, eol)), labelled);
  pos = eol + 1;

  // Upper bound on rows (lines after the header) so x is allocated once; blank lines make it loose.
  let cap = 0;
  for (let p = pos; p < len; ) {
    cap++;
    const nl = buf.indexOf(NL, p);
    if (nl < 0) break;
    p = nl + 1;
  }
  const x = new Float32Array(cap * INPUT);
  const y = new Uint8Array(labelled ? cap : 0);

  let m = 0;
  for (let line = 2; pos < len; line++) {
    const lineStart = pos;
    if (buf[pos] === NL || (buf[pos] === CR && buf[pos + 1] === NL)) {
      pos = buf.indexOf(NL, pos) + 1; // skip an empty line (e.g. trailing ones)
      continue;
    }
    const base = m * INPUT - first; // field f (first..FIELDS-1) is pixel f - first, at x[base + f]
    for (let f = 0; f < FIELDS; f++) {
      const start = pos;
      let v = 0;
      while (pos < len) {
        const d = buf[pos] - 48; // digit value, if it is one
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
        pos++;
      }
      const c = pos < len ? buf[pos] : NL; // end of file ends the last line
      const last = f === FIELDS - 1;
      const sepOk = last ? c === NL || (c === CR && (pos + 1 >= len || buf[pos + 1] === NL)) : c === COMMA;
      if (pos === start || !sepOk || v > (f < first ? 9 : 255)) throw rowError(file, buf, lineStart, line, labelled);
      if (f < first) y[m] = v;
      else x[base + f] = v / 255; // as bytesToPixels, so IDX and CSV give identical tensors
      pos += last && c === CR ? 2 : 1;
    }
    m++;
  }
  if (m === 0) throw new UserError(`${file}: empty CSV: a header but no data rows`);
  // Views, not copies: only blank lines leave unused space at the end.
  return { x: x.subarray(0, m * INPUT), y: y.subarray(0, labelled ? m : 0), m };
}

/** Reads a labelled Kaggle CSV (raw or .gz) into one Float32Array (pixels/255) and the labels. */
export function readKaggleCsv(file: string): { x: Float32Array; y: Uint8Array; m: number } {
  return parseCsv(file, true);
}

/**
 * Reads Kaggle's unlabelled test.csv (raw or .gz; header `pixel0,...,pixel783`, one image of 784 pixels
 * per line) into one Float32Array (pixels/255), in file order: row i is the image Kaggle calls ImageId i + 1.
 */
export function readKaggleCsvUnlabelled(file: string): { x: Float32Array; m: number } {
  const { x, m } = parseCsv(file, false);
  return { x, m };
}

/**
 * Whether a CSV's header starts with `label` (a labelled set) or `pixel0` (Kaggle's unlabelled test.csv).
 * Reads only the start of the file (for a .gz, inflates only its first bytes). Anything else is an invalid header.
 */
export function csvHasLabels(file: string): boolean {
  const head = withDataFile(file, (f) => contentHead(f, 4096)).toString('utf8'); // utf8: a BOM becomes U+FEFF, which headerNames drops
  const nl = head.indexOf('\n');
  const first = headerNames(nl < 0 ? head : head.slice(0, nl))[0];
  if (first === 'label') return true;
  if (first === 'pixel0') return false;
  if (head.trim() === '') throw new UserError(`${file}: empty CSV: no header and no rows`);
  throw new UserError(
    `${file}: invalid header: starts with '${first}', expected '${HEADER}' (or '${UNLABELLED_HEADER}' for an unlabelled test set)`,
  );
}

/**
 * Kaggle "digit-recognizer" CSV: a header `label,pixel0,...,pixel783`, then one image per line,
 * `label,p0,...,p783` with integer pixels 0..255; or Kaggle's unlabelled test.csv, the same without the
 * label column (`pixel0,...,pixel783`). Parsed straight from the bytes: a fast loop for good rows, and a
 * slow re-read of just the offending line to word the error when a row is bad. The file is streamed
 * (a .gz inflated as it is read): a CSV may be at most 449 MiB (MAX_CSV_BYTES), raw or after gunzip (Kaggle's train.csv is
 * 76 MB), its lines at most 64 KiB, and its rows at most the ImageBudget (blank lines are not rows).
 */
import { UserError } from '../core/errors.ts';
import { INPUT } from '../core/types.ts';
import { ImageBudget, MAX_IMAGES, MiB, contentHead, formatBytes, streamContent, withDataFile } from './files.ts';

/** The longest line accepted: a row takes at most 3,138 bytes, a header with quotes and spaces a few more. */
export const MAX_CSV_LINE = 64 * 1024;
/**
 * The most bytes a CSV may have, raw or after gunzip (counted as it is inflated): what MAX_IMAGES rows of
 * the longest form (`255,` 785 times) and a header can take, rounded up to a MiB: 449 MiB. A file past it
 * holds something else (blank lines, say), and is refused after inflating no more than that.
 */
export const MAX_CSV_BYTES = Math.ceil((MAX_IMAGES * (2 + 4 * INPUT) + MAX_CSV_LINE) / MiB) * MiB;

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
function rowError(file: string, buf: Buffer, lineStart: number, lineEnd: number, line: number, labelled: boolean): UserError {
  const nFields = labelled ? 1 + INPUT : INPUT;
  const fields = buf.toString('latin1', lineStart, lineEnd).replace(/\r$/, '').split(',');
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
  return new UserError(`${file}: line ${line}: malformed row`); // e.g. a carriage return inside the line
}

const isSpace = (b: number) => b === 32 || b === 9 || b === NL || b === CR;

/**
 * One pass over a CSV, streamed in pieces (a .gz inflated as it is read), so memory stays at one piece
 * and one line whatever the file holds. Checks every row; with `out`, also stores them (pixels/255 and
 * labels), and then the file must hold exactly `out.m` rows. Without `out` it counts the rows, and
 * stops at one row more than `budget` has left. Blank lines are not rows; a line longer than MAX_CSV_LINE bytes, more than
 * MAX_CSV_BYTES of content or more than `maxRows` rows are refused as soon as they are seen.
 */
function scanCsv(file: string, labelled: boolean, budget: ImageBudget, out?: { x: Float32Array; y: Uint8Array; m: number }): number {
  const header = labelled ? HEADER : UNLABELLED_HEADER;
  const FIELDS = labelled ? 1 + INPUT : INPUT;
  const first = labelled ? 1 : 0; // fields before pixel0
  let line = 0; // number of the line being parsed (1 = the header)
  let m = 0; // rows so far
  let blankHead = false; // the header line is blank: an empty CSV if nothing else follows
  const maxRows = out ? out.m : budget.left;
  const tooMany = () =>
    out ? new UserError(`${file}: changed while being read: more than the ${out.m} rows counted before`) : budget.exceeded(file, 'rows');

  /** Line `line` is buf[s, e): e is its newline, or the end of the content. */
  const onLine = (buf: Buffer, s: number, e: number) => {
    line++;
    if (e - s > MAX_CSV_LINE) throw lineTooLong(file, line);
    if (line === 1) {
      if (buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3; // UTF-8 BOM
      let p = s;
      while (p < e && isSpace(buf[p])) p++;
      if (p === e) blankHead = true; // decided by what follows
      else checkHeader(file, headerNames(buf.toString('latin1', s, e)), labelled);
      return;
    }
    if (s === e || (e === s + 1 && buf[s] === CR)) return; // a blank line: not a row
    if (blankHead) {
      let p = s;
      while (p < e && isSpace(buf[p])) p++;
      if (p === e) return; // still nothing: maybe an empty file
      checkHeader(file, [''], labelled); // content after a blank first line: no header
    }
    let end = e;
    if (buf[end - 1] === CR) end--; // CRLF
    if (m >= (out ? out.m : maxRows)) throw tooMany();
    const base = m * INPUT - first; // field f (first..FIELDS-1) is pixel f - first, at x[base + f]
    let pos = s;
    for (let f = 0; f < FIELDS; f++) {
      const start = pos;
      let v = 0;
      while (pos < end) {
        const d = buf[pos] - 48; // digit value, if it is one
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
        pos++;
      }
      const sepOk = f === FIELDS - 1 ? pos === end : pos < end && buf[pos] === COMMA;
      if (pos === start || !sepOk || v > (f < first ? 9 : 255)) throw rowError(file, buf, s, e, line, labelled);
      if (out) {
        if (f < first) out.y[m] = v;
        else out.x[base + f] = v / 255; // as bytesToPixels, so IDX and CSV give identical tensors
      }
      pos++;
    }
    m++;
  };

  withDataFile(file, (f) => {
    if (!f.gz && f.size > MAX_CSV_BYTES) throw tooLarge(file, `${f.size} bytes`); // from its size, before reading
    let carry: Buffer | null = null; // the start of a line that goes on in the next piece
    const { more } = streamContent(f, MAX_CSV_BYTES, (piece) => {
      const buf: Buffer = carry ? Buffer.concat([carry, piece]) : piece;
      let s = 0;
      for (;;) {
        // Blank lines after the header, in a tight loop: a file of blank lines is not a file of calls.
        while (line >= 1 && s < buf.length) {
          if (buf[s] === NL) s++;
          else if (buf[s] === CR && buf[s + 1] === NL) s += 2;
          else break;
          line++;
        }
        const nl = buf.indexOf(NL, s);
        if (nl < 0) break;
        onLine(buf, s, nl);
        s = nl + 1;
      }
      if (buf.length - s > MAX_CSV_LINE) throw lineTooLong(file, line + 1);
      carry = s < buf.length ? Buffer.from(buf.subarray(s)) : null; // a copy: the piece is reused
    });
    if (more) throw tooLarge(file, f.gz ? 'more than that after gunzip' : 'more than that');
    const last = carry as Buffer | null; // (assigned in the callback: TypeScript cannot see it)
    if (last !== null) onLine(last, 0, last.length); // a last line without a newline
  });
  if (line === 0 || blankHead) throw new UserError(`${file}: empty CSV: no header and no rows; expected '${header}' then one image per line`);
  if (m === 0) throw new UserError(`${file}: empty CSV: a header but no data rows`);
  if (out && m !== out.m) throw new UserError(`${file}: changed while being read: ${m} rows, ${out.m} counted before`);
  return m;
}

const tooLarge = (file: string, found: string) =>
  new UserError(`${file}: too large for a CSV file: at most ${formatBytes(MAX_CSV_BYTES)} is accepted, found ${found}`);
const lineTooLong = (file: string, line: number) =>
  new UserError(`${file}: line ${line} is longer than ${MAX_CSV_LINE} bytes (a row of ${INPUT} pixels takes at most ${2 + INPUT * 4})`);

/**
 * Parses a whole CSV, labelled (`label,pixel0..`) or not (`pixel0..`); y is empty when unlabelled. Two
 * passes: the first checks and counts the rows (nothing is kept), so the tensors are allocated once at
 * their exact size, and only for a file that is accepted; `budget` is charged with the rows in between.
 */
function parseCsv(file: string, labelled: boolean, budget: ImageBudget): { x: Float32Array; y: Uint8Array; m: number } {
  const m = scanCsv(file, labelled, budget);
  budget.take(file, m, 'rows');
  const out = { x: new Float32Array(m * INPUT), y: new Uint8Array(labelled ? m : 0), m };
  scanCsv(file, labelled, budget, out);
  return out;
}

/** Reads a labelled Kaggle CSV (raw or .gz) into one Float32Array (pixels/255) and the labels. */
export function readKaggleCsv(file: string, budget = new ImageBudget()): { x: Float32Array; y: Uint8Array; m: number } {
  return parseCsv(file, true, budget);
}

/**
 * Reads Kaggle's unlabelled test.csv (raw or .gz; header `pixel0,...,pixel783`, one image of 784 pixels
 * per line) into one Float32Array (pixels/255), in file order: row i is the image Kaggle calls ImageId i + 1.
 */
export function readKaggleCsvUnlabelled(file: string, budget = new ImageBudget()): { x: Float32Array; m: number } {
  const { x, m } = parseCsv(file, false, budget);
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

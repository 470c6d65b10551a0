/**
 * Reading a results JSON that may come from anywhere (`npm run report -- FILE`): a regular file only (a
 * FIFO, a device such as /dev/zero or /dev/stdin, a folder are refused before anything is read, so
 * nothing hangs), at most RESULTS_MAX_BYTES, valid JSON, the schema and version this code writes, then
 * results.schema.json applied (ajv, the validator the tests already used: the schema is the contract, so
 * it is applied whole rather than re-implemented in part), then what a schema cannot say: numbers are
 * finite (JSON's 1e999 parses as Infinity), every run belongs to the plan's seeds and trainers, the
 * gallery's and the mistakes' indices are test images that exist. Every refusal is one UserError naming
 * the file and the first offending field.
 */
import { fileKind } from '../core/files.ts';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { UserError } from '../core/errors.ts';
import { RESULTS_SCHEMA, RESULTS_VERSION, type Results } from './results.ts';

/** A results JSON is a few hundred KB (a sweep of many seeds a few MB); anything past this is not one. */
export const RESULTS_MAX_BYTES = 64 * 2 ** 20;

/** The bytes of a regular file of at most `max` bytes; never blocks on a FIFO, never reads past max. */
function readRegular(file: string, max: number): Buffer {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot read it (${code})`}`);
  }
  if (!st.isFile()) throw new UserError(`${file}: is ${fileKind(st)}, not a results JSON file`);
  if (st.size > max) throw new UserError(`${file}: ${st.size} bytes, more than a results JSON can be (${max} bytes)`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO swapped in after the check does not block
  } catch (e) {
    throw new UserError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw new UserError(`${file}: is ${fileKind(fst)}, not a results JSON file`);
    const buf = Buffer.alloc(Math.min(fst.size, max) + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > max) throw new UserError(`${file}: more than a results JSON can be (${max} bytes)`);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

let validator: ReturnType<Ajv['compile']> | null = null;
function validate(x: unknown): ErrorObject | null {
  if (!validator) {
    const schema = JSON.parse(readFileSync(new URL('./results.schema.json', import.meta.url), 'utf8'));
    validator = new Ajv({ allErrors: true, allowUnionTypes: true, strict: false }).compile(schema);
  }
  if (validator(x)) return null;
  // the most specific error: the deepest field (a oneOf reports each branch; the branch that got furthest
  // names the real problem, e.g. runs[0].final.testAcc rather than "runs[0].final must be null")
  const errors = validator.errors ?? [];
  const depth = (e: ErrorObject) => e.instancePath.split('/').length + (e.keyword === 'required' ? 1 : 0);
  return errors.reduce<ErrorObject | null>((best, e) => (best === null || depth(e) > depth(best) ? e : best), null);
}

/** `/runs/0/final/testAcc` → `runs[0].final.testAcc` */
function fieldName(pointer: string): string {
  if (pointer === '') return 'the top level';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

function schemaMessage(e: ErrorObject): string {
  const field = fieldName(e.instancePath);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${field === 'the top level' ? '' : `${field}.`}${String(p.missingProperty)} is missing`;
  if (e.keyword === 'additionalProperties') return `${field}: unexpected field ${String(p.additionalProperty)}`;
  if (e.keyword === 'enum') return `${field} ${e.message} (${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`;
  return `${field} ${e.message}`;
}

/** The first number in x that is not finite, as a field name; null if there is none. */
function nonFinite(x: unknown, at = ''): string | null {
  if (typeof x === 'number') return Number.isFinite(x) ? null : at;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const f = nonFinite(x[i], `${at}/${i}`);
      if (f !== null) return f;
    }
  } else if (x !== null && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) {
      const f = nonFinite(v, `${at}/${k}`);
      if (f !== null) return f;
    }
  }
  return null;
}

/** What a schema cannot check: the parts must fit together. The first problem, or null. */
function semanticProblem(r: Results): string | null {
  const bad = nonFinite(r);
  if (bad !== null) return `${fieldName(bad)} is not a finite number`;
  const test = r.dataset.test;
  const seeds = new Set(r.plan.seeds);
  const trainers = new Set<string>(r.plan.trainers);
  if (r.runs.length === 0) return 'runs is empty: there is nothing to report';
  if (r.tensors.length !== 2 * (r.plan.sizes.length - 1)) return `tensors has ${r.tensors.length} names, the plan's network has ${2 * (r.plan.sizes.length - 1)} tensors`;
  for (const [i, run] of r.runs.entries()) {
    if (!seeds.has(run.seed)) return `runs[${i}].seed ${run.seed} is not one of plan.seeds`;
    if (!trainers.has(run.trainer)) return `runs[${i}].trainer ${run.trainer} is not one of plan.trainers`;
    if (run.status === 'ok' && (run.final === null || run.confusion === null)) return `runs[${i}] finished but has no final accuracy or confusion matrix`;
    for (const [j, w] of (run.gallery?.wrong ?? []).entries()) {
      if (w.index >= test) return `runs[${i}].gallery.wrong[${j}].index ${w.index} is not a test image (the data set has ${test})`;
    }
    if (run.gallery && run.gallery.predictions.length !== r.gallery.indices.length) return `runs[${i}].gallery.predictions has ${run.gallery.predictions.length} entries for ${r.gallery.indices.length} gallery images`;
  }
  for (const [i, idx] of r.gallery.indices.entries()) {
    if (idx >= test) return `gallery.indices[${i}] ${idx} is not a test image (the data set has ${test})`;
  }
  if (r.gallery.labels.length !== r.gallery.indices.length) return `gallery.labels has ${r.gallery.labels.length} entries for ${r.gallery.indices.length} gallery images`;
  return null;
}

/** Reads and checks a results JSON; see the top of this file. */
export function readResults(file: string, max = RESULTS_MAX_BYTES): Results {
  const text = readRegular(file, max).toString('utf8');
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const head = x as Partial<Results> | null;
  if (head === null || typeof head !== 'object' || Array.isArray(head) || head.schema !== RESULTS_SCHEMA || head.version !== RESULTS_VERSION) {
    const h = head !== null && typeof head === 'object' ? head : {};
    throw new UserError(`${file}: not a ${RESULTS_SCHEMA} v${RESULTS_VERSION} file (schema ${JSON.stringify((h as Partial<Results>).schema)}, version ${JSON.stringify((h as Partial<Results>).version)})`);
  }
  const err = validate(x);
  if (err) throw new UserError(`${file}: ${schemaMessage(err)}`);
  const problem = semanticProblem(x as Results);
  if (problem) throw new UserError(`${file}: ${problem}`);
  return x as Results;
}

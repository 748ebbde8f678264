/**
 * One entry point that recognises the dataset format from a path and returns train and test
 * sets: no path → the bundled MNIST digits; a directory of IDX files → MNIST-style; a directory or
 * `.bin` file of CIFAR-10 batches → CIFAR-10; any other directory → a folder of PNG/JPEG images.
 * Where the source has no test set of its own, a fixed seeded split holds one out.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { splitTrainTest, type ImageDataset } from './dataset.js';
import { findCifarFiles, loadCifarFiles } from './cifar.js';
import { sniffImageFormat } from '../images/image-header.js';
import { DataError } from './errors.js';
import { findIdxFiles, labelsFileFor, loadIdx, type IdxFilePair } from './idx.js';
import { listImageFiles, loadImageFolder, parseSize, type ImageFolderOptions } from './image-folder.js';
import { loadBundledMnist } from './mnist-bundled.js';
import { NAMED_DATASETS } from './named-datasets.js';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { pathKind, readDataFile } from './read-file.js';
import { convertChannels, resizeDataset } from './transform.js';

export type DatasetFormat = 'mnist-bundled' | 'idx' | 'cifar10' | 'image-folder';

export interface LoadOptions {
  /** Image size. Required for image folders; for the other formats, images are resized to it when given. */
  readonly size?: ImageFolderOptions['size'] | undefined;
  /** 1 = grayscale, 3 = RGB. Default: the source's own (3 for image folders). */
  readonly channels?: 1 | 3 | undefined;
  /** Images held out for test when the source has no test set. Default: 10%, at most 1000, at least 1. */
  readonly testCount?: number | undefined;
  /** Seed of the held-out split (default 0), so the split is fixed across runs. */
  readonly splitSeed?: number | undefined;
  /** Image folders: derive labels from subfolder names (default true). */
  readonly labels?: boolean | undefined;
  /** Caps on what each file may declare (default DEFAULT_LIMITS). */
  readonly limits?: InputLimits | undefined;
}

export interface LoadedDataset {
  readonly train: ImageDataset;
  readonly test: ImageDataset;
  readonly format: DatasetFormat;
}

const SUPPORTED =
  'supported are: no path (the bundled MNIST digits); a directory of MNIST-style IDX files (train-images-idx3-ubyte, t10k-images-idx3-ubyte, labels alongside, .gz or not); ' +
  'a directory (or one .bin file) of CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin); a folder of PNG/JPEG images (with a size)';

/** The held-out count used when the caller gives none: 10% of the data, at most 1000, at least 1. */
export function defaultTestCount(count: number): number {
  if (count < 2) return 0;
  return Math.max(1, Math.min(1000, Math.floor(count / 10)));
}

/** Applies the requested size and channel count to a dataset of any format. */
function shape(ds: ImageDataset, options: LoadOptions): ImageDataset {
  let out = ds;
  if (options.channels !== undefined) out = convertChannels(out, options.channels);
  if (options.size !== undefined) {
    const { height, width } = parseSize(options.size);
    out = resizeDataset(out, height, width);
  }
  return out;
}

function heldOut(ds: ImageDataset, options: LoadOptions): { train: ImageDataset; test: ImageDataset } {
  return splitTrainTest(ds, options.testCount ?? defaultTestCount(ds.count), options.splitSeed ?? 0);
}

function loadPair(pair: IdxFilePair, name: string, limits: InputLimits): ImageDataset {
  return loadIdx(pair.images, pair.labels, name, limits);
}

/** The labels file belonging to a lone IDX images file, trying with and without `.gz`. */
function siblingLabels(imagesFile: string): string | undefined {
  const base = labelsFileFor(imagesFile);
  if (base === undefined) return undefined;
  const alt = base.endsWith('.gz') ? base.slice(0, -3) : `${base}.gz`;
  return [base, alt].find((f) => existsSync(f));
}

function loadUnshaped(path: string, options: LoadOptions): LoadedDataset {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const kind = pathKind(path);
  if (kind === undefined) {
    throw new DataError(`dataset path ${path} does not exist; check the path, give a dataset name (${Object.keys(NAMED_DATASETS).join(', ')}), or omit it to use the bundled MNIST digits`);
  }

  if (kind === 'file') {
    if (/idx1-ubyte(\.gz)?$/i.test(path)) {
      throw new DataError(`${path} is an IDX labels file; pass the images file (…-images-idx3-ubyte) or the directory holding both`);
    }
    const looksIdx = /idx3-ubyte(\.gz)?$/i.test(path);
    if (looksIdx) {
      const ds = loadIdx(path, siblingLabels(path), path, limits);
      return { ...heldOut(ds, options), format: 'idx' };
    }
    if (extname(path).toLowerCase() === '.bin') {
      return { ...heldOut(loadCifarFiles([path], path, limits), options), format: 'cifar10' };
    }
    const head = readDataFile(path, 'dataset file', limits).subarray(0, 8);
    if (sniffImageFormat(head) !== undefined) {
      throw new DataError(`${path} is a single image; pass the folder that contains the images`);
    }
    throw new DataError(`cannot tell the dataset format of ${path}; ${SUPPORTED}`);
  }

  const idx = findIdxFiles(path);
  if (idx.train !== undefined || idx.test !== undefined) {
    if (idx.train !== undefined && idx.test !== undefined) {
      return { train: loadPair(idx.train, `${path}/train`, limits), test: loadPair(idx.test, `${path}/test`, limits), format: 'idx' };
    }
    const only = (idx.train ?? idx.test)!;
    return { ...heldOut(loadPair(only, path, limits), options), format: 'idx' };
  }

  const cifar = findCifarFiles(path);
  if (cifar !== undefined) {
    if (cifar.train.length > 0 && cifar.test !== undefined) {
      return {
        train: loadCifarFiles(cifar.train, `${path}/train`, limits),
        test: loadCifarFiles([cifar.test], `${path}/test`, limits),
        format: 'cifar10',
      };
    }
    const files = cifar.train.length > 0 ? cifar.train : [cifar.test!];
    return { ...heldOut(loadCifarFiles(files, path, limits), options), format: 'cifar10' };
  }

  if (listImageFiles(path).length === 0) {
    throw new DataError(`cannot tell the dataset format of ${path}: it holds no IDX files, CIFAR-10 batches or PNG/JPEG images; ${SUPPORTED}`);
  }
  if (options.size === undefined) {
    throw new DataError(`the image folder ${path} needs an image size to resize to; set the size option (e.g. 32 or 64)`);
  }
  const folder = loadImageFolder(path, {
    size: options.size,
    channels: options.channels ?? 3,
    labels: options.labels,
    limits,
  });
  return { ...heldOut(folder, options), format: 'image-folder' };
}

/**
 * Loads a dataset from `path` (format detected as described above) or, when `path` is undefined,
 * the bundled MNIST digits with a fixed 9,000 / 1,000 split. IDX and CIFAR-10 directories use their
 * own test files when present (t10k-*, test_batch.bin); everything else gets a seeded hold-out.
 * Throws a DataError with a one-line explanation when the path cannot be used.
 */
export function loadDataset(path: string | undefined, options: LoadOptions = {}): LoadedDataset {
  const loaded = path === undefined
    ? { ...heldOut(loadBundledMnist(), { ...options, testCount: options.testCount ?? 1000 }), format: 'mnist-bundled' as const }
    : loadUnshaped(path, options);
  return { train: shape(loaded.train, options), test: shape(loaded.test, options), format: loaded.format };
}

/**
 * Loads only one split: for a CIFAR-10 directory, 'train' reads the data_batch_N.bin files and
 * 'test' only test_batch.bin; for an IDX directory, train-* or t10k-* files. Other sources are
 * loaded whole and the seeded split is applied, exactly as in loadDataset.
 */
export function loadDatasetSplit(path: string | undefined, split: 'train' | 'test', options: LoadOptions = {}): ImageDataset {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (path !== undefined && pathKind(path) === 'directory') {
    const idx = findIdxFiles(path);
    if (idx.train !== undefined && idx.test !== undefined) {
      return shape(loadPair(split === 'train' ? idx.train : idx.test, `${path}/${split}`, limits), options);
    }
    if (idx.train === undefined && idx.test === undefined) {
      const cifar = findCifarFiles(path);
      if (cifar !== undefined && cifar.train.length > 0 && cifar.test !== undefined) {
        return shape(loadCifarFiles(split === 'train' ? cifar.train : [cifar.test], `${path}/${split}`, limits), options);
      }
    }
  }
  return loadDataset(path, options)[split];
}

/**
 * MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST): `…-images-idx3-ubyte` holds
 * unsigned-byte images behind a big-endian header (magic 0x00000803, count, rows, cols) and
 * `…-labels-idx1-ubyte` one byte per image (magic 0x00000801, count). Either may be gzipped.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeDataset, unitFromBytes, type ImageDataset } from './dataset.js';
import { bytes, DataError } from './errors.js';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { readMaybeGzipped } from './read-file.js';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** count × height × width bytes (a view into the file buffer). */
  readonly pixels: Uint8Array;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Parses an (already gunzipped) IDX image file, validating magic number, dimensions and length. */
export function parseIdxImages(data: Uint8Array, file: string): IdxImages {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // The magic number is checked first: a wrong kind of file is a more useful diagnosis than its length.
  const magic = data.length >= 4 ? view.getUint32(0) : undefined;
  if (magic !== undefined && magic !== IMAGES_MAGIC) {
    const hint = magic === LABELS_MAGIC ? ' (this is a labels file)' : '';
    throw new DataError(`IDX file ${file} has magic number ${hex(magic)}, expected ${hex(IMAGES_MAGIC)} for unsigned-byte images${hint}; pass an …-images-idx3-ubyte file`);
  }
  if (data.length < 16) {
    throw new DataError(`IDX file ${file} is too short for an image header (${bytes(data.length)}, need 16); re-download or check the path`);
  }
  const count = view.getUint32(4);
  const height = view.getUint32(8);
  const width = view.getUint32(12);
  if (height === 0 || width === 0) {
    throw new DataError(`IDX file ${file} declares images of ${height}×${width}; re-download or check the path`);
  }
  const need = count * height * width;
  const have = data.length - 16;
  if (have < need) {
    throw new DataError(`IDX file ${file} is truncated: header says ${count} images of ${height}×${width} (${bytes(need)}) but only ${bytes(have)} follow; re-download or check the path`);
  }
  if (have > need) {
    throw new DataError(`IDX file ${file} has ${bytes(have - need)} of trailing data after ${count} images of ${height}×${width}; re-download or check the path`);
  }
  return { count, height, width, pixels: data.subarray(16) };
}

/** Parses an (already gunzipped) IDX label file, validating magic number and length. */
export function parseIdxLabels(data: Uint8Array, file: string): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = data.length >= 4 ? view.getUint32(0) : undefined;
  if (magic !== undefined && magic !== LABELS_MAGIC) {
    const hint = magic === IMAGES_MAGIC ? ' (this is an images file)' : '';
    throw new DataError(`IDX file ${file} has magic number ${hex(magic)}, expected ${hex(LABELS_MAGIC)} for unsigned-byte labels${hint}; pass an …-labels-idx1-ubyte file`);
  }
  if (data.length < 8) {
    throw new DataError(`IDX file ${file} is too short for a label header (${bytes(data.length)}, need 8); re-download or check the path`);
  }
  const count = view.getUint32(4);
  const have = data.length - 8;
  if (have !== count) {
    const what = have < count ? 'is truncated' : 'has trailing data';
    throw new DataError(`IDX file ${file} ${what}: header says ${count} labels but ${bytes(have)} follow; re-download or check the path`);
  }
  return data.slice(8);
}

/**
 * Loads an IDX image file (gzipped or not) as a 1-channel dataset in [0, 1], with labels from
 * `labelsFile` when given; a different image and label count is an error. Each file may hold at
 * most `limits.maxDataBytes` once gunzipped.
 */
export function loadIdx(imagesFile: string, labelsFile?: string, name: string = imagesFile, limits: InputLimits = DEFAULT_LIMITS): ImageDataset {
  const img = parseIdxImages(readMaybeGzipped(imagesFile, 'IDX images file', limits), imagesFile);
  let labels: Uint8Array | undefined;
  if (labelsFile !== undefined) {
    labels = parseIdxLabels(readMaybeGzipped(labelsFile, 'IDX labels file', limits), labelsFile);
    if (labels.length !== img.count) {
      throw new DataError(`IDX files disagree: ${imagesFile} has ${img.count} images but ${labelsFile} has ${labels.length} labels; use matching images and labels files`);
    }
  }
  return makeDataset({
    images: unitFromBytes(img.pixels),
    count: img.count,
    channels: 1,
    height: img.height,
    width: img.width,
    name,
    labels,
  });
}

export interface IdxFilePair {
  readonly images: string;
  readonly labels?: string | undefined;
}

export interface IdxDirectory {
  readonly train?: IdxFilePair | undefined;
  readonly test?: IdxFilePair | undefined;
}

/**
 * `train-images-idx3-ubyte`, `t10k-images.idx3-ubyte.gz`, `emnist-digits-test-images-idx3-ubyte`:
 * the split word, then images/labels, then the idx suffix with `-` or `.`, optionally gzipped.
 */
const IDX_NAME = /(?:^|[-_.])(train|t10k|test)-(images|labels)[-.](idx3|idx1)-ubyte(?:\.gz)?$/i;

/** Finds the train / test IDX image and label files in a directory (non-recursive). */
export function findIdxFiles(dir: string): IdxDirectory {
  const found: Record<'train' | 'test', { images?: string; labels?: string }> = { train: {}, test: {} };
  // Sorted so that, should both `x` and `x.gz` exist, the choice does not depend on the file system.
  for (const entry of readdirSync(dir).sort()) {
    const m = IDX_NAME.exec(entry);
    if (m === null) continue;
    const split = m[1].toLowerCase() === 'train' ? 'train' : 'test';
    const kind = m[2].toLowerCase() as 'images' | 'labels';
    if ((kind === 'images') !== (m[3].toLowerCase() === 'idx3')) continue;
    found[split][kind] ??= join(dir, entry);
  }
  const pair = (p: { images?: string; labels?: string }, split: string): IdxFilePair | undefined => {
    if (p.images === undefined) {
      if (p.labels !== undefined) {
        throw new DataError(`directory ${dir} has the IDX labels file ${p.labels} but no ${split} images file; add the matching …-images-idx3-ubyte file`);
      }
      return undefined;
    }
    return { images: p.images, labels: p.labels };
  };
  return { train: pair(found.train, 'train'), test: pair(found.test, 'test') };
}

/** For a single images file, the labels file next to it (`images-idx3` → `labels-idx1`), if any. */
export function labelsFileFor(imagesFile: string): string | undefined {
  const candidate = imagesFile.replace(/images([-.])idx3/i, 'labels$1idx1');
  return candidate === imagesFile ? undefined : candidate;
}

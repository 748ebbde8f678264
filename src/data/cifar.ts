/**
 * CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records of
 * 1 label byte (0–9) followed by 3072 pixel bytes, the 32×32 red plane, then green, then blue —
 * already the CHW layout we keep.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { concatDatasets, makeDataset, unitFromBytes, type ImageDataset } from './dataset.js';
import { bytes, DataError } from './errors.js';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { pathKind, readDataFile } from './read-file.js';

const SIDE = 32;
const PIXELS = 3 * SIDE * SIDE;
const RECORD = 1 + PIXELS;

/** The CIFAR-10 class names, indexed by label. */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** Parses one CIFAR-10 binary batch into a 3×32×32 dataset with labels. */
export function parseCifarBatch(data: Uint8Array, file: string): ImageDataset {
  if (data.length === 0 || data.length % RECORD !== 0) {
    const hint = data.length > 0 && data.length % (RECORD + 1) === 0
      ? ' (it looks like CIFAR-100, whose records carry 2 label bytes; only CIFAR-10 is supported)'
      : '';
    throw new DataError(`CIFAR-10 file ${file} has ${bytes(data.length)}, not a positive multiple of the ${RECORD}-byte record (1 label + 3×32×32 pixels)${hint}; re-download the binary version or check the path`);
  }
  const count = data.length / RECORD;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * PIXELS);
  for (let r = 0; r < count; r++) {
    const label = data[r * RECORD];
    if (label > 9) {
      throw new DataError(`CIFAR-10 file ${file} has label ${label} in record ${r}, expected 0–9; is it really a CIFAR-10 binary batch? re-download it`);
    }
    labels[r] = label;
    pixels.set(data.subarray(r * RECORD + 1, (r + 1) * RECORD), r * PIXELS);
  }
  return makeDataset({
    images: unitFromBytes(pixels),
    count,
    channels: 3,
    height: SIDE,
    width: SIDE,
    labels,
    classNames: CIFAR10_CLASSES,
    name: basename(file),
  });
}

/** Loads and concatenates CIFAR-10 batch files, in the given order; each may hold at most `limits.maxDataBytes`. */
export function loadCifarFiles(files: readonly string[], name: string, limits: InputLimits = DEFAULT_LIMITS): ImageDataset {
  const parts = files.map((f) => parseCifarBatch(readDataFile(f, 'CIFAR-10 file', limits), f));
  const ds = parts.length === 1 ? { ...parts[0], name } : concatDatasets(parts, name);
  return { ...ds, classNames: CIFAR10_CLASSES };
}

export interface CifarDirectory {
  /** data_batch_1.bin … in numeric order. */
  readonly train: readonly string[];
  /** test_batch.bin, when present. */
  readonly test?: string | undefined;
}

/**
 * Finds CIFAR-10 batches in a directory, or in its `cifar-10-batches-bin` subdirectory (the layout
 * of the extracted official archive). Returns undefined when there are none.
 */
export function findCifarFiles(dir: string): CifarDirectory | undefined {
  const nested = join(dir, 'cifar-10-batches-bin');
  const where = pathKind(nested) === 'directory' ? nested : dir;
  const train: { n: number; file: string }[] = [];
  let test: string | undefined;
  for (const entry of readdirSync(where)) {
    const m = /^data_batch_(\d+)\.bin$/.exec(entry);
    if (m !== null) train.push({ n: Number(m[1]), file: join(where, entry) });
    else if (entry === 'test_batch.bin') test = join(where, entry);
  }
  if (train.length === 0 && test === undefined) return undefined;
  train.sort((a, b) => a.n - b.n);
  return { train: train.map((t) => t.file), test };
}

/**
 * The in-memory image dataset every loader returns, and small helpers on it. Images are float32
 * NCHW in [0, 1] (one contiguous array), which is exactly the layout of a model input batch, so a
 * batch is a memcpy of rows.
 */
import { Rng } from '../init/rng.js';
import { DataError } from './errors.js';

export interface ImageDataset {
  /** count × channels × height × width values in [0, 1]. */
  readonly images: Float32Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** One class index per image, when the source has labels. */
  readonly labels?: Uint8Array | undefined;
  /** Class names indexed by label, when the source names its classes (image folders). */
  readonly classNames?: readonly string[] | undefined;
  /** Human-readable origin, e.g. `mnist-bundled/train`. */
  readonly name: string;
}

export interface DatasetFields {
  images: Float32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  labels?: Uint8Array | undefined;
  classNames?: readonly string[] | undefined;
  name: string;
}

/**
 * Builds a dataset after checking that the array lengths agree with the shape, so a loader bug
 * surfaces at load time rather than as a shape error inside ONNX Runtime.
 */
export function makeDataset(fields: DatasetFields): ImageDataset {
  const { images, count, channels, height, width, labels, name } = fields;
  for (const [k, v] of [['count', count], ['channels', channels], ['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new DataError(`dataset ${name}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (images.length !== count * channels * height * width) {
    throw new DataError(
      `dataset ${name}: ${images.length} values do not match ${count} images of ${channels}×${height}×${width}`,
    );
  }
  if (labels !== undefined && labels.length !== count) {
    throw new DataError(`dataset ${name}: ${labels.length} labels for ${count} images`);
  }
  return { images, count, channels, height, width, name, labels, classNames: fields.classNames };
}

/** Number of float values in one image (channels × height × width). */
export function imageSize(ds: ImageDataset): number {
  return ds.channels * ds.height * ds.width;
}

/** Image i as a CHW view into the dataset (no copy; do not write to it). */
export function imageAt(ds: ImageDataset, i: number): Float32Array {
  if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
    throw new RangeError(`imageAt: index ${i} is out of range for ${ds.name} (${ds.count} images)`);
  }
  const n = imageSize(ds);
  return ds.images.subarray(i * n, (i + 1) * n);
}

/** A new dataset holding copies of the given images, in the given order. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name: string = ds.name): ImageDataset {
  const n = imageSize(ds);
  const images = new Float32Array(indices.length * n);
  const labels = ds.labels !== undefined ? new Uint8Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new RangeError(`subset: index ${i} is out of range for ${ds.name} (${ds.count} images)`);
    }
    images.set(ds.images.subarray(i * n, (i + 1) * n), k * n);
    if (labels !== undefined) labels[k] = ds.labels![i];
  }
  return makeDataset({
    images,
    count: indices.length,
    channels: ds.channels,
    height: ds.height,
    width: ds.width,
    name,
    labels,
    classNames: ds.classNames,
  });
}

/**
 * A fixed random split: `testCount` images chosen by a permutation seeded with `seed` go to test,
 * the rest to train. Each part keeps the original relative order (so the split is a pure function
 * of the dataset, testCount and seed).
 */
export function splitTrainTest(
  ds: ImageDataset,
  testCount: number,
  seed: number,
): { train: ImageDataset; test: ImageDataset } {
  if (!Number.isInteger(testCount) || testCount < 0 || testCount > ds.count) {
    throw new DataError(
      `cannot hold out ${testCount} test images from ${ds.name}, which has ${ds.count}; choose a test count between 0 and ${ds.count}`,
    );
  }
  const perm = new Rng(seed).permutation(ds.count);
  const testIdx = perm.slice(0, testCount).sort();
  const trainIdx = perm.slice(testCount).sort();
  return { train: subset(ds, trainIdx, `${ds.name}/train`), test: subset(ds, testIdx, `${ds.name}/test`) };
}

/** Concatenates datasets of the same image shape (e.g. the five CIFAR-10 training batches). */
export function concatDatasets(parts: readonly ImageDataset[], name: string): ImageDataset {
  if (parts.length === 0) throw new DataError(`dataset ${name}: nothing to concatenate`);
  const first = parts[0];
  const n = imageSize(first);
  let count = 0;
  for (const p of parts) {
    if (p.channels !== first.channels || p.height !== first.height || p.width !== first.width) {
      throw new DataError(
        `cannot combine ${p.name} (${p.channels}×${p.height}×${p.width}) with ${first.name} (${first.channels}×${first.height}×${first.width}); all parts need the same image size`,
      );
    }
    count += p.count;
  }
  const images = new Float32Array(count * n);
  const allLabelled = parts.every((p) => p.labels !== undefined);
  const labels = allLabelled ? new Uint8Array(count) : undefined;
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * n);
    if (labels !== undefined) labels.set(p.labels!, at);
    at += p.count;
  }
  return makeDataset({
    images,
    count,
    channels: first.channels,
    height: first.height,
    width: first.width,
    name,
    labels,
  });
}

/** One line such as `mnist-bundled/train: 9000 images, 1×28×28, labels 0–9`. */
export function describe(ds: ImageDataset): string {
  let text = `${ds.name}: ${ds.count} images, ${ds.channels}×${ds.height}×${ds.width}`;
  if (ds.labels !== undefined && ds.count > 0) {
    let lo = 255, hi = 0;
    for (const l of ds.labels) { if (l < lo) lo = l; if (l > hi) hi = l; }
    text += `, labels ${lo}–${hi}`;
  } else {
    text += ', unlabelled';
  }
  return text;
}

/** Bytes 0–255 → float32 in [0, 1] (v / 255), the scaling every 8-bit source uses. */
export function unitFromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

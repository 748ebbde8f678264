/**
 * The train and test sets of a run: loaded by path or dataset name (named-datasets.ts), or the
 * bundled MNIST digits; optionally limited for quick runs, and described in the trainer state so
 * resume and eval find them again.
 */
import { resolve } from 'node:path';
import { loadDataset, loadDatasetSplit, subset, type ImageDataset, type LoadOptions } from './index.js';
import { Rng } from '../init/rng.js';
import { locateDataset } from './named-datasets.js';
import type { InputLimits } from '../limits/input-limits.js';
import type { ImageShape } from '../models/model.js';

/** Seed of the permutation that picks a limited subset; fixed so a limit means the same images in every run. */
const LIMIT_SEED = 0;

/**
 * The first `limit` images of a fixed seeded permutation, in their original order. Not simply the
 * first `limit` images: sources may be sorted by class (the bundled MNIST split is), and a quick run
 * on 300 zeros would say nothing.
 */
function limitDataset(ds: ImageDataset, limit: number | undefined, what: string): ImageDataset {
  if (limit === undefined || limit >= ds.count) return ds;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${what} limit must be a positive integer, got ${limit}`);
  const picked = new Rng(LIMIT_SEED).permutation(ds.count).slice(0, limit).sort();
  return subset(ds, picked, `${ds.name}[${limit}]`);
}

export interface RunData {
  readonly train: ImageDataset;
  readonly test: ImageDataset;
  /** Absolute dataset path (a dataset name resolved to where it is installed), or null for the bundled MNIST digits. */
  readonly path: string | null;
}

function loadOptions(shape: Partial<ImageShape> | undefined, imageSize: number | undefined, limits: InputLimits | undefined): LoadOptions {
  const size = imageSize ?? (shape?.height !== undefined && shape.width !== undefined ? { height: shape.height, width: shape.width } : undefined);
  const channels = shape?.channels === 1 || shape?.channels === 3 ? shape.channels : undefined;
  return { size, channels, limits };
}

/**
 * Load train and test sets. `shape` (from a checkpoint) resizes/converts to the model's input;
 * `imageSize` sets the size for sources that need one (image folders); `limits` caps what each file may declare.
 */
export function loadRunData(path: string | undefined, o: { trainLimit?: number | undefined; testLimit?: number | undefined; shape?: ImageShape | undefined; imageSize?: number | undefined; limits?: InputLimits | undefined }): RunData {
  const absolute = path === undefined ? null : resolve(locateDataset(path));
  const { train, test } = loadDataset(absolute ?? undefined, loadOptions(o.shape, o.imageSize, o.limits));
  return { train: limitDataset(train, o.trainLimit, 'train'), test: limitDataset(test, o.testLimit, 'test'), path: absolute };
}

/**
 * One split for evaluation, shaped for a model with input `shape`: the test set, or the training
 * set (utilization over every training latent, as the SimVQ paper counts it over a whole split).
 * `limit` picks the same seeded subset as `loadRunData` does for that split.
 */
export function loadEvalSet(path: string | null | undefined, shape: ImageShape, split: 'train' | 'test', limit?: number, limits?: InputLimits): ImageDataset {
  const set = loadDatasetSplit(path == null ? undefined : locateDataset(path), split, loadOptions(shape, undefined, limits));
  return limitDataset(set, limit, split);
}

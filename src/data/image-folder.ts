/**
 * A directory tree of PNG / JPEG images as a dataset: every image is decoded, converted to RGB or
 * grayscale and resized to one size (box filter when shrinking, bilinear when enlarging). Every
 * file is sized from its header, and the whole dataset against the byte cap, before the first
 * image is decoded, so a decompression bomb anywhere in the folder costs nothing. Files are
 * taken in path order so the dataset is the same on every machine. When every image sits in a
 * subfolder, the subfolder directly under the root names its class (the torchvision ImageFolder
 * convention) and becomes the label.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { makeDataset, type ImageDataset } from './dataset.js';
import { planarFromRgba } from '../images/channels.js';
import { decodeImage, type RgbaImage } from '../images/decode.js';
import { ImageError } from '../images/image-error.js';
import { readImageFileHeader } from '../images/image-file-header.js';
import { checkImagePixels } from '../images/image-header.js';
import { DEFAULT_LIMITS, limitExceeded, type InputLimits } from '../limits/input-limits.js';
import { DataError } from './errors.js';
import { pathKind, readDataFile } from './read-file.js';
import { resizeImage } from '../images/resize.js';

/** File extensions picked up from an image folder (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

export interface ImageFolderOptions {
  /** Output size: a number for square images, or explicit height and width. */
  readonly size: number | { readonly height: number; readonly width: number };
  /** 3 = RGB (default), 1 = grayscale (BT.601 luma). */
  readonly channels?: 1 | 3 | undefined;
  /**
   * Derive labels from the subfolder names (default true). Labels are only produced when every
   * image lies in a subfolder and there are at most 256 classes (labels are bytes).
   */
  readonly labels?: boolean | undefined;
  /** Dataset name; defaults to the directory path. */
  readonly name?: string | undefined;
  /** Caps on each file's pixels and on the dataset's bytes (default DEFAULT_LIMITS). */
  readonly limits?: InputLimits | undefined;
}

/** Normalizes a size option to positive integer height and width, or throws a DataError. */
export function parseSize(size: ImageFolderOptions['size']): { height: number; width: number } {
  const { height, width } = typeof size === 'number' ? { height: size, width: size } : size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new DataError(`image size must be a positive integer (or height and width), got ${typeof size === 'number' ? size : `${height}×${width}`}; pass e.g. size 32`);
  }
  return { height, width };
}

/**
 * All PNG/JPEG files under `dir`, recursively, as paths relative to `dir` with `/` separators,
 * sorted by UTF-16 code units (not locale) for determinism. Hidden entries (dot-files) are skipped.
 */
export function listImageFiles(dir: string): string[] {
  const found: string[] = [];
  const visited = new Set<string>();
  const walk = (d: string): void => {
    // Symbolic links are followed; remembering real paths stops a link cycle from looping forever.
    const real = realpathSync(d);
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(d, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = statSync(full);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch {
          continue; // a dangling link is not an image
        }
      }
      if (isDir) walk(full);
      else if (isFile && IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        found.push(relative(dir, full).split(sep).join('/'));
      }
    }
  };
  walk(dir);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Loads every PNG/JPEG under `dir` (recursively) as one dataset of the requested size and colour. */
export function loadImageFolder(dir: string, options: ImageFolderOptions): ImageDataset {
  const kind = pathKind(dir);
  if (kind === undefined) throw new DataError(`image folder ${dir} does not exist; check the path`);
  if (kind !== 'directory') throw new DataError(`image folder ${dir} is a file, expected a directory of PNG/JPEG images; check the path`);
  const { height, width } = parseSize(options.size);
  const channels = options.channels ?? 3;
  const files = listImageFiles(dir);
  if (files.length === 0) {
    throw new DataError(`image folder ${dir} contains no images (looked for ${IMAGE_EXTENSIONS.join(', ')} files, recursively); add images or check the path`);
  }

  const limits = options.limits ?? DEFAULT_LIMITS;
  const perImage = channels * height * width;
  const datasetBytes = files.length * perImage * Float32Array.BYTES_PER_ELEMENT;
  if (datasetBytes > limits.maxDataBytes) {
    throw new DataError(limitExceeded(`image folder ${dir}`, 'maxDataBytes', datasetBytes, limits, `${files.length} images of ${channels}×${height}×${width} float32`));
  }
  for (const rel of files) sizeFolderImage(join(dir, rel), limits);
  const images = new Float32Array(files.length * perImage);
  files.forEach((rel, i) => {
    const decoded = decodeFolderImage(join(dir, rel), limits);
    const planar = planarFromRgba(decoded, channels);
    const sized = decoded.height === height && decoded.width === width
      ? planar
      : resizeImage(planar, channels, decoded.height, decoded.width, height, width);
    images.set(sized, i * perImage);
  });

  const labelled = labelsFromSubfolders(files, options.labels ?? true);
  return makeDataset({
    images,
    count: files.length,
    channels,
    height,
    width,
    name: options.name ?? dir,
    labels: labelled?.labels,
    classNames: labelled?.classNames,
  });
}

/** An ImageError of one file in the folder, with the advice to remove it added. */
function folderImageError(err: unknown): unknown {
  return err instanceof ImageError ? new DataError(`${err.message} or remove it from the folder`) : err;
}

/** Refuses a file of the folder that declares more than `limits.maxPixels`, from its header alone. */
function sizeFolderImage(file: string, limits: InputLimits): void {
  try {
    checkImagePixels(readImageFileHeader(file), file, limits);
  } catch (err) {
    throw folderImageError(err);
  }
}

/** One image of the folder; a bad one is named with the advice to fix or remove it. */
function decodeFolderImage(file: string, limits: InputLimits): RgbaImage {
  try {
    return decodeImage(readDataFile(file, 'image', limits), file, limits);
  } catch (err) {
    throw folderImageError(err);
  }
}

/** Labels = index of the first path component among the sorted subfolder names, when all have one. */
function labelsFromSubfolders(
  files: readonly string[],
  wanted: boolean,
): { labels: Uint8Array; classNames: string[] } | undefined {
  if (!wanted || files.some((f) => !f.includes('/'))) return undefined;
  const classOf = files.map((f) => f.slice(0, f.indexOf('/')));
  const classNames = [...new Set(classOf)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classNames.length > 256) return undefined;
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { labels: Uint8Array.from(classOf, (c) => index.get(c)!), classNames };
}

/**
 * Reading PNG/JPEG files into float images in [0, 1] and writing PNGs, for the tokenizer CLI and
 * the evaluation grid. Images are held as planar CHW float32 (one image of an NCHW batch).
 *
 * Channels are taken from the file's declared colour type: a grayscale PNG or a one-component JPEG
 * has 1 channel, a colour one 3. Alpha is dropped (the models have no alpha channel).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { resizeImage } from '../data/resize.js';
import type { ImageShape } from '../models/model.js';

export interface LoadedImage extends ImageShape {
  /** Planar CHW values in [0, 1]. */
  readonly pixels: Float32Array;
}

/** An image file that cannot be used as model input; the message names file, expected and found. */
export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

/** RGBA bytes (4 per pixel) → planar float channels (1 = the red/gray plane, or 3 = RGB). */
function planarFromRgba(rgba: Uint8Array, height: number, width: number, channels: 1 | 3): Float32Array {
  const plane = height * width;
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = rgba[4 * i + c]! / 255;
  }
  return out;
}

/** The component count of a baseline/progressive JPEG, from its SOF marker (jpeg-js always returns RGBA). */
function jpegComponents(bytes: Uint8Array, file: string): number {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) throw new ImageInputError(`${file}: corrupt JPEG (bad marker at byte ${i})`);
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame header.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9]!;
    i += 2 + length;
  }
  throw new ImageInputError(`${file}: corrupt JPEG (no frame header)`);
}

export function readImageFile(file: string): LoadedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ImageInputError(`cannot read image ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const isPng = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (isPng) {
    let png;
    try {
      png = PNG.sync.read(bytes);
    } catch (err) {
      throw new ImageInputError(`${file}: corrupt PNG (${err instanceof Error ? err.message : String(err)})`);
    }
    const channels = png.color ? 3 : 1;
    return { channels, height: png.height, width: png.width, pixels: planarFromRgba(png.data, png.height, png.width, channels) };
  }
  if (isJpeg) {
    const components = jpegComponents(bytes, file);
    let decoded;
    try {
      decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    } catch (err) {
      throw new ImageInputError(`${file}: corrupt JPEG (${err instanceof Error ? err.message : String(err)})`);
    }
    const channels = components === 1 ? 1 : 3;
    return { channels, height: decoded.height, width: decoded.width, pixels: planarFromRgba(decoded.data, decoded.height, decoded.width, channels) };
  }
  throw new ImageInputError(`${file} is neither PNG nor JPEG (extension '${extname(file) || 'none'}'); give PNG or JPEG images`);
}

/** Resize to height × width with the data loaders' resampler (box filter shrinking, bilinear growing). */
export function resizeTo(image: LoadedImage, height: number, width: number): LoadedImage {
  if (image.height === height && image.width === width) return image;
  return { channels: image.channels, height, width, pixels: resizeImage(image.pixels, image.channels, image.height, image.width, height, width) };
}

/** 1 → 3 channels by repetition, 3 → 1 by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B). */
export function convertChannels(image: LoadedImage, channels: number): LoadedImage {
  if (image.channels === channels) return image;
  const plane = image.height * image.width;
  const out = new Float32Array(channels * plane);
  if (image.channels === 1 && channels === 3) {
    for (let c = 0; c < 3; c++) out.set(image.pixels, c * plane);
  } else if (image.channels === 3 && channels === 1) {
    const p = image.pixels;
    for (let i = 0; i < plane; i++) out[i] = 0.299 * p[i]! + 0.587 * p[plane + i]! + 0.114 * p[2 * plane + i]!;
  } else {
    throw new ImageInputError(`cannot convert ${image.channels}-channel images to ${channels} channels`);
  }
  return { channels, height: image.height, width: image.width, pixels: out };
}

const describeChannels = (c: number): string => (c === 1 ? '1 channel (grayscale)' : c === 3 ? '3 channels (RGB)' : `${c} channels`);

/**
 * Read an image for a model with input `shape`: exact size and channels are required unless `fit`
 * (then the image is resized and converted between grayscale and RGB).
 */
export function readModelInput(file: string, shape: ImageShape, fit = false): Float32Array {
  let image = readImageFile(file);
  if (fit) {
    image = convertChannels(resizeTo(image, shape.height, shape.width), shape.channels);
    return image.pixels;
  }
  if (image.height !== shape.height || image.width !== shape.width) {
    throw new ImageInputError(`${file} is ${image.width}×${image.height} pixels but the model expects ${shape.width}×${shape.height}; resize it or pass --fit`);
  }
  if (image.channels !== shape.channels) {
    throw new ImageInputError(`${file} has ${describeChannels(image.channels)} but the model expects ${describeChannels(shape.channels)}; convert it or pass --fit`);
  }
  return image.pixels;
}

/** Encode planar CHW values (clamped to [0, 1]) as an 8-bit PNG: grayscale for 1 channel, RGB for 3. */
export function encodePng(pixels: Float32Array, shape: ImageShape): Buffer {
  const { channels, height, width } = shape;
  if (channels !== 1 && channels !== 3) throw new Error(`PNG output needs 1 or 3 channels, got ${channels}`);
  const png = new PNG({ width, height });
  const plane = height * width;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[(channels === 1 ? 0 : c) * plane + i]!;
      png.data[4 * i + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png, channels === 1 ? { colorType: 0 } : { colorType: 2 });
}

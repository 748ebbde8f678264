/**
 * Channel layouts of float images: RGBA bytes to planar (CHW) floats in [0, 1], and planar
 * grayscale ↔ RGB. Grayscale from colour is the ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B (as
 * PIL's "L" mode); alpha is ignored because the models have no alpha channel.
 */
import type { RgbaImage } from './decode.js';

/** A planar CHW float image, one image of an NCHW batch. */
export interface PlanarImage {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** channels × height × width values in [0, 1]. */
  readonly pixels: Float32Array;
}

/**
 * RGBA bytes → planar float in [0, 1]: 3 channels = R, G, B planes; 1 channel = BT.601 luma. The
 * luma is computed in integer thousandths so a gray pixel (R = G = B) maps exactly to its own value.
 */
export function planarFromRgba(img: RgbaImage, channels: 1 | 3): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(channels * plane);
  const px = img.rgba;
  if (channels === 3) {
    for (let i = 0; i < plane; i++) {
      out[i] = px[4 * i]! / 255;
      out[plane + i] = px[4 * i + 1]! / 255;
      out[2 * plane + i] = px[4 * i + 2]! / 255;
    }
  } else {
    for (let i = 0; i < plane; i++) {
      out[i] = (299 * px[4 * i]! + 587 * px[4 * i + 1]! + 114 * px[4 * i + 2]!) / 255000;
    }
  }
  return out;
}

/**
 * Planar pixels of `plane` = height × width positions converted from `from` to `to` channels:
 * 1 → 3 repeats the gray plane, 3 → 1 takes the BT.601 luma. Other counts cannot be converted.
 */
export function convertPlanarChannels(pixels: Float32Array, plane: number, from: number, to: number): Float32Array {
  if (from === to) return pixels;
  const out = new Float32Array(to * plane);
  if (from === 1 && to === 3) {
    for (let c = 0; c < 3; c++) out.set(pixels.subarray(0, plane), c * plane);
  } else if (from === 3 && to === 1) {
    for (let p = 0; p < plane; p++) out[p] = 0.299 * pixels[p]! + 0.587 * pixels[plane + p]! + 0.114 * pixels[2 * plane + p]!;
  } else {
    throw new RangeError(`cannot convert ${from}-channel images to ${to} channels; only 1 (grayscale) and 3 (RGB) convert`);
  }
  return out;
}

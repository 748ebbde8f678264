/**
 * Reading image files as input for a model of a given shape: the file must match the model's size
 * and channels exactly, unless the caller asks to fit it (resize, and convert between grayscale and
 * RGB). Channels are the ones the file declares: a grayscale PNG or a one-component JPEG has 1.
 */
import { convertPlanarChannels, planarFromRgba } from '../../images/channels.js';
import { readImageFile } from '../../images/decode.js';
import { ImageError } from '../../images/image-error.js';
import { resizeImage } from '../../images/resize.js';
import type { InputLimits } from '../../limits/input-limits.js';
import type { ImageShape } from '../../models/model.js';

const describeChannels = (c: number): string => (c === 1 ? '1 channel (grayscale)' : c === 3 ? '3 channels (RGB)' : `${c} channels`);

/**
 * Planar CHW pixels in [0, 1] of `file` for a model with input `shape`: exact size and channels
 * are required unless `fit` (then the image is resized and its channels converted). A file that
 * declares more than `limits.maxPixels` is refused before it is decoded.
 */
export function readModelInput(file: string, shape: ImageShape, fit: boolean, limits: InputLimits): Float32Array {
  const image = readImageFile(file, limits);
  let pixels = planarFromRgba(image, image.channels);
  if (fit) {
    if (image.height !== shape.height || image.width !== shape.width) {
      pixels = resizeImage(pixels, image.channels, image.height, image.width, shape.height, shape.width);
    }
    return convertPlanarChannels(pixels, shape.height * shape.width, image.channels, shape.channels);
  }
  if (image.height !== shape.height || image.width !== shape.width) {
    throw new ImageError(`${file} is ${image.width}×${image.height} pixels but the model expects ${shape.width}×${shape.height}; resize it or pass --fit`);
  }
  if (image.channels !== shape.channels) {
    throw new ImageError(`${file} has ${describeChannels(image.channels)} but the model expects ${describeChannels(shape.channels)}; convert it or pass --fit`);
  }
  return pixels;
}

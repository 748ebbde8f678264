/**
 * Whole-dataset conversions used when a dataset's native shape differs from the one requested
 * (e.g. MNIST at 32×32, or CIFAR-10 in grayscale).
 */
import { imageAt, makeDataset, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';
import { convertPlanarChannels } from '../images/channels.js';
import { resizeImage } from '../images/resize.js';

/** Every image resized to height × width (box filter when shrinking, bilinear when enlarging). */
export function resizeDataset(ds: ImageDataset, height: number, width: number): ImageDataset {
  if (ds.height === height && ds.width === width) return ds;
  const per = ds.channels * height * width;
  const images = new Float32Array(ds.count * per);
  for (let i = 0; i < ds.count; i++) {
    images.set(resizeImage(imageAt(ds, i), ds.channels, ds.height, ds.width, height, width), i * per);
  }
  return makeDataset({ ...ds, images, height, width });
}

/**
 * Converts between grayscale and RGB: 1 → 3 repeats the gray plane, 3 → 1 takes the BT.601 luma
 * (0.299 R + 0.587 G + 0.114 B), the rules of the images module.
 */
export function convertChannels(ds: ImageDataset, channels: 1 | 3): ImageDataset {
  if (ds.channels === channels) return ds;
  if (ds.channels !== 1 && ds.channels !== 3) {
    throw new DataError(`dataset ${ds.name} has ${ds.channels} channels; only 1 (grayscale) and 3 (RGB) can be converted`);
  }
  const plane = ds.height * ds.width;
  const images = new Float32Array(ds.count * channels * plane);
  for (let i = 0; i < ds.count; i++) {
    images.set(convertPlanarChannels(imageAt(ds, i), plane, ds.channels, channels), i * channels * plane);
  }
  return makeDataset({ ...ds, images, channels });
}

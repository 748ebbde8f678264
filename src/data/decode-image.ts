/**
 * Decoding one PNG or JPEG file to 8-bit RGBA with the pure-JS decoders pngjs and jpeg-js, and
 * turning RGBA into planar float RGB or grayscale. The format is taken from the file's magic bytes,
 * not its extension, so a mislabelled file still decodes.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from './errors.js';
import { readDataFile } from './read-file.js';

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes, row-major RGBA. */
  readonly rgba: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png', 'jpeg', or undefined, from the first bytes of a file. */
export function sniffImageFormat(data: Uint8Array): 'png' | 'jpeg' | undefined {
  if (data.length >= 8 && PNG_MAGIC.every((b, i) => data[i] === b)) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Reads and decodes a PNG or JPEG file to RGBA (16-bit PNGs are scaled to 8 bits by pngjs). */
export function decodeImageFile(file: string): RgbaImage {
  const data = readDataFile(file, 'image');
  const format = sniffImageFormat(data);
  if (format === undefined) {
    throw new DataError(`image ${file} is neither a PNG nor a JPEG (unrecognised first bytes); convert it to PNG or remove it from the folder`);
  }
  try {
    if (format === 'png') {
      const png = PNG.sync.read(data);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    // useTArray: a plain Uint8Array instead of a Buffer; RGBA so both decoders share one layout.
    const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: true });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`image ${file} cannot be decoded as ${format.toUpperCase()} (${reason}); re-export it or remove it from the folder`);
  }
}

/**
 * RGBA bytes → planar float in [0, 1]: 3 channels = R, G, B planes; 1 channel = BT.601 luma
 * (0.299 R + 0.587 G + 0.114 B, as PIL's "L" mode). Alpha is ignored: the models have no alpha
 * channel. The luma is computed in integer thousandths so a gray pixel (R = G = B) maps exactly to
 * its own value.
 */
export function planarFromRgba(img: RgbaImage, channels: 1 | 3): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(channels * plane);
  const px = img.rgba;
  if (channels === 3) {
    for (let i = 0; i < plane; i++) {
      out[i] = px[4 * i] / 255;
      out[plane + i] = px[4 * i + 1] / 255;
      out[2 * plane + i] = px[4 * i + 2] / 255;
    }
  } else {
    for (let i = 0; i < plane; i++) {
      out[i] = (299 * px[4 * i] + 587 * px[4 * i + 1] + 114 * px[4 * i + 2]) / 255000;
    }
  }
  return out;
}

/**
 * The size an image file declares, read from its header alone, so that a file can be refused
 * before a decoder allocates anything for it: an 875 KB PNG may declare 30,000 × 30,000 pixels,
 * and a decoder sizes its buffers from the header. Pure (no node: imports), so the browser page
 * runs the same checks on dropped files.
 *
 * PNG (ISO/IEC 15948, §5.2–5.3 and §11.2.2): the 8-byte signature, then the IHDR chunk, which
 * must come first: length 13 (bytes 8–12), type "IHDR" (12–16), width (16–20) and height (20–24)
 * big-endian, bit depth (24), colour type (25).
 *
 * JPEG (ITU-T T.81, §B.1.1 and §B.2.2): SOI (FF D8), then marker segments, each FF, a marker
 * byte and a 2-byte big-endian length that counts itself; the frame header (SOFn) holds sample
 * precision, lines Y, samples per line X and the component count Nf.
 */
import { limitExceeded, type InputLimits } from '../limits/input-limits.js';
import { ImageError } from './image-error.js';

export interface ImageHeader {
  readonly format: 'png' | 'jpeg';
  readonly width: number;
  readonly height: number;
  /** Channels the file declares: 1 for grayscale, 3 for colour (alpha is not counted). */
  readonly channels: 1 | 3;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** "IHDR" in ASCII. */
const IHDR = [0x49, 0x48, 0x44, 0x52];
/** PNG colour types (§11.2.2): 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA; bit 2 means colour. */
const PNG_COLOUR_TYPES = [0, 2, 3, 4, 6];
/** PNG widths and heights are at most 2³¹ − 1 (§11.2.2). */
const PNG_MAX_SIDE = 2 ** 31 - 1;

/** 'png', 'jpeg', or undefined, from the first bytes of a file (SOI marker and the next marker's 0xff). */
export function sniffImageFormat(data: Uint8Array): 'png' | 'jpeg' | undefined {
  if (data.length >= 8 && PNG_SIGNATURE.every((b, i) => data[i] === b)) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * A header that ends before the size is known: the bytes given are a prefix of a longer file, or
 * the file is truncated. A reader of a file's first bytes retries with the whole file.
 */
export class TruncatedImageHeaderError extends ImageError {
  constructor(message: string) {
    super(message);
    this.name = 'TruncatedImageHeaderError';
  }
}

const u16 = (d: Uint8Array, i: number): number => (d[i]! << 8) | d[i + 1]!;
const u32 = (d: Uint8Array, i: number): number => ((d[i]! << 24) >>> 0) + ((d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!);

function pngHeader(data: Uint8Array, file: string): ImageHeader {
  if (data.length < 26) throw new TruncatedImageHeaderError(`image ${file} cannot be decoded as PNG (it ends inside its header, after ${data.length} bytes); re-export it`);
  if (u32(data, 8) !== 13 || !IHDR.every((b, i) => data[12 + i] === b)) {
    throw new ImageError(`image ${file} cannot be decoded as PNG (its first chunk is not a 13-byte IHDR); re-export it`);
  }
  const width = u32(data, 16);
  const height = u32(data, 20);
  const colourType = data[25]!;
  if (width === 0 || height === 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE) {
    throw new ImageError(`image ${file} cannot be decoded as PNG (it declares ${width}×${height} pixels; a side is 1 to 2³¹ − 1); re-export it`);
  }
  if (!PNG_COLOUR_TYPES.includes(colourType)) {
    throw new ImageError(`image ${file} cannot be decoded as PNG (colour type ${colourType}; valid: ${PNG_COLOUR_TYPES.join(', ')}); re-export it`);
  }
  return { format: 'png', width, height, channels: (colourType & 2) !== 0 ? 3 : 1 };
}

/** SOF0–SOF15 carry the frame header, except DHT (C4), JPG (C8) and DAC (CC) (T.81 Table B.1). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length: TEM (01), RST0–7 (D0–D7), SOI (D8) (T.81 §B.1.1.3). */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

function jpegHeader(data: Uint8Array, file: string): ImageHeader {
  const truncated = (): never => {
    throw new TruncatedImageHeaderError(`image ${file} cannot be decoded as JPEG (it ends before its frame header, after ${data.length} bytes); re-export it`);
  };
  let i = 2;
  for (;;) {
    if (i + 1 >= data.length) return truncated();
    if (data[i] !== 0xff) throw new ImageError(`image ${file} cannot be decoded as JPEG (bad marker at byte ${i}); re-export it`);
    const marker = data[i + 1]!;
    // Any marker may be preceded by fill bytes 0xFF (T.81 §B.1.1.2).
    if (marker === 0xff) { i++; continue; }
    if (isStandalone(marker)) { i += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) {
      throw new ImageError(`image ${file} cannot be decoded as JPEG (no frame header before its ${marker === 0xd9 ? 'end' : 'scan data'}); re-export it`);
    }
    if (i + 3 >= data.length) return truncated();
    const length = u16(data, i + 2);
    if (length < 2) throw new ImageError(`image ${file} cannot be decoded as JPEG (segment length ${length} at byte ${i}); re-export it`);
    if (isStartOfFrame(marker)) {
      if (length < 8) throw new ImageError(`image ${file} cannot be decoded as JPEG (frame header of ${length} bytes); re-export it`);
      if (i + 9 >= data.length) return truncated();
      const height = u16(data, i + 5);
      const width = u16(data, i + 7);
      const components = data[i + 9]!;
      // A height of 0 defers it to a DNL marker (T.81 §B.2.5), which the decoder does not read.
      if (width === 0 || height === 0) throw new ImageError(`image ${file} cannot be decoded as JPEG (its frame header declares ${width}×${height} pixels); re-export it`);
      if (components !== 1 && components !== 3 && components !== 4) {
        throw new ImageError(`image ${file} cannot be decoded as JPEG (${components} components; 1, 3 or 4 are readable); re-export it`);
      }
      return { format: 'jpeg', width, height, channels: components === 1 ? 1 : 3 };
    }
    i += 2 + length;
  }
}

/** Format, size and channels from a PNG's IHDR or a JPEG's frame header, without decoding. */
export function readImageHeader(data: Uint8Array, file: string): ImageHeader {
  const format = sniffImageFormat(data);
  if (format === undefined) {
    throw new ImageError(`image ${file} is neither a PNG nor a JPEG (unrecognised first bytes); convert it to PNG`);
  }
  return format === 'png' ? pngHeader(data, file) : jpegHeader(data, file);
}

/** Refuses an image that declares more than `limits.maxPixels` pixels, naming the file and the flag that raises the cap. */
export function checkImagePixels(header: ImageHeader, file: string, limits: InputLimits): void {
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new ImageError(limitExceeded(file, 'maxPixels', pixels, limits, `${header.width}×${header.height}`));
  }
}

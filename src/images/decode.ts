/**
 * Decoding one PNG or JPEG file to 8-bit RGBA with the pure-JS decoders pngjs and jpeg-js. The
 * format is taken from the file's magic bytes, not its extension, so a mislabelled file still
 * decodes. The size the header declares is checked against the pixel cap before either decoder
 * sees the bytes (image-header.ts). The channel count a file declares (a grayscale PNG or a
 * one-component JPEG has 1, a colour one 3) is reported beside the pixels, which are always RGBA.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { quotedValue } from '../limits/shown-value.js';
import { ImageError } from './image-error.js';
import { checkImagePixels, readImageHeader, type ImageHeader } from './image-header.js';

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** Channels the file declares: 1 for grayscale, 3 for colour (alpha is not counted). */
  readonly channels: 1 | 3;
  /** width × height × 4 bytes, row-major RGBA. */
  readonly rgba: Uint8Array;
}

/**
 * jpeg-js's own memory cap for an image of `pixels` pixels: per component it keeps 16-bit
 * coefficients (4 bytes per pixel, counted as 256 per 8×8 block) and an 8-bit plane, at most 4
 * components, plus the RGBA result: 4 × 5 + 4 = 24 bytes per pixel. The margin covers tables and
 * MCU padding (up to 32 × 32 pixels per component at 4 × 4 sampling).
 */
function jpegMemoryMB(pixels: number): number {
  return Math.ceil((24 * pixels) / 2 ** 20) + 16;
}

/** Samples per pixel of each PNG colour type (ISO/IEC 15948 §11.2.2). */
const PNG_SAMPLES: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7's seven passes as [x0, y0, dx, dy] (ISO/IEC 15948 §8.2). */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

/** Bytes of filtered scanlines an Adam7-interlaced PNG of this header inflates to (a filter byte per row). */
function adam7Bytes(header: ImageHeader, bitsPerPixel: number): number {
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((header.width - x0) / dx);
    const h = Math.ceil((header.height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  }
  return total;
}

/** The IDAT chunks of a PNG, concatenated; chunk lengths are bounds-checked against the file. */
function pngImageData(data: Uint8Array, file: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 8;
  while (i + 8 <= data.length) {
    const length = ((data[i]! << 24) >>> 0) + ((data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!);
    const type = String.fromCharCode(data[i + 4]!, data[i + 5]!, data[i + 6]!, data[i + 7]!);
    if (i + 12 + length > data.length) throw new ImageError(`image ${file} cannot be decoded as PNG (chunk ${quotedValue(type)} runs past the end of the file); re-export it`);
    if (type === 'IDAT') parts.push(data.subarray(i + 8, i + 8 + length));
    if (type === 'IEND') break;
    i += 12 + length;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Inflate the PNG's pixel data here first and require exactly the bytes its header implies
 * (height × (1 + row bytes), or the seven Adam7 passes), before pngjs sees the file. pngjs bounds
 * the inflation of non-interlaced images only, so a few bytes of an interlaced stream could claim
 * gigabytes; and given a stream that ends short, it unfilters past the end of what it inflated
 * into memory it never wrote (the same corrupt file decoded to different results from run to run
 * under the fuzz test). A stream that is corrupt, too long or too short is refused here instead.
 */
function checkPngPixelData(data: Uint8Array, header: ImageHeader, file: string): void {
  const bitsPerPixel = PNG_SAMPLES[data[25]!]! * data[24]!;
  const interlaced = data[28] === 1;
  const expected = interlaced ? adam7Bytes(header, bitsPerPixel) : header.height * (1 + Math.ceil((header.width * bitsPerPixel) / 8));
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(pngImageData(data, file), { maxOutputLength: expected });
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ImageError(`image ${file} holds more pixel data than its ${header.width}×${header.height} header declares; re-export it`);
    }
    throw new ImageError(`image ${file} cannot be decoded as PNG (its pixel data is corrupt: ${reasonOf(err)}); re-export it`);
  }
  if (inflated.length !== expected) {
    throw new ImageError(`image ${file} holds ${inflated.length} bytes of pixel data but its ${header.width}×${header.height} header needs ${expected} (truncated?); re-export it`);
  }
}

/**
 * Why a decoder gave up, in one line. jpeg-js dereferences tables a malformed file never defined
 * and so throws TypeErrors ("Cannot read properties of undefined") on such files; those say only
 * that the data is malformed.
 */
function reasonOf(err: unknown): string {
  if (err instanceof TypeError) return 'its data is malformed';
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

/**
 * Decodes PNG or JPEG bytes (16-bit PNGs are scaled to 8 bits by pngjs); `file` names them in
 * errors. The header is read and checked against `limits.maxPixels` before decoding starts.
 */
export function decodeImage(data: Uint8Array, file: string, limits: InputLimits = DEFAULT_LIMITS): RgbaImage {
  const header = readImageHeader(data, file);
  checkImagePixels(header, file, limits);
  if (header.format === 'png') checkPngPixelData(data, header, file);
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (header.format === 'png') {
      const png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      ({ width, height, data: rgba } = png);
    } else {
      // useTArray: a plain Uint8Array instead of a Buffer; RGBA so both decoders share one layout.
      // jpeg-js checks every frame header it meets against the same pixel cap, and its allocations against a budget for that many pixels.
      const img = jpeg.decode(data, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: limits.maxPixels / 1e6,
        maxMemoryUsageInMB: jpegMemoryMB(limits.maxPixels),
      });
      ({ width, height, data: rgba } = img);
    }
  } catch (err) {
    throw new ImageError(`image ${file} cannot be decoded as ${header.format.toUpperCase()} (${reasonOf(err)}); re-export it`);
  }
  if (width !== header.width || height !== header.height || rgba.length !== width * height * 4) {
    throw new ImageError(`image ${file} decodes to ${width}×${height} pixels but its header declares ${header.width}×${header.height}; re-export it`);
  }
  return { width, height, channels: header.channels, rgba };
}

/** Reads a whole file, with one-line errors for a missing or unreadable path. */
function readImageBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`image ${file} does not exist; check the path`);
    if (code === 'EISDIR') throw new ImageError(`image ${file} is a directory, expected a PNG or JPEG file; check the path`);
    throw new ImageError(`cannot read image ${file}: ${code ?? String(err)}; check the path and its permissions`);
  }
}

/** Reads and decodes one image file, refusing one that declares more than `limits.maxPixels`. */
export function readImageFile(file: string, limits: InputLimits = DEFAULT_LIMITS): RgbaImage {
  return decodeImage(readImageBytes(file), file, limits);
}

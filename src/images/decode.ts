/**
 * Decoding one PNG or JPEG file to 8-bit RGBA with the pure-JS decoders pngjs and jpeg-js. The
 * format is taken from the file's magic bytes, not its extension, so a mislabelled file still
 * decodes. The channel count a file declares (a grayscale PNG or a one-component JPEG has 1, a
 * colour one 3) is reported beside the pixels, which are always RGBA.
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A file that is not a readable PNG/JPEG; the one-line message names the file and the fix. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** Channels the file declares: 1 for grayscale, 3 for colour (alpha is not counted). */
  readonly channels: 1 | 3;
  /** width × height × 4 bytes, row-major RGBA. */
  readonly rgba: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png', 'jpeg', or undefined, from the first bytes of a file (SOI marker and the next marker's 0xff). */
export function sniffImageFormat(data: Uint8Array): 'png' | 'jpeg' | undefined {
  if (data.length >= 8 && PNG_MAGIC.every((b, i) => data[i] === b)) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * The component count of a baseline/progressive JPEG, read from its frame header (SOF marker),
 * because jpeg-js always returns RGBA and does not say whether the file was grayscale.
 */
function jpegComponents(bytes: Uint8Array, file: string): number {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) throw new ImageError(`image ${file} cannot be decoded as JPEG (bad marker at byte ${i}); re-export it`);
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame header.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9]!;
    i += 2 + length;
  }
  throw new ImageError(`image ${file} cannot be decoded as JPEG (no frame header); re-export it`);
}

/** Decodes PNG or JPEG bytes (16-bit PNGs are scaled to 8 bits by pngjs); `file` names them in errors. */
export function decodeImage(data: Uint8Array, file: string): RgbaImage {
  const format = sniffImageFormat(data);
  if (format === undefined) {
    throw new ImageError(`image ${file} is neither a PNG nor a JPEG (unrecognised first bytes); convert it to PNG`);
  }
  const components = format === 'jpeg' ? jpegComponents(data, file) : 0;
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { width: png.width, height: png.height, channels: png.color ? 3 : 1, rgba: png.data };
    }
    // useTArray: a plain Uint8Array instead of a Buffer; RGBA so both decoders share one layout.
    // jpeg-js's default memory limit (512 MB) is kept: it refuses absurd frame sizes before allocating.
    const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: true });
    return { width: img.width, height: img.height, channels: components === 1 ? 1 : 3, rgba: img.data };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ImageError(`image ${file} cannot be decoded as ${format.toUpperCase()} (${reason}); re-export it`);
  }
}

/** Reads and decodes one image file, with one-line errors for a missing or unreadable path. */
export function readImageFile(file: string): RgbaImage {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`image ${file} does not exist; check the path`);
    if (code === 'EISDIR') throw new ImageError(`image ${file} is a directory, expected a PNG or JPEG file; check the path`);
    throw new ImageError(`cannot read image ${file}: ${code ?? String(err)}; check the path and its permissions`);
  }
  return decodeImage(data, file);
}

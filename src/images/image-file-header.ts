/**
 * The header of an image file, read from its first bytes only, so that a loader can size every
 * file of a folder before it decodes any. A PNG's size is in its first 26 bytes; a JPEG's frame
 * header follows its APPn segments (EXIF thumbnails can fill 64 KB each), so when the first
 * 64 KiB end before it, the whole file is read.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { ImageError } from './image-error.js';
import { readImageHeader, TruncatedImageHeaderError, type ImageHeader } from './image-header.js';

const PREFIX_BYTES = 64 * 1024;

function readPrefix(file: string): { bytes: Uint8Array; whole: boolean } {
  const fd = openSync(file, 'r');
  try {
    const buffer = new Uint8Array(PREFIX_BYTES);
    const n = readSync(fd, buffer, 0, PREFIX_BYTES, 0);
    return { bytes: buffer.subarray(0, n), whole: n < PREFIX_BYTES };
  } finally {
    closeSync(fd);
  }
}

/** Format, size and channels of an image file, from its header alone (see image-header.ts). */
export function readImageFileHeader(file: string): ImageHeader {
  try {
    const { bytes, whole } = readPrefix(file);
    try {
      return readImageHeader(bytes, file);
    } catch (err) {
      if (whole || !(err instanceof TruncatedImageHeaderError)) throw err;
      return readImageHeader(readFileSync(file), file);
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`image ${file} does not exist; check the path`);
    throw new ImageError(`cannot read image ${file}: ${code ?? String(err)}; check the path and its permissions`);
  }
}

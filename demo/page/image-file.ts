/**
 * An image file the user opens in the page or drops on the drawing pad. Its declared size is read
 * from its header (a PNG's IHDR, a JPEG's frame header) and checked against the pixel cap before
 * the browser decodes it: createImageBitmap sizes its buffer from the header, so an 875 KB PNG
 * that declares 30,000 × 30,000 pixels would take 3.6 GB of RGBA and kill the tab.
 */
import { checkImagePixels, readImageHeader, TruncatedImageHeaderError, type ImageHeader, type InputLimits } from '../../dist/src/browser.js';

/**
 * How much of the file is read for its header first. A PNG's IHDR ends at byte 33; a JPEG's
 * frame header follows its APPn segments (Exif, ICC profile), each at most 64 KiB, and usually
 * lies within the first one. A header found beyond it is read from the whole file, whose size is
 * the file's own rather than one it declares.
 */
const HEADER_PREFIX_BYTES = 64 * 1024;

async function readHeader(file: File): Promise<ImageHeader> {
  const prefix = new Uint8Array(await file.slice(0, HEADER_PREFIX_BYTES).arrayBuffer());
  try {
    return readImageHeader(prefix, file.name);
  } catch (err) {
    if (!(err instanceof TruncatedImageHeaderError) || file.size <= HEADER_PREFIX_BYTES) throw err;
  }
  return readImageHeader(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** The image decoded by the browser, once its header shows it within `limits`. */
export async function decodeImageFile(file: File, limits: InputLimits): Promise<ImageBitmap> {
  const header = await readHeader(file);
  checkImagePixels(header, file.name, limits);
  try {
    return await createImageBitmap(file);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`image ${file.name} has a valid ${header.format.toUpperCase()} header (${header.width}×${header.height}) but the browser cannot decode it (${reason}); re-export it`);
  }
}

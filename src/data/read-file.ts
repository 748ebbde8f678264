/**
 * Reading dataset files: a missing or unreadable path becomes a DataError naming it, and gzip
 * compression is detected from the content (magic bytes 1f 8b) rather than the file name, because
 * MNIST mirrors ship both `train-images-idx3-ubyte.gz` and already-unpacked files under either name.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** Reads a whole file, turning file-system failures into one-line DataErrors. */
export function readDataFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${what} ${file} does not exist; check the path`);
    if (code === 'EISDIR') throw new DataError(`${what} ${file} is a directory, expected a file; check the path`);
    if (code === 'EACCES') throw new DataError(`${what} ${file} is not readable (permission denied); fix its permissions`);
    throw new DataError(`cannot read ${what} ${file}: ${code ?? String(err)}; check the path`);
  }
}

/** True when the bytes start with the gzip magic number. */
function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** Returns the bytes unchanged, or gunzipped when they carry the gzip magic number. */
function maybeGunzip(data: Buffer, file: string): Buffer {
  if (!isGzip(data)) return data;
  try {
    return gunzipSync(data);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`${file} is a corrupt gzip file (${reason}); re-download it`);
  }
}

/** Reads a file and gunzips it if it is gzip-compressed. */
export function readMaybeGzipped(file: string, what: string): Buffer {
  return maybeGunzip(readDataFile(file, what), file);
}

/** 'file', 'directory', or undefined when nothing exists at the path. */
export function pathKind(path: string): 'file' | 'directory' | undefined {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'directory' : 'file';
  } catch {
    return undefined;
  }
}

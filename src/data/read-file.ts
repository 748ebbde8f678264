/**
 * Reading dataset files: a missing or unreadable path becomes a DataError naming it, a file is
 * sized (stat) before it is read, and gzip compression is detected from the content (magic bytes
 * 1f 8b) rather than the file name, because MNIST mirrors ship both `train-images-idx3-ubyte.gz`
 * and already-unpacked files under either name. Inflation stops at the byte cap, so a gzip bomb
 * (deflate reaches ~1,000:1) is refused instead of filling memory.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { LIMIT_SPECS, limitExceeded, type InputLimits } from '../limits/input-limits.js';
import { DataError } from './errors.js';

function fileSystemError(err: unknown, file: string, what: string): DataError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DataError(`${what} ${file} does not exist; check the path`);
  if (code === 'EISDIR') return new DataError(`${what} ${file} is a directory, expected a file; check the path`);
  if (code === 'EACCES') return new DataError(`${what} ${file} is not readable (permission denied); fix its permissions`);
  return new DataError(`cannot read ${what} ${file}: ${code ?? String(err)}; check the path`);
}

/** Reads a whole file, after checking its size against `limits.maxDataBytes`; file-system failures become one-line DataErrors. */
export function readDataFile(file: string, what: string, limits: InputLimits): Buffer {
  try {
    const size = statSync(file).size;
    if (size > limits.maxDataBytes) throw new DataError(limitExceeded(`${what} ${file}`, 'maxDataBytes', size, limits, 'on disk'));
    return readFileSync(file);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fileSystemError(err, file, what);
  }
}

/** True when the bytes start with the gzip magic number. */
function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** Returns the bytes unchanged, or gunzipped (at most `limits.maxDataBytes`) when they carry the gzip magic number. */
export function maybeGunzip(data: Buffer, file: string, limits: InputLimits): Buffer {
  if (!isGzip(data)) return data;
  try {
    return gunzipSync(data, { maxOutputLength: limits.maxDataBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const cap = limits.maxDataBytes.toLocaleString('en-US');
      throw new DataError(`${file} inflates to more than ${cap} bytes, the cap on a dataset file; raise it with ${LIMIT_SPECS.maxDataBytes.flag} N if the file is genuine`);
    }
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new DataError(`${file} is a corrupt gzip file (${reason}); re-download it`);
  }
}

/** Reads a file and gunzips it if it is gzip-compressed, within `limits.maxDataBytes` either way. */
export function readMaybeGzipped(file: string, what: string, limits: InputLimits): Buffer {
  return maybeGunzip(readDataFile(file, what, limits), file, limits);
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

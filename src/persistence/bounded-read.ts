/**
 * Reading a whole file with its size checked first. The size comes from fstat(2) on the open
 * handle and exactly that many bytes are read, so a JSON file is refused above the cap before any
 * of it is held in memory, and a file that grows while it is read cannot push memory past what
 * was checked. Errno errors (ENOENT, EACCES, …) propagate for the caller to name in its own terms.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { limitExceeded, type InputLimits } from '../limits/input-limits.js';

export interface ReadRules {
  /** Raises the one-line refusal of a file that is not a regular file or exceeds the cap. */
  readonly fail: (message: string) => Error;
  /** When given, the file is a JSON file and may hold at most `limits.maxJsonBytes` bytes. */
  readonly limits?: InputLimits | undefined;
}

function checkStats(path: string, stats: Stats, rules: ReadRules): number {
  if (!stats.isFile()) throw rules.fail(`${path} is not a regular file (a folder or a device); restore the file vqlab wrote there`);
  if (rules.limits !== undefined && stats.size > rules.limits.maxJsonBytes) throw rules.fail(limitExceeded(path, 'maxJsonBytes', stats.size, rules.limits));
  return stats.size;
}

export async function readFileChecked(path: string, rules: ReadRules): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const size = checkStats(path, await handle.stat(), rules);
    const buffer = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(buffer, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buffer.subarray(0, at);
  } finally {
    await handle.close();
  }
}

export function readFileCheckedSync(path: string, rules: ReadRules): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = checkStats(path, fstatSync(fd), rules);
    const buffer = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buffer, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buffer.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

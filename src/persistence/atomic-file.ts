/**
 * Crash-safe file replacement: write to a temporary name in the same directory, flush it to disk,
 * rename over the target, then flush the directory. A rename within one directory is atomic on
 * POSIX file systems, so a reader sees either the old complete file or the new complete file, never
 * a partial one; flushing the file before the rename keeps a crash from publishing a name whose
 * data never reached the disk, and flushing the directory after it makes the new name survive a
 * power loss. Failures name the target file and the fix (see output-path.ts), and leave no
 * temporary behind.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { outputError } from './output-path.js';
import { NO_WRITE_FAULTS, type WriteHook } from './write-hook.js';

/** Temporaries are `.<name>.<pid>.tmp`; `isTemporaryName` recognizes those a killed writer left. */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.\d+\.tmp$/.test(name);
}

/** Flushes a directory's entries (new and renamed names) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(path: string, data: Uint8Array | string, hook: WriteHook = NO_WRITE_FAULTS): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      hook.beforeWrite(temp);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    hook.beforeWrite(path);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw outputError(err, path);
  }
  await syncDirectory(dirname(path));
}

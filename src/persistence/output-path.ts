/**
 * Where outputs may go, checked before any expensive work, and file-system errors turned into one
 * line that names the file and the fix (Node's own say `ENOENT: … open '.x.json.123.tmp'`).
 *
 * Kernel interfaces such as /proc and /sys look like folders but are not storage: creating a
 * folder inside /proc fails with ENOENT even though its parent exists, which sends Node's
 * recursive mkdir into an endless retry. They are refused by file-system type before any mkdir.
 */
import { statfsSync, statSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { NO_WRITE_FAULTS, type WriteHook } from './write-hook.js';

export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/** statfs(2) magic numbers of Linux pseudo file systems (linux/magic.h). */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
]);

/** The error of a failed write or mkdir of `path`, as one line with the fix. */
export function outputError(err: unknown, path: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOSPC: 'the disk is full (ENOSPC); free some space or choose a folder on another disk',
    EDQUOT: 'the disk quota is used up (EDQUOT); free some space or choose another folder',
    EACCES: 'permission denied (EACCES); choose a folder you can write to',
    EPERM: 'operation not permitted (EPERM); choose a folder you can write to',
    EROFS: 'the file system is read-only (EROFS); choose a folder on a writable disk',
    ENOENT: `its folder ${dirname(path)} does not exist; create it or choose another path`,
    ENOTDIR: 'part of the path is a file, not a folder (ENOTDIR); choose another path',
    EISDIR: 'it is a folder (EISDIR); give a file name',
  };
  if (code === undefined || why[code] === undefined) return err instanceof Error ? err : new Error(String(err));
  return new OutputPathError(`cannot write ${path}: ${why[code]}`);
}

/** The nearest existing ancestor of `path` (itself if it exists). */
function nearestExisting(path: string): string {
  let p = resolve(path);
  for (;;) {
    try {
      statSync(p);
      return p;
    } catch {
      const parent = dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
}

function refusePseudoFileSystem(path: string): void {
  const existing = nearestExisting(path);
  let type: number;
  try {
    type = statfsSync(existing).type;
  } catch {
    return;
  }
  const name = PSEUDO_FILE_SYSTEMS.get(type);
  if (name !== undefined) throw new OutputPathError(`cannot write to ${path}: ${existing} is a kernel interface (${name}), not storage; choose a folder on a disk`);
}

/**
 * The folders `prepareOutputDir` created, so that a command refused after it (bad data, a damaged
 * checkpoint) leaves no empty folder behind — the default `--out` of `vqlab train` is a new one.
 */
export interface CreatedFolders {
  /** Removes the created folders that are still empty, innermost first; one that holds anything stays, with its parents. */
  removeIfEmpty(): Promise<void>;
}

/** The folders from `dir` up to, not including, its nearest existing ancestor `existing`, innermost first. */
function missingFolders(dir: string, existing: string): string[] {
  const out: string[] = [];
  for (let p = resolve(dir); p !== existing && dirname(p) !== p; p = dirname(p)) out.push(p);
  return out;
}

/**
 * Make sure `dir` exists and takes files: refuse kernel interfaces, create it (and its parents),
 * and write and remove a probe file, so a bad `--out` fails in a second, not after training.
 */
export async function prepareOutputDir(dir: string, hook: WriteHook = NO_WRITE_FAULTS): Promise<CreatedFolders> {
  refusePseudoFileSystem(dir);
  const existing = nearestExisting(dir);
  if (existing === resolve(dir) && !statSync(existing).isDirectory()) throw new OutputPathError(`cannot write to ${dir}: it is a file, not a folder; choose a folder`);
  if (!statSync(existing).isDirectory()) throw new OutputPathError(`cannot create ${dir}: ${existing} is a file, not a folder; choose another path`);
  const created = missingFolders(dir, existing);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw outputError(err, dir);
  }
  const probe = join(dir, `.vqlab-write-check.${process.pid}.tmp`);
  try {
    hook.beforeWrite(probe);
    await writeFile(probe, '');
  } catch (err) {
    throw outputError(err, probe);
  } finally {
    await rm(probe, { force: true });
  }
  return {
    async removeIfEmpty() {
      for (const folder of created) {
        try {
          await rmdir(folder);
        } catch {
          return; // not empty (or already gone): it and its parents stay
        }
      }
    },
  };
}

/** Check that a file can be written at `file`: its folder exists, is storage and takes files. */
export async function checkOutputFile(file: string, hook: WriteHook = NO_WRITE_FAULTS): Promise<void> {
  refusePseudoFileSystem(file);
  const folder = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(folder).isDirectory();
  } catch {
    throw new OutputPathError(`cannot write ${file}: its folder ${dirname(file)} does not exist; create it or choose another path`);
  }
  if (!isDir) throw new OutputPathError(`cannot write ${file}: ${dirname(file)} is a file, not a folder; choose another path`);
  await prepareOutputDir(folder, hook);
}

/**
 * A training run's directory, and how its checkpoints commit as one unit.
 *
 *   RUN/checkpoint.json            which checkpoint is the last, and which the best by test mse
 *   RUN/checkpoints/<name>/        one complete checkpoint (the four CHECKPOINT_FILES and
 *                                  checksums.json, the SHA-256 of each: checksums.ts)
 *   RUN/metrics.jsonl              one line per epoch (train/metrics-log.ts)
 *
 * A save writes and flushes every file of the new checkpoint, then its checksums, into a temporary
 * folder, renames the folder to its final name, and only then replaces checkpoint.json
 * (atomically) to point at it; folders no longer named there are removed afterwards. Whatever
 * instant a crash or a full disk stops a save at, checkpoint.json names a complete checkpoint, the
 * previous one until the new one is whole. What an interrupted save leaves (temporary names,
 * folders not named in checkpoint.json) is removed when the run next starts.
 *
 * Runs written before checkpoint.json existed keep their four files directly in RUN; a folder
 * without checkpoint.json is read as such a checkpoint itself (also a model copied elsewhere to ship it).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { isTemporaryName, syncDirectory, writeFileAtomic } from './atomic-file.js';
import { readFileCheckedSync } from './bounded-read.js';
import { CHECKSUMS_FILE, checksumsText } from './checksums.js';
import { JsonFields } from './json-fields.js';
import { outputError } from './output-path.js';
import { NO_WRITE_FAULTS, type WriteHook } from './write-hook.js';

export const CHECKPOINT_FILES = {
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  config: 'config.json',
  trainer: 'trainer-state.json',
} as const;

export const POINTER_FILE = 'checkpoint.json';
export const CHECKPOINTS_DIR = 'checkpoints';
const POINTER_FORMAT = 'vqlab-run';

/** Files that `vqlab train`, `eval` and `export` write into a run directory. */
const RUN_OUTPUT_FILES = [POINTER_FILE, CHECKPOINTS_DIR, ...Object.values(CHECKPOINT_FILES), 'metrics.jsonl', 'diagnostics.jsonl', 'recon.png', 'encoder.onnx', 'decoder.onnx'] as const;

interface Pointer {
  readonly format: typeof POINTER_FORMAT;
  readonly version: 1;
  /** Folder of the newest complete checkpoint, relative to the run directory. */
  readonly last: string;
  /** Folder of the end-of-epoch checkpoint with the lowest test mse, if the run evaluates. */
  readonly best: string | null;
  readonly best_test_mse: number | null;
}

export class RunDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunDirectoryError';
  }
}

/** A checkpoint folder as checkpoint.json names it: `checkpoints/<name>`, a plain name, never `..` or absolute. */
const POINTER_TARGET = { test: /^checkpoints\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/, wanted: 'a folder under checkpoints/ such as "checkpoints/step-00000070"' };

/**
 * The pointer in `text` (the contents of checkpoint.json at `path`), every field checked, so that
 * no damaged or edited pointer sends a reader outside the run's checkpoints/ folder; anything else
 * is refused with one `RunDirectoryError` line naming the file and the field.
 */
export function parsePointer(text: string, path: string): Pointer {
  const p = JsonFields.parse(text, {
    path,
    remedy: 'the run directory is damaged; restore checkpoint.json from a copy, or point it at a folder under checkpoints/ by hand',
    fail: (message) => new RunDirectoryError(message),
  });
  p.constant('format', POINTER_FORMAT);
  p.constant('version', 1);
  const best = p.isNull('best') || !p.has('best') ? null : p.string('best', POINTER_TARGET);
  return {
    format: POINTER_FORMAT,
    version: 1,
    last: p.string('last', POINTER_TARGET),
    best,
    best_test_mse: best === null || p.isNull('best_test_mse') ? null : p.number('best_test_mse', 'a finite number >= 0 or null', (n) => n >= 0),
  };
}

function readPointer(runDir: string, limits: InputLimits): Pointer | undefined {
  const path = join(runDir, POINTER_FILE);
  let text: string;
  try {
    text = readFileCheckedSync(path, { limits, fail: (message) => new RunDirectoryError(message) }).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No pointer (ENOENT), or `runDir` is itself a file (ENOTDIR): not a run directory.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (err instanceof RunDirectoryError) throw err;
    throw new RunDirectoryError(`cannot read ${path} (${code ?? String(err)}); check that the file is readable`);
  }
  return parsePointer(text, path);
}

/** Which checkpoint of a run to read: the newest, or the one with the lowest test mse. */
export type CheckpointChoice = 'last' | 'best';

/**
 * The folder of the checkpoint that `path` names: a run directory's last (or best) checkpoint, or
 * `path` itself when it holds no checkpoint.json (a checkpoint folder, or a run written before
 * checkpoint.json existed).
 */
export function resolveCheckpoint(path: string, choice: CheckpointChoice = 'last', limits: InputLimits = DEFAULT_LIMITS): string {
  const pointer = readPointer(path, limits);
  if (pointer === undefined) {
    if (choice === 'best') throw new RunDirectoryError(`${path} is a single checkpoint, not a run directory with ${POINTER_FILE}, so it has no best checkpoint; drop --checkpoint best`);
    return path;
  }
  const folder = choice === 'best' ? pointer.best : pointer.last;
  if (folder === null) {
    throw new RunDirectoryError(`${path} has no best checkpoint (the run did not evaluate its test set at the end of an epoch); use --checkpoint last`);
  }
  const dir = join(path, folder);
  if (!existsSync(dir)) throw new RunDirectoryError(`${join(path, POINTER_FILE)} names ${folder} as the ${choice} checkpoint, but that folder does not exist; the run directory is damaged, restore it from a copy`);
  return dir;
}

/** The folder of a run's best checkpoint by test mse, if it evaluated the test set each epoch. */
export function bestCheckpoint(runDir: string): string | undefined {
  const pointer = readPointer(runDir, DEFAULT_LIMITS);
  return pointer?.best != null ? join(runDir, pointer.best) : undefined;
}

/** The folders a run's checkpoint.json names (relative to the run), or undefined for a folder without one. */
export function namedCheckpoints(runDir: string, limits: InputLimits = DEFAULT_LIMITS): { readonly last: string; readonly best: string | null } | undefined {
  const pointer = readPointer(runDir, limits);
  return pointer === undefined ? undefined : { last: pointer.last, best: pointer.best };
}

/** Whether `runDir` holds a checkpoint that training can resume (with its trainer state). */
export function hasTrainingCheckpoint(runDir: string): boolean {
  return existsSync(join(resolveCheckpoint(runDir), CHECKPOINT_FILES.trainer));
}

/** The entries of `dir` that a run writes, for refusing (or, asked to, replacing) an old run. */
export function existingRunOutputs(dir: string): string[] {
  return RUN_OUTPUT_FILES.filter((f) => existsSync(join(dir, f)));
}

export async function removeRunOutputs(dir: string): Promise<void> {
  for (const f of existingRunOutputs(dir)) await rm(join(dir, f), { recursive: true, force: true });
  await syncDirectory(dir);
}

/** Write `data` to a new file and flush it; for files inside a folder not yet published. */
async function writeDurable(path: string, data: Uint8Array | string, hook: WriteHook): Promise<void> {
  try {
    const handle = await open(path, 'wx');
    try {
      hook.beforeWrite(path);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw outputError(err, path);
  }
}

export interface CommitOptions {
  /** Test mse of an end-of-epoch checkpoint, to keep the best one; omitted for mid-epoch saves. */
  readonly testMse?: number | undefined;
  /** Runs at each write point of the save (default NO_WRITE_FAULTS; crash tests inject faults). */
  readonly writeHook?: WriteHook;
}

/**
 * Commit a new checkpoint named `name` (unique within the run, e.g. from its step) whose files are
 * `files`, as one unit: see the top of this file. The previous checkpoint stays until this one is
 * complete and named in checkpoint.json.
 */
export async function commitCheckpoint(runDir: string, wanted: string, files: Readonly<Record<string, Uint8Array | string>>, options: CommitOptions = {}): Promise<void> {
  const hook = options.writeHook ?? NO_WRITE_FAULTS;
  const previous = readPointer(runDir, DEFAULT_LIMITS);
  // The folders the pointer names are never replaced in place: a second save of the same step
  // (an interrupt right after an epoch's save) gets a new name.
  const named = new Set([previous?.last, previous?.best].filter((p) => p != null).map((p) => basename(p!)));
  let name = wanted;
  for (let i = 2; named.has(name); i++) name = `${wanted}-${i}`;
  const root = join(runDir, CHECKPOINTS_DIR);
  await mkdir(root, { recursive: true }).catch((err: unknown) => {
    throw outputError(err, root);
  });
  const temp = join(root, `.${name}.${process.pid}.tmp`);
  const final = join(root, name);
  try {
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp);
    const contents = new Map(Object.entries(files).map(([file, data]) => [file, typeof data === 'string' ? Buffer.from(data, 'utf8') : data]));
    for (const [file, data] of contents) await writeDurable(join(temp, file), data, hook);
    // Hashed from the bytes just written, and committed with them by the rename below.
    await writeDurable(join(temp, CHECKSUMS_FILE), await checksumsText(contents), hook);
    await syncDirectory(temp);
    // A folder of this name is a leftover of an interrupted save that the pointer does not name.
    await rm(final, { recursive: true, force: true });
    hook.beforeWrite(final);
    await rename(temp, final);
    await syncDirectory(root);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  const relative = `${CHECKPOINTS_DIR}/${name}`;
  const better = options.testMse !== undefined && Number.isFinite(options.testMse) && (previous?.best_test_mse == null || options.testMse < previous.best_test_mse);
  const pointer: Pointer = {
    format: POINTER_FORMAT,
    version: 1,
    last: relative,
    best: better ? relative : previous?.best ?? null,
    best_test_mse: better ? options.testMse! : previous?.best_test_mse ?? null,
  };
  await writeFileAtomic(join(runDir, POINTER_FILE), `${JSON.stringify(pointer, null, 2)}\n`, hook);
  await removeUnreferenced(runDir, pointer, hook);
}

/** Remove checkpoint folders the pointer does not name, temporaries, and pre-pointer files. */
async function removeUnreferenced(runDir: string, pointer: Pointer, hook: WriteHook): Promise<void> {
  const keep = new Set([pointer.last, pointer.best].filter((p): p is string => p !== null).map((p) => basename(p)));
  const root = join(runDir, CHECKPOINTS_DIR);
  const stale = existsSync(root) ? readdirSync(root).filter((n) => !keep.has(n)) : [];
  for (const n of stale) {
    hook.beforeWrite(join(root, n));
    await rm(join(root, n), { recursive: true, force: true });
  }
  // The files of a run saved before checkpoint.json existed, now superseded by it.
  for (const f of Object.values(CHECKPOINT_FILES)) await rm(join(runDir, f), { force: true });
}

/**
 * Clean what interrupted saves left in `runDir`: temporary files of atomic writes, unpublished
 * checkpoint folders, and folders checkpoint.json no longer names.
 */
export async function cleanRunDirectory(runDir: string, hook: WriteHook = NO_WRITE_FAULTS): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const n of readdirSync(runDir)) if (isTemporaryName(n)) await rm(join(runDir, n), { force: true });
  const pointer = readPointer(runDir, DEFAULT_LIMITS);
  if (pointer) await removeUnreferenced(runDir, pointer, hook);
  else if (existsSync(join(runDir, CHECKPOINTS_DIR))) {
    // Killed before the first pointer was written: no checkpoint folder is published yet.
    await rm(join(runDir, CHECKPOINTS_DIR), { recursive: true, force: true });
  }
}

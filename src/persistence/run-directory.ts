/**
 * A training run's directory, and how its checkpoints commit as one unit.
 *
 *   RUN/checkpoint.json            which checkpoint is the last, and which the best by test mse
 *   RUN/checkpoints/<name>/        one complete checkpoint (the four CHECKPOINT_FILES)
 *   RUN/metrics.jsonl              one line per epoch (train/metrics-log.ts)
 *
 * A save writes and flushes every file of the new checkpoint into a temporary folder, renames the
 * folder to its final name, and only then replaces checkpoint.json (atomically) to point at it;
 * folders no longer named there are removed afterwards. Whatever instant a crash or a full disk
 * stops a save at, checkpoint.json names a complete checkpoint, the previous one until the new one
 * is whole. What an interrupted save leaves (temporary names, folders not named in checkpoint.json)
 * is removed when the run next starts.
 *
 * Runs written before checkpoint.json existed keep their four files directly in RUN; a folder
 * without checkpoint.json is read as such a checkpoint itself (also a model copied elsewhere to ship it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isTemporaryName, syncDirectory, writeFileAtomic } from './atomic-file.js';
import { writePoint } from './fault-injection.js';
import { outputError } from './output-path.js';

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
const RUN_OUTPUT_FILES = [POINTER_FILE, CHECKPOINTS_DIR, ...Object.values(CHECKPOINT_FILES), 'metrics.jsonl', 'recon.png', 'encoder.onnx', 'decoder.onnx'] as const;

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

function readPointer(runDir: string): Pointer | undefined {
  const path = join(runDir, POINTER_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let p: Partial<Pointer>;
  try {
    p = JSON.parse(text) as Partial<Pointer>;
  } catch {
    throw new RunDirectoryError(`${path} is not valid JSON; the run directory is corrupt`);
  }
  if (p?.format !== POINTER_FORMAT || typeof p.last !== 'string') throw new RunDirectoryError(`${path} is not a vqlab checkpoint pointer; the run directory is corrupt`);
  return { format: POINTER_FORMAT, version: 1, last: p.last, best: typeof p.best === 'string' ? p.best : null, best_test_mse: typeof p.best_test_mse === 'number' ? p.best_test_mse : null };
}

/** The folder of the checkpoint that `path` names: a run directory's last checkpoint, or `path` itself. */
export function resolveCheckpoint(path: string): string {
  const pointer = readPointer(path);
  return pointer ? join(path, pointer.last) : path;
}

/** The folder of a run's best checkpoint by test mse, if it evaluated the test set each epoch. */
export function bestCheckpoint(runDir: string): string | undefined {
  const pointer = readPointer(runDir);
  return pointer?.best != null ? join(runDir, pointer.best) : undefined;
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
async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  try {
    const handle = await open(path, 'wx');
    try {
      writePoint(path);
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
  readonly testMse?: number;
}

/**
 * Commit a new checkpoint named `name` (unique within the run, e.g. from its step) whose files are
 * `files`, as one unit: see the top of this file. The previous checkpoint stays until this one is
 * complete and named in checkpoint.json.
 */
export async function commitCheckpoint(runDir: string, wanted: string, files: Readonly<Record<string, Uint8Array | string>>, options: CommitOptions = {}): Promise<void> {
  const previous = readPointer(runDir);
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
    for (const [file, data] of Object.entries(files)) await writeDurable(join(temp, file), data);
    await syncDirectory(temp);
    // A folder of this name is a leftover of an interrupted save that the pointer does not name.
    await rm(final, { recursive: true, force: true });
    writePoint(final);
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
  await writeFileAtomic(join(runDir, POINTER_FILE), `${JSON.stringify(pointer, null, 2)}\n`);
  await removeUnreferenced(runDir, pointer);
}

/** Remove checkpoint folders the pointer does not name, temporaries, and pre-pointer files. */
async function removeUnreferenced(runDir: string, pointer: Pointer): Promise<void> {
  const keep = new Set([pointer.last, pointer.best].filter((p): p is string => p !== null).map((p) => basename(p)));
  const root = join(runDir, CHECKPOINTS_DIR);
  const stale = existsSync(root) ? readdirSync(root).filter((n) => !keep.has(n)) : [];
  for (const n of stale) {
    writePoint(join(root, n));
    await rm(join(root, n), { recursive: true, force: true });
  }
  // The files of a run saved before checkpoint.json existed, now superseded by it.
  for (const f of Object.values(CHECKPOINT_FILES)) await rm(join(runDir, f), { force: true });
}

/**
 * Clean what interrupted saves left in `runDir`: temporary files of atomic writes, unpublished
 * checkpoint folders, and folders checkpoint.json no longer names.
 */
export async function cleanRunDirectory(runDir: string): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const n of readdirSync(runDir)) if (isTemporaryName(n)) await rm(join(runDir, n), { force: true });
  const pointer = readPointer(runDir);
  if (pointer) await removeUnreferenced(runDir, pointer);
  else if (existsSync(join(runDir, CHECKPOINTS_DIR))) {
    // Killed before the first pointer was written: no checkpoint folder is published yet.
    await rm(join(runDir, CHECKPOINTS_DIR), { recursive: true, force: true });
  }
}

/**
 * One checkpoint folder on disk, read against its checksums.json (checksums.ts): each file is
 * read once, its bytes checked against the recorded size and SHA-256, and only those same bytes
 * are handed to a parser, so nothing can change between the check and the use. A folder without
 * checksums.json (a checkpoint written before vqlab recorded them) is read unverified, and says so
 * in one notice. JSON files are refused above the JSON cap before they are read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { readFileChecked } from './bounded-read.js';
import { CheckpointError } from './checkpoint-weights.js';
import { CHECKSUMS_FILE, missingFileError, noChecksumsNotice, parseChecksums, unlistedFileError, verifyFile, type Checksums } from './checksums.js';
import { CHECKPOINT_FILES, type CheckpointChoice } from './run-directory.js';

export interface CheckpointReadOptions {
  /** Of a run directory, read the last checkpoint (default) or the best by test mse. */
  readonly checkpoint?: CheckpointChoice | undefined;
  /** Receives one-line notices, such as that the checkpoint carries no checksums (default: none). */
  readonly notice?: ((line: string) => void) | undefined;
  /** Caps on what the files may hold (`maxJsonBytes` applies; default DEFAULT_LIMITS). */
  readonly limits?: InputLimits | undefined;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export class CheckpointFolder {
  /** Files already read and verified through `read`. */
  private readonly done = new Set<string>();

  private constructor(
    readonly dir: string,
    /** undefined: the folder has no checksums.json. */
    private readonly checksums: Checksums | undefined,
    private readonly limits: InputLimits,
  ) {}

  /** Open the checkpoint folder `dir` (already resolved: see resolveCheckpoint) and read its checksums. */
  static async open(dir: string, options: Pick<CheckpointReadOptions, 'notice' | 'limits'> = {}): Promise<CheckpointFolder> {
    const limits = options.limits ?? DEFAULT_LIMITS;
    const path = join(dir, CHECKSUMS_FILE);
    let text: string;
    try {
      text = (await readFileChecked(path, { limits, fail: (message) => new CheckpointError(message) })).toString('utf8');
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new CheckpointError(`cannot read ${path} (${code ?? String(err)}); check that the file is readable`);
      // Only of a folder that holds a checkpoint: any other is refused next, naming the file it lacks.
      if (existsSync(join(dir, CHECKPOINT_FILES.config))) options.notice?.(noChecksumsNotice(dir));
      return new CheckpointFolder(dir, undefined, limits);
    }
    return new CheckpointFolder(dir, parseChecksums(text, path), limits);
  }

  /** Whether the folder carries checksums, so that what `read` returns is verified. */
  get hasChecksums(): boolean {
    return this.checksums !== undefined;
  }

  /**
   * The bytes of the folder's file `name`, verified against checksums.json when there is one;
   * `hint` completes the error for a file that does not exist.
   */
  async read(name: string, hint: string): Promise<Buffer> {
    const path = join(this.dir, name);
    const recorded = this.checksums?.get(name);
    let bytes: Buffer;
    try {
      bytes = await readFileChecked(path, { fail: (message) => new CheckpointError(message), limits: name.endsWith('.json') ? this.limits : undefined });
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      const code = errnoCode(err);
      if (code === 'ENOENT' && recorded !== undefined) throw missingFileError(this.dir, name);
      if (code === 'ENOENT') throw new CheckpointError(`${path} does not exist; ${hint}`);
      throw new CheckpointError(`cannot read ${path} (${code ?? String(err)}); check that the file is readable`);
    }
    if (this.checksums !== undefined) await verifyFile(this.checksums, this.dir, name, bytes);
    this.done.add(name);
    return bytes;
  }

  /**
   * Verify the files checksums.json lists that `read` has not (each read, checked and let go), and
   * refuse a checkpoint file present but not listed: a checkpoint is intact only as a whole.
   * Returns the names verified in all; empty for a folder without checksums.
   */
  async verifyRest(): Promise<string[]> {
    if (this.checksums === undefined) return [];
    for (const name of Object.values(CHECKPOINT_FILES)) {
      if (!this.checksums.has(name) && existsSync(join(this.dir, name))) throw unlistedFileError(this.dir, name);
    }
    for (const name of this.checksums.keys()) if (!this.done.has(name)) await this.read(name, `it is listed in ${CHECKSUMS_FILE}`);
    return [...this.checksums.keys()];
  }
}

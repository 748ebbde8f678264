/**
 * `verifyRun(path)`: every checkpoint of a run checked against its checksums.json, so a user
 * learns which checkpoints are intact before one is needed. A run's checkpoints are the last and
 * the best that checkpoint.json names and any other complete folder under checkpoints/ (one an
 * interrupted save left, removed when the run next trains); a bare checkpoint folder (or a run
 * written before checkpoint.json existed) is one checkpoint.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import { isTemporaryName } from './atomic-file.js';
import { CheckpointFolder } from './checkpoint-folder.js';
import { CheckpointError } from './checkpoint-weights.js';
import { CHECKPOINT_FILES, CHECKPOINTS_DIR, namedCheckpoints, RunDirectoryError } from './run-directory.js';

export interface CheckpointReport {
  readonly folder: string;
  /** What checkpoint.json names it: 'last', 'best', both, or neither. */
  readonly roles: readonly ('last' | 'best')[];
  /** 'unchecked': the checkpoint was written before vqlab recorded checksums. */
  readonly state: 'intact' | 'corrupt' | 'unchecked';
  /** For 'corrupt', the one-line reason naming the file. */
  readonly detail: string;
}

async function verifyFolder(folder: string, roles: CheckpointReport['roles'], limits: InputLimits): Promise<CheckpointReport> {
  const report = (state: CheckpointReport['state'], detail: string): CheckpointReport => ({ folder, roles, state, detail });
  try {
    const checkpoint = await CheckpointFolder.open(folder, { limits });
    if (!checkpoint.hasChecksums) {
      return existsSync(join(folder, CHECKPOINT_FILES.config)) ? report('unchecked', 'no checksums (written before vqlab recorded them)') : report('corrupt', `${join(folder, CHECKPOINT_FILES.config)} does not exist, and there are no checksums`);
    }
    const files = await checkpoint.verifyRest();
    return report('intact', `${files.length} files match their SHA-256`);
  } catch (err) {
    if (err instanceof CheckpointError) return report('corrupt', err.message);
    throw err;
  }
}

const isFolder = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** One report per checkpoint of the run (or the one checkpoint) at `path`: last, best, then the others by name. */
export async function verifyRun(path: string, limits: InputLimits = DEFAULT_LIMITS): Promise<CheckpointReport[]> {
  if (!isFolder(path)) throw new RunDirectoryError(`${path} is not a folder; give a run directory (\`vqlab train --out DIR\`) or a checkpoint folder`);
  const named = namedCheckpoints(path, limits);
  if (named === undefined) {
    if (!existsSync(join(path, CHECKPOINT_FILES.config))) throw new RunDirectoryError(`${path} is neither a run directory (it has no checkpoint.json) nor a checkpoint folder (no config.json); give the folder \`vqlab train --out\` wrote`);
    return [await verifyFolder(path, [], limits)];
  }
  const root = join(path, CHECKPOINTS_DIR);
  const others = isFolder(root) ? readdirSync(root).filter((n) => !isTemporaryName(n) && isFolder(join(root, n))).sort().map((n) => `${CHECKPOINTS_DIR}/${n}`) : [];
  const folders = [...new Set([named.last, ...(named.best !== null ? [named.best] : []), ...others])];
  const reports: CheckpointReport[] = [];
  for (const folder of folders) {
    const roles = (['last', 'best'] as const).filter((role) => named[role] === folder);
    const dir = join(path, folder);
    reports.push(isFolder(dir) ? await verifyFolder(dir, roles, limits) : { folder: dir, roles, state: 'corrupt', detail: `${dir} does not exist, though checkpoint.json names it` });
  }
  return reports;
}

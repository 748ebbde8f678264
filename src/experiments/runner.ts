/**
 * Executing one run resumably. Each run lives in <out>/runs/<id>/; the file result.json in it is
 * the completion marker, written atomically only after training and evaluation both finished.
 *
 *  - result.json present, same spec  → the run is not redone; its saved result is returned (a
 *                                       result from before training-set usage was measured gets
 *                                       that measured and added, without retraining).
 *  - result.json present, other spec → error: the directory belongs to different settings, and
 *                                       silently mixing them would corrupt the mean ± std.
 *  - directory present, no marker    → interrupted: training resumes from its checkpoint (the
 *                                       trainer restarts if there is none), then evaluation reruns.
 *
 * While a run trains, its directory is locked (persistence/directory-lock.ts): a second process
 * asked for the same run is refused instead of interleaving its checkpoints with the first's.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from './canonical-json.js';
import type { RunCache } from './run-cache.js';
import { sortedRuns } from './count-runs.js';
import type { Backend } from './backend.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { lockDirectory } from '../persistence/directory-lock.js';
import { METRICS_FILE, readMetricsLog } from '../train/metrics-log.js';
import { epochCurves, timingFromLog } from './metrics-log.js';
import { savedRunResult } from './saved-run-spec.js';
import { readRunDiagnostics } from './run-diagnostics.js';
import type { ExperimentSettings, RunResult, RunSpec } from './types.js';

const RUNS_DIR = 'runs';
const RUN_MARKER = 'result.json';

function runDir(out: string, spec: RunSpec): string {
  return join(out, RUNS_DIR, spec.id);
}

function sameSpec(a: RunSpec, b: RunSpec): boolean {
  return canonical(a) === canonical(b);
}

/** The saved result of a completed run, or null when the run has not completed. */
export function completedRun(out: string, spec: RunSpec): RunResult | null {
  const marker = join(runDir(out, spec), RUN_MARKER);
  if (!existsSync(marker)) return null;
  let saved: RunResult;
  try {
    saved = savedRunResult(JSON.parse(readFileSync(marker, 'utf8')) as Record<string, unknown>);
  } catch {
    return null; // An unreadable marker (or one whose quantizer no longer resolves) counts as not completed: the run is redone.
  }
  if (!sameSpec(saved.spec, spec)) {
    throw new Error(`${marker} was produced with different settings (${canonical(saved.spec)}) than now (${canonical(spec)}); use another --out directory or remove ${runDir(out, spec)}`);
  }
  return withDiagnostics(saved, runDir(out, spec));
}

/** `result` with the diagnostics its run directory holds, read again so that a result written without them gains them. */
function withDiagnostics(result: RunResult, dir: string): RunResult {
  const diagnostics = readRunDiagnostics(dir);
  return diagnostics === undefined ? result : { ...result, diagnostics };
}

/** Where a planned run stands in `out`, by the rules above (a conflicting result throws, as in `completedRun`). */
export type RunState = 'completed' | 'interrupted' | 'not started';

export function runState(out: string, spec: RunSpec): RunState {
  if (completedRun(out, spec)) return 'completed';
  return begun(runDir(out, spec)) ? 'interrupted' : 'not started';
}

/** A run directory with anything in it: an earlier attempt started there. */
function begun(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}

export interface ExecuteOptions {
  readonly out: string;
  readonly settings: ExperimentSettings;
  readonly backend: Backend;
  readonly log: (line: string) => void;
  /** Where end-of-epoch checkpoints are shared between runs of the same training (run-cache.ts); none by default. */
  readonly cache?: RunCache | undefined;
}

/** A completed result without training-set usage, completed with it (result.json rewritten). */
async function withTrainSetUsage(done: RunResult, o: ExecuteOptions): Promise<RunResult> {
  if (done.metrics.train_set !== undefined) return done;
  const dir = runDir(o.out, done.spec);
  o.log(`${done.spec.id}: measuring code usage over the training set`);
  const trainSet = await o.backend.trainSetUsage({ spec: done.spec, settings: o.settings, dir });
  const result: RunResult = { ...done, metrics: { ...done.metrics, train_set: trainSet } };
  await writeFileAtomic(join(dir, RUN_MARKER), `${JSON.stringify(result)}\n`);
  return result;
}

export async function executeRun(spec: RunSpec, o: ExecuteOptions): Promise<{ result: RunResult; reused: boolean }> {
  const done = completedRun(o.out, spec);
  if (done) return { result: await withTrainSetUsage(done, o), reused: true };
  const dir = runDir(o.out, spec);
  const interrupted = begun(dir);
  mkdirSync(dir, { recursive: true });
  const unlock = lockDirectory(dir, spec.id);
  try {
    // Another process may have completed the run between the check above and the lock.
    const finished = completedRun(o.out, spec);
    if (finished) return { result: finished, reused: true };
    return await trainAndEvaluate(spec, dir, interrupted, o);
  } finally {
    unlock();
  }
}

async function trainAndEvaluate(spec: RunSpec, dir: string, interrupted: boolean, o: ExecuteOptions): Promise<{ result: RunResult; reused: boolean }> {
  if (interrupted) o.log(`${spec.id}: resuming an interrupted run`);
  // The spec is saved before training so an interrupted directory can be recognized later.
  await writeFileAtomic(join(dir, 'spec.json'), `${JSON.stringify(spec, null, 1)}\n`);
  const { cache } = o;
  const cachedEpochs = !interrupted && cache !== undefined ? await cache.restore(spec, o.settings, dir) : 0;
  if (cachedEpochs > 0) o.log(`${spec.id}: epochs 1–${cachedEpochs} from the run cache ${cache!.dir}`);

  const t0 = performance.now();
  await o.backend.train({
    spec, settings: o.settings, dir, resume: interrupted || cachedEpochs > 0, log: o.log,
    epochSaved: cache === undefined ? undefined : (epoch) => cache.store(spec, o.settings, epoch, dir),
  });
  const trainMeasured = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const grid = join(dir, 'recon.png');
  const evaluation = await o.backend.evaluate({ spec, settings: o.settings, dir, grid });
  const trainSet = await o.backend.trainSetUsage({ spec, settings: o.settings, dir });
  const evalSeconds = (performance.now() - t1) / 1000;

  const log = await readMetricsLog(join(dir, METRICS_FILE));
  const logged = timingFromLog(log);
  const result: RunResult = {
    spec,
    metrics: { ...evaluation.metrics, train_set: trainSet },
    timing: {
      // A resumed run's measured time misses the epochs before the interruption; the log has them all.
      train_seconds: logged.seconds ?? trainMeasured,
      eval_seconds: evalSeconds,
      images_per_second: logged.rate,
      ...(logged.audioRate !== null ? { audio_seconds_per_second: logged.audioRate } : {}),
      threads: o.settings.threads,
    },
    curves: epochCurves(log),
    usage: sortedRuns(evaluation.counts),
    recon: existsSync(grid) ? [RUNS_DIR, spec.id, 'recon.png'].join('/') : null,
    completedAt: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, RUN_MARKER), `${JSON.stringify(result)}\n`);
  return { result: withDiagnostics(result, dir), reused: false };
}

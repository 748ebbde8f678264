/**
 * A cache of end-of-epoch checkpoints shared by experiment runs whose first epochs are the same
 * training bit for bit: the same run with a larger --epochs cap or a stopping rule, or the β = 0.25
 * run that the β sweep, the optimization ablation and the codebook grid each plan under their own
 * name. A run that finds earlier epochs of its training in the cache starts from the latest one it
 * would reach, and training continues from it exactly as a resumed run does (train.ts: resuming
 * gives the weights of a run never stopped).
 *
 * The key is the SHA-256 of everything that decides the weights after each epoch: the run's spec
 * without the fields that only name it or say when to stop (id, experiment, variant, nominal grid
 * point, epoch cap, plateau and settle rules), the ORT threads, the ONNX Runtime build and the CPU
 * model — with one exception: a cosine schedule's learning rate at every step depends on the total
 * steps, so with `cosine` the epoch cap stays in the key. Runs under different keys never share.
 * The cache does not know vqlab's own version: after a change to the training code, use a new
 * cache directory.
 *
 *   DIR/<key>/key.json                 what the key hashes, for a reader (and checked on every use)
 *   DIR/<key>/epoch-0003/              the checkpoint folder after epoch 3 (its files and
 *                                      checksums.json) and metrics.jsonl up to that epoch
 *
 * An entry is written into a temporary folder and renamed into place, so a reader sees whole
 * entries only; a restored checkpoint is verified against its checksums before it is used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { CHECKPOINT_FILES, readTrainerState, verifyCheckpoint } from '../persistence/checkpoint.js';
import { CHECKSUMS_FILE } from '../persistence/checksums.js';
import { commitCheckpoint, resolveCheckpoint } from '../persistence/run-directory.js';
import { currentRuntime } from '../runtime/runtime.js';
import { METRICS_FILE, readMetricsLog } from '../train/metrics-log.js';
import { DEFAULT_PLATEAU_DELTA, hasPlateaued } from '../train/plateau.js';
import { DEFAULT_SETTLE_DELTA, hasSettled } from '../train/settle.js';
import { canonical } from './canonical-json.js';
import type { ExperimentSettings, RunSpec } from './types.js';

const KEY_FILE = 'key.json';
const KEY_FORMAT = 'vqlab-run-cache';

function epochFolder(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** What decides a run's weights after each epoch (the file comment), as canonical JSON. */
function runCacheKeySource(spec: RunSpec, settings: Pick<ExperimentSettings, 'threads'>): string {
  const { id: _id, experiment: _experiment, variant: _variant, nominal: _nominal, epochs, plateauPatience: _p, plateauDelta: _pd, settlePatience: _s, settleDelta: _sd, ...training } = spec;
  return canonical({
    format: KEY_FORMAT,
    version: 1,
    training,
    ...(spec.cosine === true ? { epochs } : {}),
    threads: settings.threads,
    runtime: currentRuntime().description,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
  });
}

export function runCacheKey(spec: RunSpec, settings: Pick<ExperimentSettings, 'threads'>): string {
  return createHash('sha256').update(runCacheKeySource(spec, settings)).digest('hex');
}

/**
 * The last epoch a run of `spec` trains when its training log reads `utilization` (one value per
 * epoch, as far as known): its cap, or the first epoch before it at which its stopping rule holds.
 */
function lastEpochOf(spec: RunSpec, utilization: readonly number[]): number {
  for (let e = 1; e < spec.epochs && e <= utilization.length; e++) {
    const seen = utilization.slice(0, e);
    if (spec.plateauPatience !== undefined && hasPlateaued(seen, { patience: spec.plateauPatience, minDelta: spec.plateauDelta ?? DEFAULT_PLATEAU_DELTA })) return e;
    if (spec.settlePatience !== undefined && hasSettled(seen, { patience: spec.settlePatience, delta: spec.settleDelta ?? DEFAULT_SETTLE_DELTA })) return e;
  }
  return spec.epochs;
}

export class RunCache {
  constructor(readonly dir: string) {}

  /** The entry folder of a key, refusing a key.json that names other training (a hash collision or a tampered cache). */
  private async entry(spec: RunSpec, settings: ExperimentSettings): Promise<{ folder: string; source: string }> {
    const source = runCacheKeySource(spec, settings);
    const folder = join(this.dir, runCacheKey(spec, settings));
    const keyFile = join(folder, KEY_FILE);
    if (existsSync(keyFile)) {
      const saved = await readFile(keyFile, 'utf8');
      if (saved.trim() !== source) throw new Error(`${keyFile} describes other training than its name says; remove ${folder} from the run cache`);
    }
    return { folder, source };
  }

  /** Epochs cached under the entry, ascending. */
  private static epochs(folder: string): number[] {
    if (!existsSync(folder)) return [];
    return readdirSync(folder).map((n) => /^epoch-(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  }

  /**
   * Seeds `runDir`, which holds no checkpoint yet, with the latest cached epoch of the run's
   * training that the run reaches (its cap or the stop its rule makes, by the cached log), as a
   * checkpoint to resume and metrics.jsonl up to it. Returns that epoch, or 0 when none is cached.
   */
  async restore(spec: RunSpec, settings: ExperimentSettings, runDir: string): Promise<number> {
    const { folder } = await this.entry(spec, settings);
    const cached = RunCache.epochs(folder);
    if (cached.length === 0) return 0;
    // Any entry's log holds the utilization of every epoch up to its own; the longest tells most.
    const log = await readMetricsLog(join(folder, epochFolder(cached.at(-1)!), METRICS_FILE));
    const reach = lastEpochOf(spec, log.map((r) => r.utilization));
    const epoch = cached.filter((e) => e <= reach).at(-1);
    if (epoch === undefined) return 0;
    const source = join(folder, epochFolder(epoch));
    await verifyCheckpoint(source);
    const state = await readTrainerState(source);
    const files: Record<string, Uint8Array> = {};
    for (const file of Object.values(CHECKPOINT_FILES)) files[file] = await readFile(join(source, file));
    await mkdir(runDir, { recursive: true });
    await writeFileAtomic(join(runDir, METRICS_FILE), await readFile(join(source, METRICS_FILE), 'utf8'));
    await commitCheckpoint(runDir, `step-${String(state.step).padStart(8, '0')}`, files);
    return epoch;
  }

  /** Adds the end-of-epoch checkpoint `runDir` holds after `epoch` epochs, unless that epoch is cached already. */
  async store(spec: RunSpec, settings: ExperimentSettings, epoch: number, runDir: string): Promise<void> {
    const { folder, source } = await this.entry(spec, settings);
    const final = join(folder, epochFolder(epoch));
    if (existsSync(final)) return;
    const checkpoint = resolveCheckpoint(runDir);
    const state = await readTrainerState(checkpoint);
    if (state.epoch !== epoch || state.epochProgress !== undefined) throw new Error(`run cache: ${checkpoint} is not the checkpoint at the end of epoch ${epoch}`);
    await mkdir(folder, { recursive: true });
    if (!existsSync(join(folder, KEY_FILE))) await writeFileAtomic(join(folder, KEY_FILE), `${source}\n`);
    const temp = join(folder, `.${epochFolder(epoch)}.${process.pid}.tmp`);
    await rm(temp, { recursive: true, force: true });
    try {
      await mkdir(temp);
      for (const file of [...Object.values(CHECKPOINT_FILES), CHECKSUMS_FILE]) await cp(join(checkpoint, file), join(temp, file));
      // Parsed lines print back as the trainer wrote them (JSON.stringify of the same values).
      const log = (await readMetricsLog(join(runDir, METRICS_FILE))).filter((r) => r.epoch <= epoch);
      await writeFileAtomic(join(temp, METRICS_FILE), log.map((r) => `${JSON.stringify(r)}\n`).join(''));
      try {
        await rename(temp, final);
      } catch (err) {
        // Another process stored the same epoch meanwhile: its entry is the same training.
        if (!existsSync(final)) throw err;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
}

/**
 * Checkpoints: what one holds and how it is read back. A checkpoint is four files in one folder,
 * committed as a unit by run-directory.ts:
 *
 *   model.safetensors      parameters and non-gradient state (e.g. EMA statistics), F32
 *   optimizer.safetensors  optimizer slots (Adam moments) and the step counter `opt.step`
 *   config.json            the `ModelConfig` the model is rebuilt from
 *   trainer-state.json     epoch, step, seed, batch, learning rate and the data position
 *
 * Every reader takes a run directory (its last checkpoint) or a checkpoint folder (such as the
 * run's best, `bestCheckpoint`), including a run written before runs had checkpoint.json. Both
 * safetensors files carry the epoch and step in `__metadata__`; on resume they must agree with the
 * trainer state.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../models/config.js';
import type { VariableKind, VariableStore } from '../runtime/variables.js';
import { CheckpointError, configFromJson, loadInto, modelFromWeights, readSafetensors, requireAll, type ModelWeights } from './checkpoint-weights.js';
import { CHECKPOINT_FILES, commitCheckpoint, resolveCheckpoint, type CommitOptions } from './run-directory.js';
import { encodeSafetensors, type NamedTensor } from './safetensors.js';

export { CHECKPOINT_FILES };

export const TRAINER_FORMAT = 'vqlab-trainer';

/** Where training stands after a completed epoch; enough to continue exactly. */
export interface TrainerState {
  readonly format: typeof TRAINER_FORMAT;
  readonly version: 1;
  /** Completed epochs. */
  readonly epoch: number;
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** Epochs the run was asked for. */
  readonly epochs: number;
  readonly seed: number;
  readonly batch: number;
  readonly lr: number;
  /** Where the next batch comes from: epoch index of the seeded shuffle and batch within it. */
  readonly dataPosition: { readonly epoch: number; readonly batch: number };
  /** The data the run trains on, so resume and eval find the same sets. */
  readonly data: {
    readonly path: string | null;
    readonly name: string;
    readonly trainCount: number;
    readonly testCount: number;
    readonly trainLimit: number | null;
    readonly testLimit: number | null;
  };
  readonly optimizer: { readonly name: string; readonly config: Readonly<Record<string, number | boolean | string>> };
  /** Learning-rate schedule (absent: constant lr). */
  readonly lrSchedule?: { readonly warmupSteps: number; readonly cosine: boolean; readonly minLr: number };
  /** Global gradient-norm clipping threshold (absent or null: none). */
  readonly clipGradNorm?: number | null;
  /** Stop once training utilization plateaus (train/plateau.ts; absent: train all epochs). */
  readonly stopOnPlateau?: { readonly patience: number; readonly minDelta: number };
  /** For a checkpoint saved mid-epoch: the running totals of the epoch's steps so far. */
  readonly epochProgress?: EpochProgress;
}

/** The running totals of an unfinished epoch, so a resumed epoch reports what an uninterrupted one would. */
export interface EpochProgress {
  readonly steps: number;
  readonly lossSums: Readonly<Record<string, number>>;
  /** Per-code counts summed over the epoch's steps so far. */
  readonly codeCounts: readonly number[];
  /** Codes the quantizer's host step re-seeded in the epoch so far (absent: 0). */
  readonly reseededCodes?: number;
  readonly stepMs: number;
}

function snapshotOf(store: VariableStore, kinds: readonly VariableKind[]): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, { shape, data }] of store.snapshot(kinds)) out.set(name, { shape, data });
  return out;
}

/** Save a checkpoint of the run in `runDir` as one unit (see run-directory.ts). */
export async function saveCheckpoint(runDir: string, config: ModelConfig, store: VariableStore, trainer: TrainerState, options: CommitOptions = {}): Promise<void> {
  const metadata = { format: 'vqlab', epoch: String(trainer.epoch), step: String(trainer.step) };
  // Values are copied by `snapshot`, so serialization never races a later step's buffer swap.
  await commitCheckpoint(runDir, `step-${String(trainer.step).padStart(8, '0')}`, {
    [CHECKPOINT_FILES.model]: encodeSafetensors(snapshotOf(store, ['param', 'state']), { ...metadata, config: JSON.stringify(config) }),
    [CHECKPOINT_FILES.optimizer]: encodeSafetensors(snapshotOf(store, ['optimizer']), { ...metadata, optimizer: trainer.optimizer.name }),
    [CHECKPOINT_FILES.config]: `${JSON.stringify(config, null, 2)}\n`,
    [CHECKPOINT_FILES.trainer]: `${JSON.stringify(trainer, null, 2)}\n`,
  }, options);
}

async function readBytes(dir: string, file: string, hint: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`${join(dir, file)} does not exist; ${hint}`);
    throw new CheckpointError(`cannot read ${join(dir, file)}: ${code ?? String(err)}`);
  }
}

/** Read and parse one JSON file of a checkpoint; `hint` completes the error for a missing file. */
async function readJson(dir: string, name: string, hint: string): Promise<{ path: string; json: unknown }> {
  const path = join(dir, name);
  const text = (await readBytes(dir, name, hint)).toString('utf8');
  try {
    return { path, json: JSON.parse(text) as unknown };
  } catch {
    throw new CheckpointError(`${path} is not valid JSON; the checkpoint is corrupt`);
  }
}

export async function readConfig(location: string): Promise<ModelConfig> {
  const dir = resolveCheckpoint(location);
  const { path, json } = await readJson(dir, CHECKPOINT_FILES.config, 'is this a vqlab checkpoint directory (written by `vqlab train --out DIR`)?');
  return configFromJson(json, path);
}

export async function readTrainerState(location: string): Promise<TrainerState> {
  const dir = resolveCheckpoint(location);
  const { path, json } = await readJson(dir, CHECKPOINT_FILES.trainer, 'only a directory written by `vqlab train` can be resumed');
  const s = json as Partial<TrainerState> | null;
  const ints = ['epoch', 'step', 'epochs', 'seed', 'batch'] as const;
  if (!s || s.format !== TRAINER_FORMAT || ints.some((k) => !Number.isInteger(s[k])) || typeof s.lr !== 'number' || !s.dataPosition || !s.data || !s.optimizer) {
    throw new CheckpointError(`${path} is not a vqlab trainer state; the checkpoint is corrupt`);
  }
  return s as TrainerState;
}

export interface LoadedModel extends ModelWeights {
  readonly dir: string;
}

/** Rebuild a model from `dir` with its trained weights (parameters and state, not the optimizer). */
export async function loadModelCheckpoint(location: string): Promise<LoadedModel> {
  const dir = resolveCheckpoint(location);
  const config = await readConfig(dir);
  const bytes = await readBytes(dir, CHECKPOINT_FILES.model, 'the checkpoint has no weights (did training finish its first epoch?)');
  return { dir, ...modelFromWeights(config, bytes, join(dir, CHECKPOINT_FILES.model)) };
}

/**
 * Load a full training checkpoint into `store` (whose variables, including optimizer slots, must
 * already exist: create the training program first) and return the trainer state. Refuses
 * checkpoints whose files come from different saves.
 */
export async function loadTrainingCheckpoint(location: string, store: VariableStore): Promise<TrainerState> {
  const dir = resolveCheckpoint(location);
  const trainer = await readTrainerState(dir);
  const modelPath = join(dir, CHECKPOINT_FILES.model);
  const optimizerPath = join(dir, CHECKPOINT_FILES.optimizer);
  const model = readSafetensors(await readBytes(dir, CHECKPOINT_FILES.model, 'the checkpoint has no weights'), modelPath);
  const optimizer = readSafetensors(await readBytes(dir, CHECKPOINT_FILES.optimizer, 'the checkpoint has no optimizer state, so it cannot be resumed exactly'), optimizerPath);
  for (const [path, meta] of [[modelPath, model.metadata], [optimizerPath, optimizer.metadata]] as const) {
    if (meta.epoch !== String(trainer.epoch) || meta.step !== String(trainer.step)) {
      throw new CheckpointError(`${path} is from epoch ${meta.epoch ?? '?'} step ${meta.step ?? '?'} but trainer-state.json from epoch ${trainer.epoch} step ${trainer.step}; the last save was interrupted, restore a consistent checkpoint`);
    }
  }
  requireAll(store, model.tensors, ['param', 'state'], modelPath);
  loadInto(store, model.tensors, modelPath);
  for (const name of optimizer.tensors.keys()) {
    if (store.get(name)?.kind !== 'optimizer') throw new CheckpointError(`${optimizerPath} has '${name}', which is not an optimizer slot of this run; was it saved with another optimizer or model?`);
  }
  requireAll(store, optimizer.tensors, ['optimizer'], optimizerPath);
  loadInto(store, optimizer.tensors, optimizerPath, true);
  return trainer;
}

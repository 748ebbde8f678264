/**
 * Checkpoints: what one holds and how it is read back. A checkpoint is four files in one folder,
 * committed as a unit by run-directory.ts together with checksums.json, the SHA-256 of each:
 *
 *   model.safetensors      parameters and non-gradient state (e.g. EMA statistics), F32
 *   optimizer.safetensors  optimizer slots (Adam moments) and the step counter `opt.step`
 *   config.json            the `ModelConfig` the model is rebuilt from
 *   trainer-state.json     epoch, step, seed, batch, learning rate and the data position (trainer-state.ts)
 *
 * Every reader takes a run directory (its last checkpoint, or with `checkpoint: 'best'` its best)
 * or a checkpoint folder, including a run written before runs had checkpoint.json. Each file read
 * is verified against checksums.json first (checkpoint-folder.ts); loading a model or a training
 * checkpoint verifies the checkpoint's other files too, since a checkpoint is intact only as a
 * whole. Both safetensors files carry the epoch and step in `__metadata__`; on resume they must
 * agree with the trainer state.
 */
import { join } from 'node:path';
import type { ModelConfig } from '../models/config.js';
import type { VariableKind, VariableStore } from '../runtime/variables.js';
import { CheckpointFolder, type CheckpointReadOptions } from './checkpoint-folder.js';
import { CheckpointError, configFromJson, loadInto, modelFromWeights, readSafetensors, requireAll, type ModelWeights } from './checkpoint-weights.js';
import { CHECKPOINT_FILES, commitCheckpoint, resolveCheckpoint, type CommitOptions } from './run-directory.js';
import { encodeSafetensors, type NamedTensor } from './safetensors.js';
import { parseTrainerState, TRAINER_FORMAT, type TrainerState } from './trainer-state.js';

export { CHECKPOINT_FILES, parseTrainerState, TRAINER_FORMAT, type CheckpointReadOptions, type TrainerState };
export type { EpochProgress } from './trainer-state.js';

function snapshotOf(store: VariableStore, kinds: readonly VariableKind[]): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, { shape, data }] of store.snapshot(kinds)) out.set(name, { shape, data });
  return out;
}

/** Save a checkpoint of the run in `runDir` as one unit (see run-directory.ts). */
export async function saveCheckpoint(runDir: string, config: ModelConfig, store: VariableStore, trainer: TrainerState, options: CommitOptions = {}): Promise<void> {
  const metadata = { format: 'vqlab', epoch: String(trainer.epoch), step: String(trainer.step) };
  // A sync point: variables a GPU training program holds on the device are downloaded first.
  await store.sync();
  // Values are copied by `snapshot`, so serialization never races a later step's buffer swap.
  await commitCheckpoint(runDir, `step-${String(trainer.step).padStart(8, '0')}`, {
    [CHECKPOINT_FILES.model]: encodeSafetensors(snapshotOf(store, ['param', 'state']), { ...metadata, config: JSON.stringify(config) }),
    [CHECKPOINT_FILES.optimizer]: encodeSafetensors(snapshotOf(store, ['optimizer']), { ...metadata, optimizer: trainer.optimizer.name }),
    [CHECKPOINT_FILES.config]: `${JSON.stringify(config, null, 2)}\n`,
    [CHECKPOINT_FILES.trainer]: `${JSON.stringify(trainer, null, 2)}\n`,
  }, options);
}

const CONFIG_HINT = 'is this a vqlab checkpoint directory (written by `vqlab train --out DIR`)?';
const TRAINER_HINT = 'only a directory written by `vqlab train` can be resumed';

/** The checkpoint folder that `location` and `options.checkpoint` name, opened with its checksums. */
function openCheckpoint(location: string, options: CheckpointReadOptions): Promise<CheckpointFolder> {
  return CheckpointFolder.open(resolveCheckpoint(location, options.checkpoint, options.limits), options);
}

async function configOf(folder: CheckpointFolder): Promise<ModelConfig> {
  const path = join(folder.dir, CHECKPOINT_FILES.config);
  const text = (await folder.read(CHECKPOINT_FILES.config, CONFIG_HINT)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CheckpointError(`${path} is not valid JSON; the checkpoint is corrupt`);
  }
  return configFromJson(json, path);
}

async function trainerStateOf(folder: CheckpointFolder): Promise<TrainerState> {
  const bytes = await folder.read(CHECKPOINT_FILES.trainer, TRAINER_HINT);
  return parseTrainerState(bytes.toString('utf8'), join(folder.dir, CHECKPOINT_FILES.trainer));
}

export async function readConfig(location: string, options: CheckpointReadOptions = {}): Promise<ModelConfig> {
  return configOf(await openCheckpoint(location, options));
}

export async function readTrainerState(location: string, options: CheckpointReadOptions = {}): Promise<TrainerState> {
  return trainerStateOf(await openCheckpoint(location, options));
}

/**
 * Verify every file of the checkpoint against its checksums.json without loading it, so that a
 * resume refuses a damaged checkpoint before compiling anything; a checkpoint without checksums
 * passes, with the notice.
 */
export async function verifyCheckpoint(location: string, options: CheckpointReadOptions = {}): Promise<void> {
  await (await openCheckpoint(location, options)).verifyRest();
}

export interface LoadedModel extends ModelWeights {
  readonly dir: string;
}

/** Rebuild a model from `location` with its trained weights (parameters and state, not the optimizer). */
export async function loadModelCheckpoint(location: string, options: CheckpointReadOptions = {}): Promise<LoadedModel> {
  const folder = await openCheckpoint(location, options);
  const config = await configOf(folder);
  const bytes = await folder.read(CHECKPOINT_FILES.model, 'the checkpoint has no weights (did training finish its first epoch?)');
  await folder.verifyRest();
  return { dir: folder.dir, ...modelFromWeights(config, bytes, join(folder.dir, CHECKPOINT_FILES.model)) };
}

/**
 * Load a full training checkpoint into `store` (whose variables, including optimizer slots, must
 * already exist: create the training program first) and return the trainer state. Refuses
 * checkpoints whose files come from different saves.
 */
export async function loadTrainingCheckpoint(location: string, store: VariableStore, options: CheckpointReadOptions = {}): Promise<TrainerState> {
  const folder = await openCheckpoint(location, options);
  const dir = folder.dir;
  const trainer = await trainerStateOf(folder);
  const modelPath = join(dir, CHECKPOINT_FILES.model);
  const optimizerPath = join(dir, CHECKPOINT_FILES.optimizer);
  const model = readSafetensors(await folder.read(CHECKPOINT_FILES.model, 'the checkpoint has no weights'), modelPath);
  const optimizer = readSafetensors(await folder.read(CHECKPOINT_FILES.optimizer, 'the checkpoint has no optimizer state, so it cannot be resumed exactly'), optimizerPath);
  await folder.verifyRest();
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

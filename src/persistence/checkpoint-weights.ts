/**
 * A checkpoint's weights as bytes → a model with its trained parameters and state. Nothing here
 * reads files, so a browser page (given the files by the user) and checkpoint.ts (given them by
 * the file system) load checkpoints with the same checks and the same errors.
 */
import { Graph } from '../graph/graph.js';
import { buildModel, parseModelConfig, type ModelConfig } from '../models/config.js';
import { autoencode } from '../models/forward.js';
import type { VqvaeModel } from '../models/model.js';
import { BuildContext } from '../runtime/build-context.js';
import { VariableStore, type VariableKind } from '../runtime/variables.js';
import { decodeSafetensors, SafetensorsError, type NamedTensor } from './safetensors.js';

/** A checkpoint that is missing, corrupt or does not fit the model; one line, naming the fix. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export function readSafetensors(bytes: Uint8Array, path: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  try {
    return decodeSafetensors(bytes, path);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new CheckpointError(`${err.message}; the checkpoint is corrupt, retrain or restore it`);
    throw err;
  }
}

/** config.json's parsed JSON as a `ModelConfig`, with `path` naming the file in errors. */
export function configFromJson(json: unknown, path: string): ModelConfig {
  try {
    return parseModelConfig(json, path);
  } catch (err) {
    throw new CheckpointError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Create every variable the model defines (parameters and state) in `store` by building its
 * training forward pass symbolically; no ONNX session is made.
 */
function instantiateModel(model: VqvaeModel, store: VariableStore): void {
  const ctx = BuildContext.create(new Graph(), store, 'train');
  const { channels, height, width } = model.input;
  autoencode(ctx, model, ctx.input('x', [1, channels, height, width]));
}

/** Every variable of `kinds` in the store must be in the file (store.load checks parameters only). */
export function requireAll(store: VariableStore, tensors: ReadonlyMap<string, NamedTensor>, kinds: readonly VariableKind[], path: string): void {
  for (const kind of kinds) {
    for (const v of store.list(kind)) {
      if (!tensors.has(v.name)) throw new CheckpointError(`${path} lacks ${kind === 'optimizer' ? 'optimizer slot' : kind} '${v.name}'; was it saved by another model or optimizer configuration?`);
    }
  }
}

export function loadInto(store: VariableStore, tensors: ReadonlyMap<string, NamedTensor>, path: string, allowMissing = false): void {
  try {
    store.load(new Map([...tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data }])), { allowMissing });
  } catch (err) {
    throw new CheckpointError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface ModelWeights {
  readonly config: ModelConfig;
  readonly model: VqvaeModel;
  /** Holds the checkpoint's parameters and state. */
  readonly store: VariableStore;
  /** Epoch recorded in model.safetensors. */
  readonly epoch: number;
}

/** Rebuild the model of `config` and load model.safetensors' `bytes` (read from `path`) into it. */
export function modelFromWeights(config: ModelConfig, bytes: Uint8Array, path: string): ModelWeights {
  const model = buildModel(config);
  const { tensors, metadata } = readSafetensors(bytes, path);
  const store = new VariableStore(0);
  instantiateModel(model, store);
  requireAll(store, tensors, ['param', 'state'], path);
  loadInto(store, tensors, path);
  return { config, model, store, epoch: Number(metadata.epoch ?? 0) };
}

/**
 * Exported graphs of a sequence model (audio) that take a whole signal of any length: input
 * [batch, 1, 1, samples] (one row, as every vqlab audio graph) with `samples` left to run time,
 * any multiple of the hop (the model's values per code frame), output indices [batch, 1, frames]
 * with frames = samples / hop; the
 * decoder maps them back. The caller zero-pads a signal to the next multiple of the hop, as
 * `vqlab encode` pads its last window. The batch stays fixed: the indices' reshape
 * [batch·frames] → [batch, 1, frames] has two free sizes, and ONNX's Reshape infers only one.
 *
 * The graph is the model's own at one length, made free by batch-free-graph.ts: it is built for
 * configs of b and b + 1 frames (the modality's `withExampleLength`, same weights), and the sizes
 * that differ are left to ONNX Runtime. A whole utterance is then coded with the context of its
 * neighbouring frames, where `vqlab encode` codes it in separate windows of the model's example
 * length; inside one window both give the same codes.
 */
import { buildModel, type ModelConfig } from '../models/config.js';
import { decodeFromIndices, encodeToIndices, indexGridShape } from '../models/forward.js';
import { modalityOf } from '../modality/registry.js';
import type { VariableStore } from '../runtime/variables.js';
import { bakeModel, type FreeDimension } from './baked-model.js';
import type { FreeSize } from './batch-free-graph.js';
import type { ModelLowering } from './tokenizer.js';

/** Symbolic names of the free dimensions: the signal's samples and the code frames. */
export const SAMPLES_DIM = 'samples';
export const FRAMES_DIM = 'frames';

const FREE_LENGTH: FreeSize = { what: 'the signal length', instead: 'this model cannot be exported with a dynamic length' };

/** The search of an exported model: one row block and a plain argmin per code block follow any number of rows (see export.ts). */
const ANY_ROWS_SEARCH = { search: { chunkM: 2 ** 30, group: 1 } } as const;

export interface FreeLengthModel {
  readonly encoder: Uint8Array;
  readonly decoder: Uint8Array;
  /** Samples per code frame: the signal length must be a multiple of it. */
  readonly hop: number;
}

/** Values per code frame along the sequence axis of a sequence model's config. */
function hopOf(config: ModelConfig): number {
  const model = buildModel(config);
  const length = modalityOf(config).exampleDims(config).at(-1)!;
  if (model.latent.height !== 1) throw new Error(`a sequence model codes one row of frames, but this one codes ${model.latent.height} rows`);
  return length / model.latent.width;
}

/** The encoder and decoder of a sequence model at `batch` signals of any length (see the file comment). */
export function freeLengthModelBytes(store: VariableStore, config: ModelConfig, batch: number, lowering: ModelLowering = {}): FreeLengthModel {
  const modality = modalityOf(config);
  const withLength = modality.withExampleLength;
  if (!modality.sequence || withLength === undefined) throw new Error(`${modality.examples} are not sequences: only a sequence model (audio) is exported with a dynamic length`);
  const hop = hopOf(config);
  const at = (frames: number): { config: ModelConfig; model: ReturnType<typeof buildModel> } => {
    const sized = withLength(config, frames * hop);
    return { config: sized, model: buildModel(sized, ANY_ROWS_SEARCH) };
  };
  const metadata = { vqlab_config: JSON.stringify(config), vqlab_hop: String(hop) };
  const free = (names: Readonly<Record<string, string>>): FreeDimension => ({ size: FREE_LENGTH, dimNames: names });
  const encoder = bakeModel(store, 'dynamic', (ctx, frames) => {
    const { config: sized, model } = at(frames);
    return { indices: encodeToIndices(ctx, model, ctx.input(modality.signalName, [batch, ...modality.exampleDims(sized)])) };
  }, { graphName: 'vqlab_encoder', metadata: { ...metadata, role: 'encoder' }, free: free({ [modality.signalName]: SAMPLES_DIM, indices: FRAMES_DIM }), ...lowering });
  const decoder = bakeModel(store, 'dynamic', (ctx, frames) => {
    const { model } = at(frames);
    const indices = ctx.input('indices', indexGridShape(model, batch, 1, frames), 'int64');
    return { [modality.signalName]: modality.validOutput(decodeFromIndices(ctx, model, indices)) };
  }, { graphName: 'vqlab_decoder', metadata: { ...metadata, role: 'decoder' }, free: free({ indices: FRAMES_DIM, [modality.signalName]: SAMPLES_DIM }), ...lowering });
  return { encoder, decoder, hop };
}

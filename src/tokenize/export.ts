/**
 * `vqlab export`: write `encoder.onnx` (example → int64 indices) and `decoder.onnx` (indices →
 * example; for an image model, images in [0, 1]) with the trained weights baked in as
 * initializers, for plain ONNX Runtime:
 *
 *   const s = await ort.InferenceSession.create('encoder.onnx');
 *   const { indices } = await s.run({ image: new ort.Tensor('float32', pixels, [1, 1, 28, 28]) });
 *
 * The batch dimension is dynamic (named `batch`): one exported model runs any number of images.
 * A fixed batch can be asked for instead. A sequence model (audio) is exported with its length
 * dynamic instead (free-length-graphs.ts): a whole signal [batch, 1, 1, samples], samples any
 * multiple of the hop, at a fixed batch (default 1).
 */
import { join } from 'node:path';
import { buildModel } from '../models/config.js';
import type { ExportOpset } from '../onnx/lower.js';
import { modalityOf } from '../modality/registry.js';
import { loadModelCheckpoint, type CheckpointReadOptions } from '../persistence/checkpoint.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { BATCH_DIM } from './baked-model.js';
import { FRAMES_DIM, freeLengthModelBytes, SAMPLES_DIM } from './free-length-graphs.js';
import { decoderModelBytes, encoderModelBytes } from './tokenizer.js';

/** `checkpoint` picks a run's last or best checkpoint; `notice` hears that one carries no checksums. */
export interface ExportOptions extends CheckpointReadOptions {
  /** Where to write the two files (default: the checkpoint directory). */
  readonly outDir?: string | undefined;
  /** Batch size fixed in the graphs (default: dynamic, any size at run time; for a sequence model 1, its length being dynamic). */
  readonly batch?: number | 'dynamic' | undefined;
  /** ONNX opset of the two graphs (default OPSET; 17 for tools that know no newer one). */
  readonly opset?: ExportOpset | undefined;
}

export interface ExportResult {
  readonly encoder: string;
  readonly decoder: string;
  readonly batch: number | 'dynamic';
  /** Shapes of the encoder's input and output; a dynamic dimension is its name: 'batch', or a sequence's 'samples' and 'frames'. */
  readonly inputShape: readonly (number | string)[];
  readonly indicesShape: readonly (number | string)[];
  /** For a sequence model: samples per code frame, of which the input length must be a multiple. */
  readonly hop?: number;
}

export async function exportOnnx(dir: string, options: ExportOptions = {}): Promise<ExportResult> {
  const requested = options.batch;
  if (requested !== undefined && requested !== 'dynamic' && !(Number.isInteger(requested) && requested >= 1)) throw new Error(`export batch must be a positive integer or 'dynamic', got ${requested}`);
  const outDir = options.outDir ?? dir;
  const { config, store } = await loadModelCheckpoint(dir, options);
  const modality = modalityOf(config);
  if (modality.sequence) {
    if (requested === 'dynamic') throw new Error(`${modality.examples} are exported with a dynamic length, so the batch is fixed; give a batch size (default 1)`);
    const batch = requested ?? 1;
    const graphs = freeLengthModelBytes(store, config, batch, { opset: options.opset });
    await prepareOutputDir(outDir);
    const encoder = join(outDir, 'encoder.onnx');
    const decoder = join(outDir, 'decoder.onnx');
    await writeFileAtomic(encoder, graphs.encoder);
    await writeFileAtomic(decoder, graphs.decoder);
    const depth = buildModel(config).quantizer.depth;
    const stages = depth > 1 ? [depth] : [];
    return { encoder, decoder, batch, inputShape: [batch, ...modality.exampleDims(config).slice(0, -1), SAMPLES_DIM], indicesShape: [batch, 1, FRAMES_DIM, ...stages], hop: graphs.hop };
  }
  const batch = requested ?? 'dynamic';
  // The default search splits the rows into blocks and records the row count in a constant (the
  // grouped argmin); with one row block and a plain argmin per code block it follows any batch,
  // and finds the same codes.
  const model = buildModel(config, batch === 'dynamic' ? { search: { chunkM: 2 ** 30, group: 1 } } : {});
  await prepareOutputDir(outDir);
  const encoder = join(outDir, 'encoder.onnx');
  const decoder = join(outDir, 'decoder.onnx');
  await writeFileAtomic(encoder, encoderModelBytes(model, store, config, batch, { opset: options.opset }));
  await writeFileAtomic(decoder, decoderModelBytes(model, store, config, batch, { opset: options.opset }));
  const n = batch === 'dynamic' ? BATCH_DIM : batch;
  const stages = model.quantizer.depth > 1 ? [model.quantizer.depth] : [];
  return { encoder, decoder, batch, inputShape: [n, ...modality.exampleDims(config)], indicesShape: [n, model.latent.height, model.latent.width, ...stages] };
}

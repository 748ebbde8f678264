/**
 * `vqlab export`: write `encoder.onnx` (example → int64 indices) and `decoder.onnx` (indices →
 * example; for an image model, images in [0, 1]) with the trained weights baked in as
 * initializers, for plain ONNX Runtime:
 *
 *   const s = await ort.InferenceSession.create('encoder.onnx');
 *   const { indices } = await s.run({ image: new ort.Tensor('float32', pixels, [1, 1, 28, 28]) });
 *
 * The batch dimension is dynamic (named `batch`): one exported model runs any number of images.
 * A fixed batch can be asked for instead.
 */
import { join } from 'node:path';
import { buildModel } from '../models/config.js';
import type { ExportOpset } from '../onnx/lower.js';
import { modalityOf } from '../modality/registry.js';
import { loadModelCheckpoint, type CheckpointReadOptions } from '../persistence/checkpoint.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { BATCH_DIM } from './baked-model.js';
import { decoderModelBytes, encoderModelBytes } from './tokenizer.js';

/** `checkpoint` picks a run's last or best checkpoint; `notice` hears that one carries no checksums. */
export interface ExportOptions extends CheckpointReadOptions {
  /** Where to write the two files (default: the checkpoint directory). */
  readonly outDir?: string | undefined;
  /** Batch size fixed in the graphs (default: dynamic, any size at run time). */
  readonly batch?: number | 'dynamic' | undefined;
  /** ONNX opset of the two graphs (default OPSET; 17 for tools that know no newer one). */
  readonly opset?: ExportOpset | undefined;
}

export interface ExportResult {
  readonly encoder: string;
  readonly decoder: string;
  readonly batch: number | 'dynamic';
  /** Shapes of the encoder's input and output; a dynamic batch dimension is the string 'batch'. */
  readonly inputShape: readonly (number | string)[];
  readonly indicesShape: readonly (number | string)[];
}

export async function exportOnnx(dir: string, options: ExportOptions = {}): Promise<ExportResult> {
  const batch = options.batch ?? 'dynamic';
  if (batch !== 'dynamic' && !(Number.isInteger(batch) && batch >= 1)) throw new Error(`export batch must be a positive integer or 'dynamic', got ${batch}`);
  const outDir = options.outDir ?? dir;
  const { config, store } = await loadModelCheckpoint(dir, options);
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
  return { encoder, decoder, batch, inputShape: [n, ...modalityOf(config).exampleDims(config)], indicesShape: [n, model.latent.height, model.latent.width, ...stages] };
}

/**
 * `vqlab export`: write `encoder.onnx` (image → int64 indices) and `decoder.onnx` (indices →
 * image in [0, 1]) with the trained weights baked in as initializers, for plain ONNX Runtime:
 *
 *   const s = await ort.InferenceSession.create('encoder.onnx');
 *   const { indices } = await s.run({ image: new ort.Tensor('float32', pixels, [1, 1, 28, 28]) });
 *
 * Shapes are static (the batch is fixed at export time, default 1).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelCheckpoint } from '../persistence/checkpoint.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { decoderModelBytes, encoderModelBytes } from './tokenizer.js';

export interface ExportOptions {
  /** Where to write the two files (default: the checkpoint directory). */
  readonly outDir?: string;
  /** Batch size baked into the graphs (default 1). */
  readonly batch?: number;
}

export interface ExportResult {
  readonly encoder: string;
  readonly decoder: string;
  readonly batch: number;
  readonly inputShape: readonly number[];
  readonly indicesShape: readonly number[];
}

export async function exportOnnx(dir: string, options: ExportOptions = {}): Promise<ExportResult> {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`export batch must be a positive integer, got ${batch}`);
  const { config, model, store } = await loadModelCheckpoint(dir);
  const outDir = options.outDir ?? dir;
  await mkdir(outDir, { recursive: true });
  const encoder = join(outDir, 'encoder.onnx');
  const decoder = join(outDir, 'decoder.onnx');
  await writeFileAtomic(encoder, encoderModelBytes(model, store, config, batch));
  await writeFileAtomic(decoder, decoderModelBytes(model, store, config, batch));
  const { channels, height, width } = model.input;
  return { encoder, decoder, batch, inputShape: [batch, channels, height, width], indicesShape: [batch, model.latent.height, model.latent.width] };
}

/**
 * The tokenizer API of a trained checkpoint: examples → code indices → examples (for images NCHW
 * in [0, 1]; the modality of the checkpoint's config gives their shape and the graphs' names).
 *
 *   const tok = await Tokenizer.load('runs/mnist');  // or Tokenizer.pretrained('mnist-simvq-1k')
 *   const codes = await tok.encode(images);        // Int32Array [N, h, w]
 *   const recon = await tok.decode(codes);         // Float32Array [N, C, H, W] in [0, 1]
 *
 * Both directions run the self-contained ONNX graphs that `vqlab export` writes (weights baked in,
 * see baked-model.ts), at a fixed batch; a last partial batch is zero-padded and trimmed.
 */
import type { ModelConfig } from '../models/config.js';
import { decodeFromIndices, encodeToIndices, indexGridShape } from '../models/forward.js';
import type { ImageShape, LatentShape, VqvaeModel } from '../models/model.js';
import { modalityOf } from '../modality/registry.js';
import { forEachFixedBatch } from '../runtime/fixed-batches.js';
import type { VariableStore } from '../runtime/variables.js';
import { currentRuntime, graphIndexType } from '../runtime/runtime.js';
import type { IndexType } from '../onnx/emitter.js';
import type { ExportOpset } from '../onnx/lower.js';
import { loadModelCheckpoint, type CheckpointReadOptions } from '../persistence/checkpoint.js';
import { bakeModel, BakedSession } from './baked-model.js';
import { pretrainedModel, unknownModelError } from './pretrained.js';

/** `checkpoint` picks a run's last or best checkpoint; `notice` hears that one carries no checksums. */
export interface TokenizerOptions extends CheckpointReadOptions {
  /** Images per session run (default 32). */
  readonly batch?: number;
  /** ORT intra-op threads (default 0: ORT's choice). */
  readonly threads?: number;
}

/** How an exported graph is lowered: its index type (int32 for WebGPU, `webgpu-forms.ts`) and its opset. */
export interface ModelLowering {
  readonly indexType?: IndexType | undefined;
  readonly opset?: ExportOpset | undefined;
}

/**
 * ONNX bytes of the encoder: input named by the modality (`image` float32 [batch, C, H, W]) →
 * output `indices` int64 [batch, h, w] ([batch, h, w, D] for a residual quantizer of depth D);
 * `batch` is a fixed size or 'dynamic' (any size at run time); `opset` defaults to OPSET.
 */
export function encoderModelBytes(model: VqvaeModel, store: VariableStore, config: ModelConfig, batch: number | 'dynamic', lowering: ModelLowering = {}): Uint8Array {
  const modality = modalityOf(config);
  const dims = modality.exampleDims(config);
  return bakeModel(store, batch, (ctx, n) => ({ indices: encodeToIndices(ctx, model, ctx.input(modality.signalName, [n, ...dims])) }), {
    graphName: 'vqlab_encoder',
    metadata: { vqlab_config: JSON.stringify(config), role: 'encoder' },
    ...lowering,
  });
}

/**
 * ONNX bytes of the decoder: input `indices` int64 [batch, h, w] (or [batch, h, w, D]) → output
 * named by the modality (`image` float32 [batch, C, H, W] in [0, 1]); `batch` is a fixed size or
 * 'dynamic' (any size at run time); `opset` defaults to OPSET.
 */
export function decoderModelBytes(model: VqvaeModel, store: VariableStore, config: ModelConfig, batch: number | 'dynamic', lowering: ModelLowering = {}): Uint8Array {
  const { height, width } = model.latent;
  const modality = modalityOf(config);
  return bakeModel(store, batch, (ctx, n) => ({ [modality.signalName]: modality.validOutput(decodeFromIndices(ctx, model, ctx.input('indices', indexGridShape(model, n, height, width), 'int64'))) }), {
    graphName: 'vqlab_decoder',
    metadata: { vqlab_config: JSON.stringify(config), role: 'decoder' },
    ...lowering,
  });
}

class TokenizerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerInputError';
  }
}

export class Tokenizer {
  private constructor(
    readonly config: ModelConfig,
    readonly input: ImageShape,
    readonly latent: LatentShape,
    readonly codebookSize: number,
    /** Indices per latent position: 1, or the stages of a residual quantizer. */
    readonly depth: number,
    readonly batch: number,
    private readonly encoder: BakedSession,
    private readonly decoder: BakedSession,
  ) {}

  static async load(dir: string, options: TokenizerOptions = {}): Promise<Tokenizer> {
    const batch = options.batch ?? 32;
    if (!Number.isInteger(batch) || batch < 1) throw new TokenizerInputError(`tokenizer batch must be a positive integer, got ${batch}`);
    const { config, model, store } = await loadModelCheckpoint(dir, options);
    const modality = modalityOf(config);
    const signal = { name: modality.signalName, dtype: 'float32', shape: [batch, ...modality.exampleDims(config)] } as const;
    const latent = model.latent;
    const indicesShape = indexGridShape(model, batch, latent.height, latent.width);
    // The sessions run on the current runtime, so they take its graph forms (int32 indices on WebGPU).
    const indexType = graphIndexType(currentRuntime());
    const encoder = await BakedSession.create(
      encoderModelBytes(model, store, config, batch, { indexType }),
      signal,
      { name: 'indices', dtype: 'int64', shape: indicesShape },
      options.threads,
    );
    const decoder = await BakedSession.create(
      decoderModelBytes(model, store, config, batch, { indexType }),
      { name: 'indices', dtype: 'int64', shape: indicesShape },
      signal,
      options.threads,
    );
    return new Tokenizer(config, model.input, latent, model.quantizer.codebookSize, model.quantizer.depth, batch, encoder, decoder);
  }

  /** The tokenizer of a model shipped in the package, by name (`vqlab models` lists them; see pretrained.ts). */
  static async pretrained(name: string, options: Omit<TokenizerOptions, 'checkpoint'> = {}): Promise<Tokenizer> {
    const model = pretrainedModel(name);
    if (model === undefined) throw unknownModelError(name);
    return Tokenizer.load(model.dir, options);
  }

  /** Values per example (for an image C·H·W) and codes per example (h·w, times the depth of a residual quantizer). */
  get exampleSize(): number {
    return modalityOf(this.config).exampleDims(this.config).reduce((a, b) => a * b, 1);
  }

  get codesPerImage(): number {
    return this.latent.height * this.latent.width * this.depth;
  }

  /** Code indices [N, h, w] (or [N, h, w, D]) of N examples (images NCHW in [0, 1]; N inferred from the length). */
  async encode(images: Float32Array): Promise<Int32Array> {
    const size = this.exampleSize;
    if (images.length === 0 || images.length % size !== 0) {
      const modality = modalityOf(this.config);
      throw new TokenizerInputError(`encode: ${images.length} values are not a whole number of ${modality.exampleDims(this.config).join('×')} ${modality.examples} (${size} values each)`);
    }
    const count = images.length / size;
    const out = new Int32Array(count * this.codesPerImage);
    await forEachFixedBatch(images, size, this.batch, async (buffer, start, n) => {
      const indices = (await this.encoder.run(buffer)) as BigInt64Array;
      for (let i = 0; i < n * this.codesPerImage; i++) out[start * this.codesPerImage + i] = Number(indices[i]!);
    });
    return out;
  }

  /** Examples (images [N, C, H, W] in [0, 1]) from code indices [N, h, w] (or [N, h, w, D]; N inferred from the length). */
  async decode(indices: ArrayLike<number>): Promise<Float32Array> {
    const per = this.codesPerImage;
    if (indices.length === 0 || indices.length % per !== 0) {
      throw new TokenizerInputError(`decode: ${indices.length} indices are not a whole number of ${this.latent.height}×${this.latent.width}${this.depth > 1 ? `×${this.depth}` : ''} code grids`);
    }
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.codebookSize) {
        throw new TokenizerInputError(`decode: index ${v} at position ${i} is outside the codebook [0, ${this.codebookSize})`);
      }
    }
    const count = indices.length / per;
    const size = this.exampleSize;
    const out = new Float32Array(count * size);
    await forEachFixedBatch(BigInt64Array.from(indices as ArrayLike<number>, (v) => BigInt(v)), per, this.batch, async (buffer, start, n) => {
      const images = (await this.decoder.run(buffer)) as Float32Array;
      out.set(images.subarray(0, n * size), start * size);
    });
    return out;
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}


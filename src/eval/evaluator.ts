/**
 * Reconstruction quality and code usage of a model over an image set, computed with one compiled
 * inference graph (encode → quantize → decode, clamped to [0, 1]) run batch by batch.
 *
 * Definitions (images in [0, 1], reconstructions clamped to [0, 1] as they would be displayed):
 *   mse          mean of (x − x̂)² over every pixel of every image (dataset-level)
 *   psnr         10·log10(1 / mse) with that dataset-level mse (not a mean of per-image PSNRs)
 *   ssim         mean over images of the Gaussian-window SSIM (see ssim.ts)
 *   utilization  fraction of the K codes chosen at least once over the set (exact counts)
 *   perplexity   exp(−Σ_k p_k log p_k), p_k = share of latent vectors assigned to code k
 *   dead_codes   K − (codes used at least once)
 */
import * as op from '../graph/ops.js';
import type { VqvaeModel } from '../models/model.js';
import { autoencode, clampToUnit } from '../models/forward.js';
import { forEachFixedBatch } from '../runtime/fixed-batches.js';
import { InferenceProgram } from '../runtime/inference-program.js';
import type { VariableStore } from '../runtime/variables.js';
import { CodeUsage } from '../quantizers/usage.js';
import { meanSsim } from './ssim.js';

/** The part of a dataset the evaluator reads: `count` images NCHW in [0, 1]. */
export interface ImageSet {
  readonly images: Float32Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface EvalMetrics {
  readonly mse: number;
  readonly psnr: number;
  readonly ssim: number;
  readonly utilization: number;
  readonly perplexity: number;
  readonly dead_codes: number;
}

export interface EvaluationResult {
  readonly metrics: EvalMetrics;
  /** Exact per-code counts over the set, with the usage statistics derived from them. */
  readonly usage: CodeUsage;
  /** The same counts as a plain array (`usage.counts`). */
  readonly counts: Float64Array;
  /** The reconstructions asked for by `keep` (clamped), NCHW. */
  readonly reconstructions: Float32Array;
}

export interface EvaluatorOptions {
  /** Images per session.run (default 100). The last batch is zero-padded and the padding ignored. */
  readonly batch?: number;
  readonly threads?: number;
}

export interface EvaluateOptions {
  /** Compute SSIM (default true; cost is linear in pixels, small next to the model). */
  readonly ssim?: boolean;
  /**
   * Reconstructions to return for a preview grid: a count (the first N images) or the indices of
   * the images wanted, in order (see `spreadIndices`). Default none.
   */
  readonly keep?: number | readonly number[];
}

/** `n` indices spread evenly over `count` images (sources are often sorted by class). */
export function spreadIndices(count: number, n: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, i) => Math.floor((i * count) / k));
}

/** The images at `indices` of an NCHW set, copied in order. */
export function pickImages(images: Float32Array, imageSize: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * imageSize);
  indices.forEach((index, i) => out.set(images.subarray(index * imageSize, (index + 1) * imageSize), i * imageSize));
  return out;
}

/** PSNR in dB of a mean squared error on [0, 1] data; Infinity for a perfect reconstruction. */
export function psnrFromMse(mse: number): number {
  return mse > 0 ? 10 * Math.log10(1 / mse) : Infinity;
}

export class Evaluator {
  private constructor(
    private readonly model: VqvaeModel,
    private readonly program: InferenceProgram,
    readonly batch: number,
  ) {}

  static async create(model: VqvaeModel, store: VariableStore, options: EvaluatorOptions = {}): Promise<Evaluator> {
    const batch = options.batch ?? 100;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`evaluation batch must be a positive integer, got ${batch}`);
    const { channels, height, width } = model.input;
    const program = await InferenceProgram.create({
      store,
      threads: options.threads,
      graphName: 'evaluate',
      build: (ctx) => {
        const out = autoencode(ctx, model, ctx.input('x', [batch, channels, height, width]));
        return { reconstruction: clampToUnit(out.reconstruction), indices: op.reshape(out.indices, [-1]) };
      },
    });
    return new Evaluator(model, program, batch);
  }

  async evaluate(set: ImageSet, options: EvaluateOptions = {}): Promise<EvaluationResult> {
    const { channels, height, width } = this.model.input;
    if (set.channels !== channels || set.height !== height || set.width !== width) {
      throw new Error(`images are ${set.channels}×${set.height}×${set.width} but the model expects ${channels}×${height}×${width}`);
    }
    if (set.count < 1) throw new Error('cannot evaluate on an empty image set');
    const imageSize = channels * height * width;
    const { depth, codebookSize } = this.model.quantizer;
    const codesPerImage = this.model.latent.height * this.model.latent.width * depth;
    // A residual quantizer's stage s uses codes s·K … s·K + K − 1 of the usage counts (countsSize = D·K).
    const usage = new CodeUsage(this.model.quantizer.countsSize);
    const wanted = options.keep ?? 0;
    const keep = typeof wanted === 'number' ? Array.from({ length: Math.min(wanted, set.count) }, (_, i) => i) : [...wanted];
    for (const i of keep) if (!(Number.isInteger(i) && i >= 0 && i < set.count)) throw new Error(`preview index ${i} is outside the ${set.count} images`);
    // The whole reconstructed set is kept when SSIM or a preview needs it (the size of the input set).
    const all = (options.ssim ?? true) || keep.length > 0 ? new Float32Array(set.count * imageSize) : undefined;
    const recon = new Float32Array(this.batch * imageSize);
    const indices = new BigInt64Array(this.batch * codesPerImage);
    let squaredError = 0;
    await forEachFixedBatch(set.images.subarray(0, set.count * imageSize), imageSize, this.batch, async (input, start, n) => {
      await this.program.run({ x: input }, { reconstruction: recon, indices });
      for (let i = 0; i < n * imageSize; i++) {
        const d = recon[i]! - input[i]!;
        squaredError += d * d;
      }
      const chosen = indices.subarray(0, n * codesPerImage);
      if (depth > 1) for (let i = 0; i < chosen.length; i++) chosen[i] = chosen[i]! + BigInt((i % depth) * codebookSize);
      usage.addIndices(chosen);
      all?.set(recon.subarray(0, n * imageSize), start * imageSize);
    });
    const mse = squaredError / (set.count * imageSize);
    const reconstructions = all ? pickImages(all, imageSize, keep) : new Float32Array(0);
    const ssim = options.ssim ?? true ? meanSsim(set.images, all!, set.count, { channels, height, width }) : Number.NaN;
    return {
      metrics: { mse, psnr: psnrFromMse(mse), ssim, utilization: usage.utilization(), perplexity: usage.perplexity(), dead_codes: usage.codebookSize - usage.usedCodes() },
      usage,
      counts: usage.counts,
      reconstructions,
    };
  }

  async release(): Promise<void> {
    await this.program.release();
  }
}

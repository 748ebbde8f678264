/**
 * Reconstruction quality and code usage of a model over a data set, computed with one compiled
 * inference graph (encode → quantize → decode, made valid examples by the modality: images are
 * clamped to [0, 1]) run batch by batch.
 *
 * The reconstruction metrics are the modality's (for images mse, psnr and ssim; see
 * modality/image/image-metrics.ts); the code usage ones are common to all:
 *   utilization  fraction of the K codes chosen at least once over the set (exact counts)
 *   perplexity   exp(−Σ_k p_k log p_k), p_k = share of latent vectors assigned to code k
 *   dead_codes   K − (codes used at least once)
 *   effective_bits                       log2(perplexity)
 *   codes_covering_50, codes_covering_90 the fewest codes that take 50 % / 90 % of the latents
 *                                        (usage.ts): spread use versus a few codes doing the work
 */
import * as op from '../graph/ops.js';
import type { ModelConfig } from '../models/config.js';
import type { VqvaeModel } from '../models/model.js';
import { autoencode } from '../models/forward.js';
import type { ExampleSet, Modality, ReconstructionMetrics } from '../modality/modality.js';
import { forEachFixedBatch } from '../runtime/fixed-batches.js';
import { InferenceProgram } from '../runtime/inference-program.js';
import type { VariableStore } from '../runtime/variables.js';
import { CodeUsage } from '../quantizers/usage.js';

/** The modality's reconstruction metrics, then code usage. */
export interface EvalMetrics extends ReconstructionMetrics {
  readonly utilization: number;
  readonly perplexity: number;
  readonly dead_codes: number;
  readonly effective_bits: number;
  readonly codes_covering_50: number;
  readonly codes_covering_90: number;
}

/** The code-usage part of `EvalMetrics`, from exact counts. */
function usageMetrics(usage: CodeUsage): Pick<EvalMetrics, 'utilization' | 'perplexity' | 'dead_codes' | 'effective_bits' | 'codes_covering_50' | 'codes_covering_90'> {
  return {
    utilization: usage.utilization(),
    perplexity: usage.perplexity(),
    dead_codes: usage.codebookSize - usage.usedCodes(),
    effective_bits: usage.effectiveBits(),
    codes_covering_50: usage.codesCovering(50),
    codes_covering_90: usage.codesCovering(90),
  };
}

export interface EvaluationResult {
  readonly metrics: EvalMetrics;
  /** Exact per-code counts over the set, with the usage statistics derived from them. */
  readonly usage: CodeUsage;
  /** The same counts as a plain array (`usage.counts`). */
  readonly counts: Float64Array;
  /** The reconstructions asked for by `keep` (clamped), one example after another. */
  readonly reconstructions: Float32Array;
}

export interface EvaluatorOptions {
  /** Examples per session.run (default 100). The last batch is zero-padded and the padding ignored. */
  readonly batch?: number | undefined;
  readonly threads?: number | undefined;
}

export interface EvaluateOptions {
  /** Compute the modality's slow metrics too (default true; for images SSIM, linear in pixels, small next to the model). */
  readonly slowMetrics?: boolean;
  /**
   * Reconstructions to return for a preview: a count (the first N examples) or the indices of
   * the examples wanted, in order (see `spreadIndices`). Default none.
   */
  readonly keep?: number | readonly number[];
}

/** `n` indices spread evenly over `count` examples (sources are often sorted by class). */
export function spreadIndices(count: number, n: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, i) => Math.floor((i * count) / k));
}

/** The examples at `indices` of a set of `exampleSize` values each, copied in order. */
export function pickExamples(values: Float32Array, exampleSize: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * exampleSize);
  indices.forEach((index, i) => out.set(values.subarray(index * exampleSize, (index + 1) * exampleSize), i * exampleSize));
  return out;
}

export class Evaluator {
  private constructor(
    private readonly modality: Modality,
    private readonly config: ModelConfig,
    private readonly model: VqvaeModel,
    private readonly program: InferenceProgram,
    readonly batch: number,
  ) {}

  /** An evaluator of `model`, built from `config`, whose examples are `modality`'s. */
  static async create(modality: Modality, config: ModelConfig, model: VqvaeModel, store: VariableStore, options: EvaluatorOptions = {}): Promise<Evaluator> {
    const batch = options.batch ?? 100;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`evaluation batch must be a positive integer, got ${batch}`);
    const dims = modality.exampleDims(config);
    const program = await InferenceProgram.create({
      store,
      threads: options.threads,
      graphName: 'evaluate',
      build: (ctx) => {
        const out = autoencode(ctx, model, ctx.input('x', [batch, ...dims]));
        return { reconstruction: modality.validOutput(out.reconstruction), indices: op.reshape(out.indices, [-1]) };
      },
    });
    return new Evaluator(modality, config, model, program, batch);
  }

  /** Metrics of a set of the evaluator's modality (one it loaded). */
  async evaluate(set: ExampleSet, options: EvaluateOptions = {}): Promise<EvaluationResult> {
    const values = this.modality.valuesFor(set, this.config);
    const exampleSize = values.length / set.count;
    const { depth, codebookSize } = this.model.quantizer;
    const codesPerExample = this.model.latent.height * this.model.latent.width * depth;
    // A residual quantizer's stage s uses codes s·K … s·K + K − 1 of the usage counts (countsSize = D·K).
    const usage = new CodeUsage(this.model.quantizer.countsSize);
    const wanted = options.keep ?? 0;
    const keep = typeof wanted === 'number' ? Array.from({ length: Math.min(wanted, set.count) }, (_, i) => i) : [...wanted];
    for (const i of keep) if (!(Number.isInteger(i) && i >= 0 && i < set.count)) throw new Error(`preview index ${i} is outside the ${set.count} ${this.modality.examples}`);
    const reconstructionMetrics = this.modality.metrics(this.config, { slow: options.slowMetrics ?? true }, set);
    // Kept in the order of `keep`, which need not follow the batches.
    const kept = new Map(keep.map((index) => [index, new Float32Array(exampleSize)]));
    const recon = new Float32Array(this.batch * exampleSize);
    const indices = new BigInt64Array(this.batch * codesPerExample);
    await forEachFixedBatch(values, exampleSize, this.batch, async (input, start, n) => {
      await this.program.run({ x: input }, { reconstruction: recon, indices });
      reconstructionMetrics.add(input, recon, n);
      const chosen = indices.subarray(0, n * codesPerExample);
      if (depth > 1) for (let i = 0; i < chosen.length; i++) chosen[i] = chosen[i]! + BigInt((i % depth) * codebookSize);
      usage.addIndices(chosen);
      for (let i = 0; i < n; i++) kept.get(start + i)?.set(recon.subarray(i * exampleSize, (i + 1) * exampleSize));
    });
    const reconstructions = new Float32Array(keep.length * exampleSize);
    keep.forEach((index, i) => reconstructions.set(kept.get(index)!, i * exampleSize));
    return {
      metrics: { ...(await reconstructionMetrics.result()), ...usageMetrics(usage) },
      usage,
      counts: usage.counts,
      reconstructions,
    };
  }

  async release(): Promise<void> {
    await this.program.release();
  }
}

/**
 * The contract every quantizer (VQ, EMA-VQ, SimVQ, FSQ, LFQ, residual) implements, and the helpers that let
 * them work on feature maps and on any [..., d] tensor.
 *
 * A quantizer maps encoder vectors z_e [M, d] to codebook entries, returning the straight-through
 * output z_q = z_e + sg(e_k − z_e) (forward value e_k, gradient identity to z_e; VQ-VAE §3.1) or
 * another estimator with the same forward value, the chosen indices ([M], or [M, D] for a
 * residual quantizer of depth D), its loss terms, the batch's per-code counts (for exact usage statistics, see
 * `CodeUsage` in usage.ts) and a count of non-finite inputs.
 *
 * Non-finite inputs. A NaN or ±Infinity in z_e has no nearest code; the graph cannot throw, so the
 * quantizers report `nonFinite` (how many entries of z_e are NaN or ±Infinity, a float32 scalar).
 * Fetch it as a metric and call `assertFiniteQuantizerInput` in the training loop to turn it into
 * a clear error. `CodeSearch.run`, which receives plain Float32Arrays, checks its inputs directly.
 */
import * as op from '../graph/ops.js';
import { GraphError, type Tensor } from '../graph/tensor.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { VariableView } from '../runtime/variable-view.js';
import { nearestCode, type SearchBlocking } from './nearest-code.js';
import { orthogonalLoss } from './orthogonal-regularization.js';
import { rotateTo } from './rotation-trick.js';

/** Registered quantizer names (registry.ts), in the order they are listed in messages. */
export const QUANTIZER_KINDS = ['vq', 'ema', 'simvq', 'fsq', 'lfq', 'residual'] as const;
export type QuantizerName = (typeof QUANTIZER_KINDS)[number];

export interface QuantizerOutput {
  /** Straight-through output z_e + sg(e_k − z_e), [M, d]. */
  readonly quantized: Tensor;
  /** Chosen code per vector, int64 [M]. */
  readonly indices: Tensor;
  /** Weighted sum of the quantizer's loss terms (scalar), to add to the reconstruction loss. */
  readonly loss: Tensor;
  /** The unweighted terms, e.g. { codebook, commitment } (scalars), for logging. */
  readonly terms: Readonly<Record<string, Tensor>>;
  /** How many of the M vectors chose each code in this batch, float32 [K]. */
  readonly counts: Tensor;
  /**
   * Number of NaN or ±Infinity entries in z_e (float32 scalar); 0 for a healthy batch. Set by every
   * built-in quantizer (optional only so that other implementations of the interface keep compiling).
   */
  readonly nonFinite?: Tensor | undefined;
  /**
   * The vectors the codebook is matched against (after any projection or normalization),
   * gradient-free [M, c]; fetched by the training loop for host steps (k-means, dead codes).
   */
  readonly searchInputs?: Tensor | undefined;
}

/**
 * What a host step (run on the CPU between two training-step graph runs) receives: the quantizer's
 * own variables, the step just taken (1 after the first), the fetched `searchInputs` of that step
 * and its per-code `counts`.
 */
export interface HostStepInput {
  /** The variables of the scope the quantizer was built under, by its local names (`codebook`). */
  readonly variables: VariableView;
  readonly step: number;
  readonly searchInputs: Float32Array;
  readonly counts: Float32Array;
  /**
   * At step 1, for a quantizer with `initSampleCount` > 0: that many search inputs [n, c] of
   * examples drawn across the training set, which the initialization uses in place of the batch's
   * (k-means from enough vectors for K codes). Absent otherwise, and when the caller trains
   * without a training set to draw from (then the batch's are used).
   */
  readonly initSamples?: Float32Array | undefined;
  /** ORT intra-op threads for the work a host step runs on the runtime (k-means); default 0, ORT's choice. */
  readonly threads?: number | undefined;
}

/** What a host step changed in the codebook. */
export interface HostStepOutcome {
  /** One line for the training log, e.g. "replaced 3 dead codes with encoder outputs of the batch". */
  readonly notice: string;
  /** Codes given new values (all K for a k-means initialization, the dead ones for a replacement). */
  readonly reseededCodes: number;
}

export interface Quantizer {
  readonly kind: QuantizerName;
  /** Number of codes K. */
  readonly codebookSize: number;
  /** Code dimension d. */
  readonly dim: number;
  /** Indices per vector: 1, or the number of stages of a residual quantizer (a trailing index axis). */
  readonly depth: number;
  /** Length of the `counts` output: K, or depth·K for a residual quantizer (one block per stage). */
  readonly countsSize: number;
  /** Options as plain data, for configs and checkpoints. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Quantize z [M, d]. Variables are created under `ctx` (use a scope such as ctx.scope('quantizer')). */
  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput;
  /** The effective codebook [K, d] that the nearest-code search uses (C·W for SimVQ). */
  codebook(ctx: BuildContext): Tensor;
  /**
   * Code vectors for int64 indices: [...indices, d] when depth is 1; for depth D the last axis of
   * `indices` is the stage axis ([..., D] → [..., d]).
   */
  lookup(ctx: BuildContext, indices: Tensor): Tensor;
  /**
   * Host-side work between training steps (k-means initialization, dead-code replacement), for
   * quantizers with such options. Returns what it changed, or undefined when it changed nothing.
   */
  hostStep?(input: HostStepInput): Promise<HostStepOutcome | undefined>;
  /** Whether `hostStep` needs `searchInputs` and `counts` fetched this run (false: skip the fetch). */
  readonly needsHostStep?: boolean;
  /**
   * Search inputs the step-1 host step wants drawn across the training set (`initSamples`), beyond
   * its batch; 0 or absent: the batch's own.
   */
  readonly initSampleCount?: number;
}

/** [N, C, H, W] → [N·H·W, C], the layout quantizers take (channels are the code dimension). */
export function flattenNCHW(x: Tensor): Tensor {
  if (x.rank !== 4) throw new GraphError('flattenNCHW', `expects [N,C,H,W], got ${x.toString()}`);
  return op.reshape(op.transpose(x, [0, 2, 3, 1]), [-1, x.shape[1]!]);
}

/** [N·H·W, C] → [N, C, H, W], the inverse of `flattenNCHW`. */
export function unflattenToNCHW(x: Tensor, n: number, h: number, w: number): Tensor {
  return op.transpose(op.reshape(x, [n, h, w, x.shape[1]!]), [0, 3, 1, 2]);
}

/** Check z is [M, d] float32 with the quantizer's d. */
export function checkQuantizerInput(name: string, z: Tensor, dim: number): void {
  if (z.rank !== 2 || z.dtype !== 'float32' || z.shape[1] !== dim) {
    throw new GraphError(
      name,
      `input must be float32 [M, ${dim}] (flatten feature maps with flattenNCHW or use quantizeVectors), got ${z.toString()}; check that the encoder's output channels equal the code dimension`,
    );
  }
}

/** Per-code counts of `indices` [M] over K codes, float32 [K] (a ScatterAdd: no [M, K] one-hot). */
export function codeCounts(indices: Tensor, codebookSize: number): Tensor {
  const g = indices.graph;
  const zeros = op.expand(g.scalar(0), [codebookSize]);
  const ones = op.expand(g.scalar(1), [indices.shape[0]!]);
  return op.scatterAdd(zeros, indices, ones);
}

/** Number of NaN or ±Infinity entries of `x` (float32 scalar): x − x is 0 exactly when x is finite. */
export function nonFiniteCount(x: Tensor): Tensor {
  const isFinite = op.equal(op.sub(x, x), 0);
  return op.reduceSum(op.where(isFinite, 0, 1));
}

/** Throw a clear error when a fetched `nonFinite` count is not 0. */
export function assertFiniteQuantizerInput(nonFinite: number, where = 'quantizer input'): void {
  if (nonFinite !== 0) {
    throw new Error(`${where}: ${nonFinite} entries of z_e are NaN or ±Infinity; the encoder diverged (lower the learning rate or enable gradient clipping)`);
  }
}

/** Mean over all elements of (a − b)², the ‖·‖² of the VQ-VAE losses as the reference code averages it. */
export function meanSquaredError(a: Tensor, b: Tensor): Tensor {
  const d = op.sub(a, b);
  return op.reduceMean(op.mul(d, d));
}

/** Straight-through estimator z_e + sg(q − z_e): forward value q, gradient identity to z_e. */
export function straightThrough(z: Tensor, q: Tensor): Tensor {
  return op.add(z, op.stopGradient(op.sub(q, z)));
}

/** x / ‖x‖ row by row ([M, d]); the ε keeps a zero row finite (it stays 0). */
export function l2NormalizeRows(x: Tensor, eps = 1e-12): Tensor {
  return op.div(x, op.sqrt(op.add(op.reduceSum(op.mul(x, x), 1, true), eps)));
}

/** How `quantizeAgainst` treats the codebook and the gradient (codebook-options.ts documents each). */
export interface QuantizeAgainstOptions {
  readonly beta: number;
  readonly weight: number;
  readonly codebookSize: number;
  readonly search?: SearchBlocking;
  /** l2-normalize inputs and codes before the search and the losses (cosine similarity). */
  readonly cosine?: boolean;
  /** The rotation trick instead of the straight-through estimator (rotation-trick.ts). */
  readonly rotationTrick?: boolean;
  /** Weight of the orthogonal regularization of the codebook (orthogonal-regularization.ts); 0 = off. */
  readonly orthogonalWeight?: number;
}

/**
 * The VQ-VAE quantization step against a codebook that takes gradient (VQ's e, SimVQ's C·W + b):
 * nearest code k_i, q = codebook[k_i], L_cb = ‖sg(z_e) − q‖², L_com = ‖z_e − sg(q)‖²,
 * L = weight·(L_cb + β·L_com [+ λ_orth·L_orth]), output z_e + sg(q − z_e) (or the rotation
 * trick's sg(λR)·z_e). With `cosine`, z_e and the codebook are l2-normalized first, so the search
 * ranks codes by cosine similarity (‖ẑ − ê‖² = 2 − 2 cos) and the output lies on the unit sphere.
 * Shared by VectorQuantizer and SimVQ, which differ only in how the codebook tensor is made.
 */
export function quantizeAgainst(z: Tensor, codebook: Tensor, o: QuantizeAgainstOptions): QuantizerOutput {
  const x = o.cosine ? l2NormalizeRows(z) : z;
  const e = o.cosine ? l2NormalizeRows(codebook) : codebook;
  const indices = nearestCode(x, e, o.search);
  const q = op.gather(e, indices);
  const codebookLoss = meanSquaredError(op.stopGradient(x), q);
  const commitment = meanSquaredError(x, op.stopGradient(q));
  let inner = op.add(codebookLoss, op.mul(commitment, o.beta));
  const terms: Record<string, Tensor> = { codebook: codebookLoss, commitment };
  if ((o.orthogonalWeight ?? 0) > 0) {
    terms.orthogonal = orthogonalLoss(codebook);
    inner = op.add(inner, op.mul(terms.orthogonal, o.orthogonalWeight!));
  }
  return {
    quantized: o.rotationTrick ? rotateTo(x, q) : straightThrough(x, q),
    indices,
    loss: op.mul(inner, o.weight),
    terms,
    counts: codeCounts(indices, o.codebookSize),
    nonFinite: nonFiniteCount(z),
    searchInputs: op.stopGradient(x),
  };
}

/** A quantizer's output for input of shape [..., d]: quantized [..., d] and indices [...]. */
export interface ShapedQuantizerOutput extends QuantizerOutput {
  /** The flat [M, d] output the quantizer produced. */
  readonly flat: QuantizerOutput;
}

/**
 * Quantize a tensor of any shape [..., d] whose last axis is the code dimension, by reshaping to
 * [M, d] and back: `quantized` has the input's shape and `indices` its shape without the last axis.
 */
export function quantizeVectors(quantizer: Quantizer, ctx: BuildContext, z: Tensor): ShapedQuantizerOutput {
  if (z.rank < 1 || z.shape[z.rank - 1] !== quantizer.dim) {
    throw new GraphError('quantizeVectors', `input must be [..., ${quantizer.dim}] (last axis = code dimension), got ${z.toString()}`);
  }
  const lead = z.shape.slice(0, -1);
  const flat = quantizer.quantize(ctx, op.reshape(z, [-1, quantizer.dim]));
  const stages = quantizer.depth > 1 ? [quantizer.depth] : [];
  return {
    ...flat,
    quantized: op.reshape(flat.quantized, [...z.shape]),
    indices: lead.length === 0 ? op.reshape(flat.indices, [1, ...stages]) : op.reshape(flat.indices, [...lead, ...stages]),
    flat,
  };
}

/**
 * Quantize an NCHW feature map whose channels are the code dimension: `quantized` is NCHW again
 * and `indices` int64 [N, H, W].
 */
export function quantizeFeatureMap(quantizer: Quantizer, ctx: BuildContext, x: Tensor): ShapedQuantizerOutput {
  if (x.rank !== 4 || x.shape[1] !== quantizer.dim) {
    throw new GraphError('quantizeFeatureMap', `input must be [N, ${quantizer.dim}, H, W] (channels = code dimension), got ${x.toString()}`);
  }
  const [n, , h, w] = x.shape as [number, number, number, number];
  const flat = quantizer.quantize(ctx, flattenNCHW(x));
  const stages = quantizer.depth > 1 ? [quantizer.depth] : [];
  return { ...flat, quantized: unflattenToNCHW(flat.quantized, n, h, w), indices: op.reshape(flat.indices, [n, h, w, ...stages]), flat };
}

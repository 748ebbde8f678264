/**
 * The normalization of the encoder outputs before an implicit-codebook quantizer (LFQ, FSQ), the
 * option `preNorm`. LFQ takes the sign of each bit and FSQ bounds each dimension with tanh, so both
 * assume inputs centred on their thresholds at unit scale (MAGVIT-v2's LFQ sits behind normalized
 * features; vector-quantize-pytorch's Fashion-MNIST LFQ example puts a GroupNorm(affine=False)
 * before the linear layer that feeds it). A reference encoder ends ReLU → 1×1 conv: its outputs
 * carry an offset shared by every latent that is several times their spread (after one step on
 * Fashion-MNIST, channel means of ±0.05–0.07 against standard deviations of 0.01–0.035), so after
 * the projection most bits take one sign for every latent, and LFQ at K = 1,024 uses 4 codes from
 * its first step on.
 *
 *   'none'    z as the encoder gives it.
 *   'latent'  each latent z_i [d] standardized over its own d channels, no scale or shift:
 *             ẑ_i = (z_i − μ_i) / √(σ_i² + ε), μ_i = mean_j z_ij, σ_i² = mean_j (z_ij − μ_i)²
 *             (GroupNorm with one group at each position, or LayerNorm without affine). It fixes
 *             the scale but keeps the offset shared by all latents: measured on the reference
 *             model after one step, 8 of LFQ's 10 bits still have one sign for every latent.
 *   'batch'   each channel j standardized over the batch's M latents, no scale or shift (BatchNorm
 *             without affine, Ioffe & Szegedy 2015): ẑ_ij = (z_ij − μ_j) / √(σ_j² + ε) with μ_j, σ_j²
 *             the batch's mean and (biased) variance. This removes the shared offset, so every
 *             projected bit starts near half positive. Training graphs use the batch's statistics
 *             (gradients flow through μ_j and σ_j²) and keep running ones, r ← (1 − m)·r + m·batch
 *             with m = 0.1 and the variance unbiased (PyTorch's BatchNorm); inference graphs use
 *             the running statistics, so a latent's code does not depend on its batch. They
 *             approach the batch's over the first tens of steps: an evaluation after one step still
 *             sees 90 % of the offset (LFQ at K = 1,024 then used 631 codes in its training batch
 *             and 3 on the test set; 1,020 on the test set after 100 steps). State:
 *             `pre_norm.mean` [d] (starts 0) and `pre_norm.var` [d] (starts 1).
 *
 * ε = 1e-5 (PyTorch's). The projection d → b (or d → D) follows the normalization, as the linear
 * layer follows the norm in the reference, and its bias learns where each threshold lies; with
 * d = b the normalized vector itself is quantized. The normalization is part of the training
 * graph (test/quantizer-pre-norm.test.ts checks its gradients against finite differences).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import type { BuildContext } from '../runtime/build-context.js';

export const PRE_NORMS = ['none', 'latent', 'batch'] as const;
export type PreNorm = (typeof PRE_NORMS)[number];

/** ε of the standardization, PyTorch's GroupNorm and BatchNorm default. */
const PRE_NORM_EPS = 1e-5;
/** m of the running statistics, PyTorch's BatchNorm default. */
const RUNNING_MOMENTUM = 0.1;

/** The option, shared by LFQ, FSQ and SimVQ; a config lists it only when on. */
export const PRE_NORM_OPTION = {
  type: 'choice',
  choices: PRE_NORMS,
  default: 'none',
  saved: 'unless-default',
  doc: "normalization of z before it is quantized (before LFQ's and FSQ's projection and SimVQ's nearest-code choice), no affine: 'none', 'latent' (each latent over its d channels, as GroupNorm(1)), 'batch' (each channel over the batch, running statistics at inference, as BatchNorm)",
} as const;

/** The rules no bound expresses: a single channel standardizes to 0, a batch of one latent too. */
export function checkPreNorm(name: string, preNorm: PreNorm, dim: number): void {
  if (preNorm === 'latent' && dim < 2) {
    throw new Error(`${name}: preNorm 'latent' of d = ${dim} channel maps every latent to 0; use d >= 2 or another preNorm`);
  }
}

/** Each row of z [M, d] standardized over `axis` (1: its channels; 0: the batch), and the statistics. */
function standardize(z: Tensor, axis: 0 | 1): { normalized: Tensor; mean: Tensor; variance: Tensor } {
  const mean = op.reduceMean(z, axis, true);
  const centered = op.sub(z, mean);
  const variance = op.reduceMean(op.mul(centered, centered), axis, true);
  return { normalized: op.div(centered, op.sqrt(op.add(variance, PRE_NORM_EPS))), mean, variance };
}

/** z [M, d] normalized as `preNorm` says (file comment); 'batch' keeps its state under `ctx`. */
export function preNormalize(ctx: BuildContext, z: Tensor, preNorm: PreNorm): Tensor {
  switch (preNorm) {
    case 'none':
      return z;
    case 'latent':
      return standardize(z, 1).normalized;
    case 'batch': {
      const [m, d] = z.shape as [number, number];
      const scope = ctx.scope('pre_norm');
      const runningMean = scope.state('mean', [d], { kind: 'constant', value: 0 });
      const runningVar = scope.state('var', [d], { kind: 'constant', value: 1 });
      if (ctx.mode !== 'train') return op.div(op.sub(z, runningMean), op.sqrt(op.add(runningVar, PRE_NORM_EPS)));
      if (m < 2) throw new Error(`preNorm 'batch' needs at least 2 latents a batch to standardize over, got ${m}; use a larger batch or another preNorm`);
      const { normalized, mean, variance } = standardize(z, 0);
      const unbiased = op.mul(op.reshape(op.stopGradient(variance), [d]), m / (m - 1));
      scope.setState('mean', op.add(op.mul(runningMean, 1 - RUNNING_MOMENTUM), op.mul(op.reshape(op.stopGradient(mean), [d]), RUNNING_MOMENTUM)));
      scope.setState('var', op.add(op.mul(runningVar, 1 - RUNNING_MOMENTUM), op.mul(unbiased, RUNNING_MOMENTUM)));
      return normalized;
    }
  }
}

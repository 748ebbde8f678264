/**
 * The normalization of the encoder outputs before an implicit-codebook quantizer (LFQ, FSQ), the
 * option `preNorm`. LFQ takes the sign of each bit and FSQ bounds each dimension with tanh, so both
 * assume inputs of unit scale centred on their thresholds; a reference encoder ends ReLU → 1×1
 * conv, whose outputs carry a large offset shared by every latent, and then most bits take one sign
 * for every latent. vector-quantize-pytorch's Fashion-MNIST LFQ example therefore puts a
 * GroupNorm(affine=False) before the linear layer that feeds its LFQ.
 *
 *   'none'         z as the encoder gives it.
 *   'standardize'  each latent z_i [d] standardized over its d channels, without scale or shift:
 *                  ẑ_i = (z_i − μ_i) / √(σ_i² + ε),  μ_i = mean_j z_ij,  σ_i² = mean_j (z_ij − μ_i)²
 *                  (biased variance as PyTorch, ε = 1e-5); then the quantizer's projection d → b
 *                  (or d → D) as before, whose weights and bias learn where the thresholds lie.
 *
 * Why per latent rather than GroupNorm's statistics over an image's positions: a quantizer sees
 * [M, d] vectors, not images, and a statistic of the latent alone keeps each code a function of its
 * own latent — the tokenizer's codes of an image do not depend on the batch or on other positions,
 * and the training and inference graphs compute the same thing. It is GroupNorm(1 group, affine =
 * False) of each position, or LayerNorm without affine over the channels. Why before the projection:
 * the reference places the norm before the linear layer, which then sets scale and offset per bit;
 * with d = b (no projection) the standardized vector itself is quantized, every latent then having
 * zero mean over its bits. The normalization is part of the training graph: gradients flow through
 * μ_i and σ_i (test/quantizer-pre-norm.test.ts checks them against finite differences).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';

export const PRE_NORMS = ['none', 'standardize'] as const;
export type PreNorm = (typeof PRE_NORMS)[number];

/** ε of the standardization, PyTorch's GroupNorm and LayerNorm default. */
const PRE_NORM_EPS = 1e-5;

/** The option, shared by LFQ and FSQ; a config lists it only when on. */
export const PRE_NORM_OPTION = {
  type: 'choice',
  choices: PRE_NORMS,
  default: 'none',
  saved: 'unless-default',
  doc: "normalization of z before the projection: 'none', 'standardize' (each latent to mean 0, variance 1 over its d channels, no affine; as the GroupNorm(affine=False) before vector-quantize-pytorch's LFQ)",
} as const;

/** The rule no bound expresses: a latent of one channel standardizes to 0 whatever it is. */
export function checkPreNorm(name: string, preNorm: PreNorm, dim: number): void {
  if (preNorm === 'standardize' && dim < 2) {
    throw new Error(`${name}: preNorm 'standardize' of d = ${dim} channel maps every latent to 0; use d >= 2 or preNorm 'none'`);
  }
}

/** z [M, d] normalized as `preNorm` says (file comment). */
export function preNormalize(z: Tensor, preNorm: PreNorm): Tensor {
  if (preNorm === 'none') return z;
  const centered = op.sub(z, op.reduceMean(z, 1, true));
  const variance = op.reduceMean(op.mul(centered, centered), 1, true);
  return op.div(centered, op.sqrt(op.add(variance, PRE_NORM_EPS)));
}

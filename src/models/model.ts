/**
 * What a built VQ-VAE offers the trainer, the evaluator and the tokenizer: an encoder to latent
 * feature maps, a quantizer over their channel vectors, and a decoder back to images.
 */
import type { Tensor } from '../graph/tensor.js';
import type { Quantizer } from '../quantizers/quantizer.js';
import type { BuildContext } from '../runtime/build-context.js';

/** Channels and spatial size of one image (NCHW without N). */
export interface ImageShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Spatial size of the latent grid and its code dimension d. */
export interface LatentShape {
  readonly height: number;
  readonly width: number;
  readonly dim: number;
}

/** An encoder/decoder pair: the convolutional part of a VQ-VAE, without the quantizer. */
export interface Architecture {
  /** x [N, C, H, W] → z_e [N, d, h, w]. Parameters under `ctx` (the caller scopes it). */
  encode(ctx: BuildContext, x: Tensor): Tensor;
  /** z_q [N, d, h, w] → x̂ [N, C, H, W]. */
  decode(ctx: BuildContext, zq: Tensor): Tensor;
  /** The latent grid of the input shape the architecture was built for. */
  latentShape(): LatentShape;
}

export interface VqvaeModel {
  readonly input: ImageShape;
  readonly latent: LatentShape;
  readonly quantizer: Quantizer;
  /** x [N, C, H, W] → z_e [N, d, h, w]; parameters under `encoder.`. */
  encode(ctx: BuildContext, x: Tensor): Tensor;
  /** z_q [N, d, h, w] → x̂ [N, C, H, W]; parameters under `decoder.`. */
  decode(ctx: BuildContext, zq: Tensor): Tensor;
  /** The quantizer's own context (`quantizer.` scope), to pass to quantize/lookup/codebook. */
  quantizerScope(ctx: BuildContext): BuildContext;
}

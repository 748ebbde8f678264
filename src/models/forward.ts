/**
 * The full VQ-VAE forward pass (van den Oord et al. 2017, eq. 3):
 *
 *   z_e = E(x),  z_q = quantize(z_e) (straight-through),  x̂ = D(z_q)
 *   L   = ‖x − x̂‖² (mean) + quantizer loss (codebook + β·commitment, or the quantizer's own)
 *
 * shared by the training step, the evaluator and the tokenizer.
 */
import { mseLoss } from '../graph/composites.js';
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { quantizeFeatureMap, unflattenToNCHW, type QuantizerOutput } from '../quantizers/quantizer.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { VqvaeModel } from './model.js';

export interface AutoencoderOutputs {
  /** x̂ [N, C, H, W], unclamped. */
  readonly reconstruction: Tensor;
  /** Code indices int64 [N, h, w] ([N, h, w, D] for a residual quantizer of depth D). */
  readonly indices: Tensor;
  readonly quantized: QuantizerOutput;
  /** The reconstruction term (scalar; by default the mean squared error). */
  readonly reconstructionLoss: Tensor;
  /** Reconstruction loss plus the quantizer loss (scalar). */
  readonly loss: Tensor;
}

/** The reconstruction term of the loss, a scalar; a run's modality chooses it (modality/modality.ts). */
export type ReconstructionLoss = (reconstruction: Tensor, target: Tensor) => Tensor;

export function autoencode(ctx: BuildContext, model: VqvaeModel, x: Tensor, reconstructionTerm: ReconstructionLoss = mseLoss): AutoencoderOutputs {
  const z = model.encode(ctx, x);
  const quantized = quantizeFeatureMap(model.quantizer, model.quantizerScope(ctx), z);
  const reconstruction = model.decode(ctx, quantized.quantized);
  const reconstructionLoss = reconstructionTerm(reconstruction, x);
  return {
    reconstruction,
    indices: quantized.indices,
    quantized: quantized.flat,
    reconstructionLoss,
    loss: op.add(reconstructionLoss, quantized.loss),
  };
}

/** [N, h, w], with a trailing depth axis D when the quantizer has several stages. */
export function indexGridShape(model: VqvaeModel, n: number, h: number, w: number): number[] {
  return model.quantizer.depth > 1 ? [n, h, w, model.quantizer.depth] : [n, h, w];
}

/** Code indices int64 [N, h, w] (or [N, h, w, D]) of images x [N, C, H, W]. */
export function encodeToIndices(ctx: BuildContext, model: VqvaeModel, x: Tensor): Tensor {
  const z = model.encode(ctx, x);
  return quantizeFeatureMap(model.quantizer, model.quantizerScope(ctx), z).indices;
}

/** Images [N, C, H, W] (unclamped) decoded from int64 indices [N, h, w] (or [N, h, w, D]). */
export function decodeFromIndices(ctx: BuildContext, model: VqvaeModel, indices: Tensor): Tensor {
  const [n, h, w] = indices.shape as [number, number, number];
  const depth = model.quantizer.depth;
  const flat = op.reshape(indices, depth > 1 ? [n * h * w, depth] : [n * h * w]);
  const codes = model.quantizer.lookup(model.quantizerScope(ctx), flat);
  return model.decode(ctx, unflattenToNCHW(codes, n, h, w));
}

/** clamp(x, 0, 1) = relu(x) − relu(x − 1), from primitives: reconstructions as pixel values. */
export function clampToUnit(x: Tensor): Tensor {
  return op.sub(op.relu(x), op.relu(op.sub(x, 1)));
}

/** clamp(x, −1, 1) = x − relu(x − 1) + relu(−x − 1): reconstructed audio as the samples a 16-bit WAV holds. */
export function clampToSigned(x: Tensor): Tensor {
  return op.add(op.sub(x, op.relu(op.sub(x, 1))), op.relu(op.sub(op.neg(x), 1)));
}

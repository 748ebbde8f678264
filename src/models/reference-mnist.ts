/**
 * The reference MNIST VQ-VAE (the architecture of van den Oord et al. 2017 §4.1 and DeepMind's
 * Sonnet VQ-VAE example, sized for 28×28 digits):
 *
 *   encoder  conv4×4 s2 p1 C→64, ReLU, conv4×4 s2 p1 64→128, ReLU, conv3×3 p1 128→128,
 *            2 × residual[ReLU, conv3×3 p1 128→32, ReLU, conv1×1 32→128, add], ReLU,
 *            conv1×1 128→d                                   (28×28 → 7×7 latents, d = 64)
 *   decoder  conv3×3 p1 d→128, 2 × residual, ReLU, convT4×4 s2 p1 128→64, ReLU,
 *            convT4×4 s2 p1 64→C                              (7×7 → 28×28)
 *
 * The decoder ends without an output non-linearity: the reconstruction loss is plain MSE against
 * images in [0, 1], and consumers clamp to [0, 1] when they need pixels.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { conv2dLayer } from '../layers/conv2d.js';
import { convTranspose2dLayer } from '../layers/conv-transpose2d.js';
import { residualStack } from '../layers/residual-block.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { Architecture, ImageShape, LatentShape } from './model.js';

export interface ReferenceMnistArchitecture {
  readonly kind: 'reference-mnist';
}

const HIDDEN = 128;
const RESIDUAL_HIDDEN = 32;
const RESIDUAL_BLOCKS = 2;
const DOWNSAMPLING = 4;

export function referenceMnist(input: ImageShape, dim: number): Architecture {
  if (input.height % DOWNSAMPLING !== 0 || input.width % DOWNSAMPLING !== 0) {
    throw new Error(`reference-mnist: image size ${input.height}×${input.width} must be divisible by ${DOWNSAMPLING} (two stride-2 convolutions)`);
  }
  const latent: LatentShape = { height: input.height / DOWNSAMPLING, width: input.width / DOWNSAMPLING, dim };
  const block = { hiddenChannels: RESIDUAL_HIDDEN, activation: 'relu' } as const;
  return {
    latentShape: () => latent,

    encode(ctx: BuildContext, x: Tensor): Tensor {
      let h = op.relu(conv2dLayer(ctx.scope('conv1'), x, { outChannels: HIDDEN / 2, kernel: 4, stride: 2, pad: 1 }));
      h = op.relu(conv2dLayer(ctx.scope('conv2'), h, { outChannels: HIDDEN, kernel: 4, stride: 2, pad: 1 }));
      h = conv2dLayer(ctx.scope('conv3'), h, { outChannels: HIDDEN, kernel: 3, pad: 1 });
      h = op.relu(residualStack(ctx.scope('residual'), h, RESIDUAL_BLOCKS, block));
      return conv2dLayer(ctx.scope('to_code'), h, { outChannels: dim, kernel: 1 });
    },

    decode(ctx: BuildContext, zq: Tensor): Tensor {
      let h = conv2dLayer(ctx.scope('from_code'), zq, { outChannels: HIDDEN, kernel: 3, pad: 1 });
      h = op.relu(residualStack(ctx.scope('residual'), h, RESIDUAL_BLOCKS, block));
      h = op.relu(convTranspose2dLayer(ctx.scope('up1'), h, { outChannels: HIDDEN / 2, kernel: 4, stride: 2, pad: 1 }));
      return convTranspose2dLayer(ctx.scope('up2'), h, { outChannels: input.channels, kernel: 4, stride: 2, pad: 1 });
    },
  };
}

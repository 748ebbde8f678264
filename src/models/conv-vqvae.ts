/**
 * A configurable convolutional VQ-VAE for RGB 32×32 (CIFAR-10) and larger images.
 *
 *   encoder  D × [conv4×4 s2 p1 → c_i, act]        c_i = hidden / 2^(D−1−i): widths double
 *            conv3×3 p1 → hidden                      towards the latent grid
 *            R × residual block, act
 *            conv1×1 hidden → d                       (H×W → H/2^D × W/2^D latents)
 *   decoder  conv3×3 p1 d → hidden, R × residual block, act,
 *            D × [convT4×4 s2 p1 → c, act]            (no act after the last, which outputs C)
 *
 * "act" is ReLU (the VQ-VAE paper's choice; with D = 2, hidden 128 and 32-channel 'relu' residual
 * blocks this is exactly the reference MNIST model) or GroupNorm + SiLU as in the
 * taming-transformers encoder that SimVQ trains (its residual blocks then use two 3×3 convs).
 */
import type { Tensor } from '../graph/tensor.js';
import { conv2dLayer } from '../layers/conv2d.js';
import { convTranspose2dLayer } from '../layers/conv-transpose2d.js';
import { ACTIVATIONS, normActivate, residualStack, type Activation } from '../layers/residual-block.js';
import type { BuildContext } from '../runtime/build-context.js';
import { quotedValue } from '../limits/shown-value.js';
import { checkArchitectureInteger } from './architecture-bounds.js';
import type { Architecture, ImageShape, LatentShape } from './model.js';

export interface ConvArchitecture {
  readonly kind: 'conv';
  /** Channels at the latent resolution (default 128). */
  readonly hiddenChannels: number;
  /** Number of 2× downsamplings D (default 2; CIFAR-10 32×32 → 8×8). */
  readonly downsamples: number;
  /** Residual blocks R at the latent resolution, in the encoder and in the decoder (default 2). */
  readonly residualBlocks: number;
  /** Width inside a residual block (default hidden/4 for 'relu', hidden for 'groupnorm-silu'). */
  readonly residualChannels: number;
  readonly activation: Activation;
}

export function defaultConvArchitecture(overrides: Partial<Omit<ConvArchitecture, 'kind'>> = {}): ConvArchitecture {
  const hiddenChannels = overrides.hiddenChannels ?? 128;
  const activation = overrides.activation ?? 'groupnorm-silu';
  return {
    kind: 'conv',
    hiddenChannels,
    downsamples: overrides.downsamples ?? 2,
    residualBlocks: overrides.residualBlocks ?? 2,
    residualChannels: overrides.residualChannels ?? (activation === 'relu' ? Math.max(1, hiddenChannels / 4) : hiddenChannels),
    activation,
  };
}

/**
 * Largest architecture sizes a config may ask for, so that an absurd one is refused before its
 * weights are allocated: 4,096 channels (8 times VQGAN's widest), 12 downsamplings (a 4,096-pixel
 * side, the largest input, down to 1) and 64 residual blocks per side.
 */
const MAX_CHANNELS = 4096;
const MAX_DOWNSAMPLES = 12;
const MAX_RESIDUAL_BLOCKS = 64;

function checkPositiveInteger(name: string, v: number, min: number, max: number): void {
  checkArchitectureInteger('conv', name, v, min, max);
}

/** Width after downsampling i (of D): hidden / 2^(D−1−i), at least 1. */
function stageWidth(a: ConvArchitecture, i: number): number {
  return Math.max(1, Math.floor(a.hiddenChannels / 2 ** (a.downsamples - 1 - i)));
}

export function convVqvae(input: ImageShape, dim: number, a: ConvArchitecture): Architecture {
  checkPositiveInteger('hiddenChannels', a.hiddenChannels, 1, MAX_CHANNELS);
  checkPositiveInteger('downsamples', a.downsamples, 0, MAX_DOWNSAMPLES);
  checkPositiveInteger('residualBlocks', a.residualBlocks, 0, MAX_RESIDUAL_BLOCKS);
  checkPositiveInteger('residualChannels', a.residualChannels, 1, MAX_CHANNELS);
  if (!ACTIVATIONS.includes(a.activation)) throw new Error(`conv model: activation must be one of ${ACTIVATIONS.join(', ')}, got ${quotedValue(a.activation)}`);
  const factor = 2 ** a.downsamples;
  if (input.height % factor !== 0 || input.width % factor !== 0) {
    throw new Error(`conv model: image size ${input.height}×${input.width} must be divisible by 2^${a.downsamples} = ${factor} (the number of downsamplings)`);
  }
  const latent: LatentShape = { height: input.height / factor, width: input.width / factor, dim };
  const block = { hiddenChannels: a.residualChannels, activation: a.activation };

  return {
    latentShape: () => latent,

    encode(ctx: BuildContext, x: Tensor): Tensor {
      let h = x;
      for (let i = 0; i < a.downsamples; i++) {
        h = conv2dLayer(ctx.scope(`down${i}`), h, { outChannels: stageWidth(a, i), kernel: 4, stride: 2, pad: 1 });
        h = normActivate(ctx.scope(`down${i}_act`), h, a.activation);
      }
      h = conv2dLayer(ctx.scope('conv_mid'), h, { outChannels: a.hiddenChannels, kernel: 3, pad: 1 });
      h = residualStack(ctx.scope('residual'), h, a.residualBlocks, block);
      h = normActivate(ctx.scope('out_act'), h, a.activation);
      return conv2dLayer(ctx.scope('to_code'), h, { outChannels: dim, kernel: 1 });
    },

    decode(ctx: BuildContext, zq: Tensor): Tensor {
      let h = conv2dLayer(ctx.scope('from_code'), zq, { outChannels: a.hiddenChannels, kernel: 3, pad: 1 });
      h = residualStack(ctx.scope('residual'), h, a.residualBlocks, block);
      h = normActivate(ctx.scope('mid_act'), h, a.activation);
      for (let i = 0; i < a.downsamples; i++) {
        const last = i === a.downsamples - 1;
        const out = last ? input.channels : stageWidth(a, a.downsamples - 2 - i);
        h = convTranspose2dLayer(ctx.scope(`up${i}`), h, { outChannels: out, kernel: 4, stride: 2, pad: 1 });
        if (!last) h = normActivate(ctx.scope(`up${i}_act`), h, a.activation);
      }
      // With no downsampling the decoder still has to map back to the image channels.
      if (a.downsamples === 0) h = conv2dLayer(ctx.scope('to_image'), h, { outChannels: input.channels, kernel: 3, pad: 1 });
      return h;
    },
  };
}

/**
 * A SEANet-style convolutional encoder and decoder for audio (Tagliasacchi et al. 2020; the
 * encoder/decoder of SoundStream, Zeghidour et al. 2021, and EnCodec, Défossez et al. 2022):
 *
 *   encoder  conv k7 → C
 *            for each stride s_i (C_i = C·2^i):
 *              residual units at dilations d_1, d_2, … (x + conv1(ELU(conv_k,d(ELU(x)))),
 *              hidden width C_i / compress)
 *              ELU, conv k = 2·s_i stride s_i → 2·C_i
 *            ELU, conv k7 → d                              (T samples → T / Π s_i latent frames)
 *   decoder  conv k7 d → C·2^D
 *            for each stride in reverse: ELU, transposed conv k = 2·s stride s → half the
 *              channels, the same residual units
 *            ELU, conv k7 → signal channels
 *
 * The defaults are EnCodec's at 16 kHz with SoundStream's dilations: C = 32, strides 2·4·5·8 (a
 * hop of 320 samples, 50 latent frames per second), residual units at dilations 1, 3, 9 with
 * 3-tap convs and half-width hidden layers, 7-tap convs at the ends, ELU activations.
 *
 * Padding is zeros ('same' for the stride-1 convs, ⌈s/2⌉ at each end for the strided ones), the
 * padding of the convolution nodes themselves: EnCodec pads by reflection, which needs a Pad
 * primitive with a mode and its own adjoint, while SoundStream and DAC (Kumar et al. 2023) pad
 * with zeros and train as well; zero padding keeps every conv a single node that the fast forms
 * apply to. Weight normalization (EnCodec, DAC) and EnCodec's LSTM are left out.
 *
 * At the model seam a signal is a one-row image: x [N, C, 1, T] → z_e [N, d, 1, T / hop], so the
 * quantizers, the forward pass and the tokenizer take it unchanged; inside, the network is 1-D.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { conv1dLayer } from '../layers/conv1d.js';
import { convTranspose1dLayer } from '../layers/conv-transpose1d.js';
import { checkArchitectureInteger } from './architecture-bounds.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { Architecture, ImageShape, LatentShape } from './model.js';

export interface SeanetArchitecture {
  readonly kind: 'seanet';
  /** Channels C of the first conv; doubled by every downsampling (default 32). */
  readonly channels: number;
  /** Downsampling strides in encoder order; their product is the hop (default [2, 4, 5, 8] = 320). */
  readonly strides: readonly number[];
  /** Dilations of the residual units at every resolution (default [1, 3, 9]). */
  readonly dilations: readonly number[];
  /** Taps of the residual units' dilated conv, odd so that 'same' padding is symmetric (default 3). */
  readonly residualKernel: number;
  /** Taps of the first and last convs of the encoder and the decoder, odd (default 7). */
  readonly kernel: number;
  /** The residual units' hidden width is their channels divided by this (default 2). */
  readonly compress: number;
}

export function defaultSeanetArchitecture(overrides: Partial<Omit<SeanetArchitecture, 'kind'>> = {}): SeanetArchitecture {
  return {
    kind: 'seanet',
    channels: overrides.channels ?? 32,
    strides: overrides.strides ?? [2, 4, 5, 8],
    dilations: overrides.dilations ?? [1, 3, 9],
    residualKernel: overrides.residualKernel ?? 3,
    kernel: overrides.kernel ?? 7,
    compress: overrides.compress ?? 2,
  };
}

/**
 * Largest sizes a config may ask for, so that an absurd one is refused before its weights are
 * allocated: 4,096 channels at the widest resolution (as for the image models), 8 downsamplings
 * with strides up to 16, 8 residual units per resolution with dilations up to 243 (3^5), and
 * kernels up to 31 taps.
 */
const MAX_CHANNELS = 4096;
const MAX_DOWNSAMPLES = 8;
const MAX_STRIDE = 16;
const MAX_UNITS = 8;
const MAX_DILATION = 243;
const MAX_KERNEL = 31;

function checkInteger(name: string, v: number, min: number, max: number): void {
  checkArchitectureInteger('seanet', name, v, min, max);
}

function checkOdd(name: string, v: number): void {
  checkInteger(name, v, 1, MAX_KERNEL);
  if (v % 2 === 0) throw new Error(`seanet model: ${name} must be odd so that 'same' padding is symmetric, got ${v}`);
}

/** Samples per latent frame: the product of the strides. */
export function seanetHop(a: SeanetArchitecture): number {
  return a.strides.reduce((m, s) => m * s, 1);
}

export function seanet(input: ImageShape, dim: number, a: SeanetArchitecture): Architecture {
  checkInteger('channels', a.channels, 1, MAX_CHANNELS);
  checkInteger('number of strides', a.strides.length, 0, MAX_DOWNSAMPLES);
  a.strides.forEach((s, i) => checkInteger(`strides[${i}]`, s, 1, MAX_STRIDE));
  checkInteger('number of dilations', a.dilations.length, 0, MAX_UNITS);
  a.dilations.forEach((d, i) => checkInteger(`dilations[${i}]`, d, 1, MAX_DILATION));
  checkOdd('residualKernel', a.residualKernel);
  checkOdd('kernel', a.kernel);
  checkInteger('compress', a.compress, 1, a.channels);
  const widest = a.channels * 2 ** a.strides.length;
  if (widest > MAX_CHANNELS) {
    throw new Error(`seanet model: channels ${a.channels} doubled by ${a.strides.length} downsamplings reach ${widest}, above ${MAX_CHANNELS}; use fewer channels or strides`);
  }
  if (input.height !== 1) {
    throw new Error(`seanet model: input must be a signal [channels, 1, samples], got height ${input.height}; pass audio as one row`);
  }
  const hop = seanetHop(a);
  if (input.width % hop !== 0) {
    throw new Error(`seanet model: ${input.width} samples must be a multiple of the hop ${hop} (= ${a.strides.join('·')}); crop or pad the signal`);
  }
  const latent: LatentShape = { height: 1, width: input.width / hop, dim };
  const width = (i: number): number => a.channels * 2 ** i;

  /** x + conv1×1(ELU(conv_k,dilation(ELU(x)))) with 'same' padding: the shape of x is kept. */
  const residualUnit = (ctx: BuildContext, x: Tensor, dilation: number): Tensor => {
    const channels = x.shape[1]!;
    const hidden = Math.max(1, Math.floor(channels / a.compress));
    let h = conv1dLayer(ctx.scope('conv1'), op.elu(x), { outChannels: hidden, kernel: a.residualKernel, dilation, pad: (dilation * (a.residualKernel - 1)) / 2 });
    h = conv1dLayer(ctx.scope('conv2'), op.elu(h), { outChannels: channels, kernel: 1 });
    return op.add(x, h);
  };
  const residualUnits = (ctx: BuildContext, x: Tensor): Tensor =>
    a.dilations.reduce((h, d, j) => residualUnit(ctx.scope(`unit${j}`), h, d), x);
  const ends = { kernel: a.kernel, pad: (a.kernel - 1) / 2 };

  return {
    latentShape: () => latent,

    encode(ctx: BuildContext, x: Tensor): Tensor {
      const [n, c, , t] = x.shape as [number, number, number, number];
      let h = conv1dLayer(ctx.scope('conv_in'), op.reshape(x, [n, c, t]), { outChannels: width(0), ...ends });
      a.strides.forEach((s, i) => {
        h = residualUnits(ctx.scope(`down${i}`), h);
        // k = 2s with ⌈s/2⌉ zeros at each end: exactly T/s frames when s divides T.
        h = conv1dLayer(ctx.scope(`down${i}.conv`), op.elu(h), { outChannels: width(i + 1), kernel: 2 * s, stride: s, pad: Math.ceil(s / 2) });
      });
      h = conv1dLayer(ctx.scope('to_code'), op.elu(h), { outChannels: dim, ...ends });
      return op.reshape(h, [n, dim, 1, h.shape[2]!]);
    },

    decode(ctx: BuildContext, zq: Tensor): Tensor {
      const [n, , , frames] = zq.shape as [number, number, number, number];
      let h = conv1dLayer(ctx.scope('from_code'), op.reshape(zq, [n, dim, frames]), { outChannels: width(a.strides.length), ...ends });
      [...a.strides].reverse().forEach((s, r) => {
        const i = a.strides.length - 1 - r;
        // Output (T − 1)·s − 2⌈s/2⌉ + 2s + (s mod 2) = T·s: the adjoint of the encoder's geometry.
        h = convTranspose1dLayer(ctx.scope(`up${r}.conv`), op.elu(h), { outChannels: width(i), kernel: 2 * s, stride: s, pad: Math.ceil(s / 2), outputPadding: s % 2 });
        h = residualUnits(ctx.scope(`up${r}`), h);
      });
      h = conv1dLayer(ctx.scope('to_signal'), op.elu(h), { outChannels: input.channels, ...ends });
      return op.reshape(h, [n, input.channels, 1, h.shape[2]!]);
    },
  };
}

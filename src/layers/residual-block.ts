/**
 * Residual blocks for the convolutional VQ-VAEs, x + F(x) with F keeping the shape of x.
 *
 * Two flavours:
 *   'relu'            F = conv1×1(ReLU(conv3×3(ReLU(x))))  with a narrow 3×3 (the VQ-VAE paper's
 *                     block, van den Oord et al. 2017 §4.1: "ReLU, 3x3 conv, ReLU, 1x1 conv").
 *   'groupnorm-silu'  F = conv3×3(SiLU(GN(conv3×3(SiLU(GN(x))))))  (the ResnetBlock of the
 *                     taming-transformers encoder that SimVQ uses, without dropout).
 */
import { groupNorm, silu } from '../graph/composites.js';
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { ones, zeros } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { conv2dLayer } from './conv2d.js';

export type Activation = 'relu' | 'groupnorm-silu';

export const ACTIVATIONS: readonly Activation[] = ['relu', 'groupnorm-silu'];

/** Largest group count ≤ 32 (taming's choice) that divides `channels`. */
function defaultGroups(channels: number): number {
  for (let g = Math.min(32, channels); g > 1; g--) if (channels % g === 0) return g;
  return 1;
}

/**
 * The block's activation: ReLU, or GroupNorm (learned per-channel scale γ = 1 and shift β = 0 at
 * initialization, as PyTorch's nn.GroupNorm) followed by SiLU. Parameters live under `ctx`.
 */
export function normActivate(ctx: BuildContext, x: Tensor, activation: Activation): Tensor {
  if (activation === 'relu') return op.relu(x);
  const c = x.shape[1]!;
  const gamma = ctx.param('gamma', [c], ones, { decay: false });
  const beta = ctx.param('beta', [c], zeros, { decay: false });
  return silu(groupNorm(x, gamma, beta, defaultGroups(c)));
}

export interface ResidualBlockOptions {
  /** Channels inside the block: the narrow 3×3 width for 'relu' (the reference uses 32). */
  readonly hiddenChannels: number;
  readonly activation: Activation;
}

function residualBlock(ctx: BuildContext, x: Tensor, o: ResidualBlockOptions): Tensor {
  const channels = x.shape[1]!;
  if (o.activation === 'relu') {
    let h = op.relu(x);
    h = conv2dLayer(ctx.scope('conv1'), h, { outChannels: o.hiddenChannels, kernel: 3, pad: 1 });
    h = op.relu(h);
    h = conv2dLayer(ctx.scope('conv2'), h, { outChannels: channels, kernel: 1 });
    return op.add(x, h);
  }
  let h = normActivate(ctx.scope('norm1'), x, o.activation);
  h = conv2dLayer(ctx.scope('conv1'), h, { outChannels: o.hiddenChannels, kernel: 3, pad: 1 });
  h = normActivate(ctx.scope('norm2'), h, o.activation);
  h = conv2dLayer(ctx.scope('conv2'), h, { outChannels: channels, kernel: 3, pad: 1 });
  return op.add(x, h);
}

/** `count` blocks in sequence, scoped `block0`, `block1`, … */
export function residualStack(ctx: BuildContext, x: Tensor, count: number, o: ResidualBlockOptions): Tensor {
  let h = x;
  for (let i = 0; i < count; i++) h = residualBlock(ctx.scope(`block${i}`), h, o);
  return h;
}

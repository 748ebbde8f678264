/**
 * 2-D convolution layer: y = conv(x, W) + b, weights [Cout, Cin, k, k].
 * Initialized as PyTorch's `nn.Conv2d` (Kaiming-uniform with a = √5, i.e. U(±1/√fanIn) for both W
 * and b) so the reference models train as their PyTorch counterparts do.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { kaiming, uniform } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';

export interface Conv2dOptions {
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly pad?: number;
  readonly dilation?: number;
  /** Add a learned bias (default true). */
  readonly bias?: boolean;
}

/** Gain that makes Kaiming-uniform draw from U(±1/√fanIn), PyTorch's default for conv and linear. */
export const TORCH_DEFAULT_GAIN = Math.sqrt(1 / 3);

export function conv2dLayer(ctx: BuildContext, x: Tensor, o: Conv2dOptions): Tensor {
  const cin = x.shape[1]!;
  const fanIn = cin * o.kernel * o.kernel;
  const w = ctx.param('weight', [o.outChannels, cin, o.kernel, o.kernel], kaiming({ gain: TORCH_DEFAULT_GAIN, distribution: 'uniform' }), {
    fans: { fanIn, fanOut: o.outChannels * o.kernel * o.kernel },
  });
  let y = op.conv2d(x, w, { stride: o.stride, pad: o.pad, dilation: o.dilation });
  if (o.bias ?? true) {
    const bound = 1 / Math.sqrt(fanIn);
    const b = ctx.param('bias', [o.outChannels], uniform(-bound, bound));
    y = op.add(y, op.reshape(b, [1, o.outChannels, 1, 1]));
  }
  return y;
}

/**
 * 1-D convolution layer: y = conv1d(x, W) + b on signals [N, Cin, T], weights [Cout, Cin, k].
 * Initialized as PyTorch's `nn.Conv1d` (Kaiming-uniform with a = √5, i.e. U(±1/√fanIn) for W and
 * b, fanIn = Cin·k), as conv2dLayer copies `nn.Conv2d`.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { kaiming, uniform } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { TORCH_DEFAULT_GAIN } from './conv2d.js';

export interface Conv1dOptions {
  readonly outChannels: number;
  /** Taps k. */
  readonly kernel: number;
  readonly stride?: number;
  /** Zeros added at each end of the signal (default 0). */
  readonly pad?: number;
  readonly dilation?: number;
  /** Add a learned bias (default true). */
  readonly bias?: boolean;
}

export function conv1dLayer(ctx: BuildContext, x: Tensor, o: Conv1dOptions): Tensor {
  const cin = x.shape[1]!;
  const fanIn = cin * o.kernel;
  const w = ctx.param('weight', [o.outChannels, cin, o.kernel], kaiming({ gain: TORCH_DEFAULT_GAIN, distribution: 'uniform' }), {
    fans: { fanIn, fanOut: o.outChannels * o.kernel },
  });
  let y = op.conv1d(x, w, { stride: o.stride, pad: o.pad, dilation: o.dilation });
  if (o.bias ?? true) {
    const bound = 1 / Math.sqrt(fanIn);
    const b = ctx.param('bias', [o.outChannels], uniform(-bound, bound));
    y = op.add(y, op.reshape(b, [1, o.outChannels, 1]));
  }
  return y;
}

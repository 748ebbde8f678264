/**
 * Transposed 2-D convolution layer (learned upsampling): weights [Cin, Cout, k, k] as in ONNX and
 * PyTorch's `nn.ConvTranspose2d`, whose initialization it copies (fan-in read from axis 1).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { kaiming, uniform } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { TORCH_DEFAULT_GAIN } from './conv2d.js';

export interface ConvTranspose2dOptions {
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly pad?: number;
  readonly outputPadding?: number;
  readonly bias?: boolean;
}

export function convTranspose2dLayer(ctx: BuildContext, x: Tensor, o: ConvTranspose2dOptions): Tensor {
  const cin = x.shape[1]!;
  // PyTorch computes fan-in from weight.shape[1] = Cout for transposed convolutions.
  const fanIn = o.outChannels * o.kernel * o.kernel;
  const w = ctx.param('weight', [cin, o.outChannels, o.kernel, o.kernel], kaiming({ gain: TORCH_DEFAULT_GAIN, distribution: 'uniform' }), {
    fans: { fanIn, fanOut: cin * o.kernel * o.kernel },
  });
  let y = op.convTranspose2d(x, w, { stride: o.stride, pad: o.pad, outputPadding: o.outputPadding });
  if (o.bias ?? true) {
    const bound = 1 / Math.sqrt(fanIn);
    const b = ctx.param('bias', [o.outChannels], uniform(-bound, bound));
    y = op.add(y, op.reshape(b, [1, o.outChannels, 1, 1]));
  }
  return y;
}

/**
 * Transposed 1-D convolution layer (learned upsampling of signals): weights [Cin, Cout, k] as in
 * ONNX and PyTorch's `nn.ConvTranspose1d`, whose initialization it copies (fan-in read from axis 1,
 * Cout·k).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { kaiming, uniform } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { TORCH_DEFAULT_GAIN } from './conv2d.js';

export interface ConvTranspose1dOptions {
  readonly outChannels: number;
  /** Taps k. */
  readonly kernel: number;
  readonly stride?: number;
  /** Output steps removed at each end (default 0). */
  readonly pad?: number;
  /** Output steps added at the end (default 0; less than the stride). */
  readonly outputPadding?: number;
  readonly bias?: boolean;
}

export function convTranspose1dLayer(ctx: BuildContext, x: Tensor, o: ConvTranspose1dOptions): Tensor {
  const cin = x.shape[1]!;
  // PyTorch computes fan-in from weight.shape[1] = Cout for transposed convolutions.
  const fanIn = o.outChannels * o.kernel;
  const w = ctx.param('weight', [cin, o.outChannels, o.kernel], kaiming({ gain: TORCH_DEFAULT_GAIN, distribution: 'uniform' }), {
    fans: { fanIn, fanOut: cin * o.kernel },
  });
  let y = op.convTranspose1d(x, w, { stride: o.stride, pad: o.pad, outputPadding: o.outputPadding });
  if (o.bias ?? true) {
    const bound = 1 / Math.sqrt(fanIn);
    const b = ctx.param('bias', [o.outChannels], uniform(-bound, bound));
    y = op.add(y, op.reshape(b, [1, o.outChannels, 1]));
  }
  return y;
}

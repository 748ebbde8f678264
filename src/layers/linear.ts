/**
 * Dense layer y = x·W + b on the last axis, W [in, out] (so x·W needs no transpose), initialized
 * as PyTorch's `nn.Linear`: U(±1/√in) for W and b.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { uniform, type Initializer } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';

export interface LinearOptions {
  readonly outFeatures: number;
  readonly bias?: boolean;
  /** Override the weight initializer (default U(±1/√in)). */
  readonly weightInit?: Initializer;
  readonly biasInit?: Initializer;
  /** Is the layer trained? (default true) */
  readonly trainable?: boolean;
}

export function linearLayer(ctx: BuildContext, x: Tensor, o: LinearOptions): Tensor {
  const inFeatures = x.shape[x.rank - 1]!;
  const bound = 1 / Math.sqrt(inFeatures);
  const trainable = o.trainable ?? true;
  const w = ctx.param('weight', [inFeatures, o.outFeatures], o.weightInit ?? uniform(-bound, bound), { trainable });
  let y = op.matmul(x, w);
  if (o.bias ?? true) {
    const b = ctx.param('bias', [o.outFeatures], o.biasInit ?? uniform(-bound, bound), { trainable });
    y = op.add(y, b);
  }
  return y;
}

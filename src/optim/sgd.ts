/**
 * Stochastic gradient descent with (optionally Nesterov) momentum, as in PyTorch's `SGD`:
 *   g' = g + λ·θ                      (weight decay, parameters marked `decay` only)
 *   b_t = μ·b_{t−1} + g'              (momentum buffer; b_1 = g' since b_0 = 0)
 *   θ_t = θ_{t−1} − lr·(g' + μ·b_t if nesterov else b_t)
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import type { Variable } from '../runtime/variables.js';
import type { Optimizer, UpdateContext } from '../runtime/optimizer.js';
import { OptimizerSlots } from '../runtime/optimizer-slots.js';

export interface SgdOptions {
  /** Momentum μ (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Weight decay λ (default 0). */
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  readonly name = 'sgd';
  readonly config: Readonly<Record<string, number | boolean>>;
  private readonly momentum: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;
  private readonly slots = new OptimizerSlots();

  constructor(options: SgdOptions = {}) {
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`SGD: momentum must be in [0, 1), got ${this.momentum}`);
    if (this.nesterov && this.momentum === 0) throw new Error('SGD: nesterov needs momentum > 0');
    if (!(this.weightDecay >= 0)) throw new Error(`SGD: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.config = { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  update(param: Variable, p: Tensor, g: Tensor, u: UpdateContext): Tensor {
    const grad = param.decay && this.weightDecay > 0 ? op.add(g, op.mul(p, this.weightDecay)) : g;
    if (this.momentum === 0) return op.sub(p, op.mul(u.lr, grad));
    const name = `opt.momentum.${param.name}`;
    const buf = op.add(op.mul(this.slots.slot(u.ctx, param, name), this.momentum), grad);
    u.ctx.setSlot(name, buf);
    const direction = this.nesterov ? op.add(grad, op.mul(buf, this.momentum)) : buf;
    return op.sub(p, op.mul(u.lr, direction));
  }

  resetRows(param: Variable, rows: readonly number[]): void {
    this.slots.resetRows(param, rows);
  }
}

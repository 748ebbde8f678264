/**
 * Adam (Kingma & Ba, 2015, Algorithm 1) and AdamW (Loshchilov & Hutter, 2019):
 *   m_t = β1·m_{t−1} + (1 − β1)·g_t
 *   v_t = β2·v_{t−1} + (1 − β2)·g_t²
 *   m̂_t = m_t / (1 − β1^t),  v̂_t = v_t / (1 − β2^t)            (bias correction)
 *   θ_t = θ_{t−1} − lr·m̂_t / (√v̂_t + ε)
 * Weight decay λ: Adam adds λ·θ to the gradient (L2 penalty); AdamW subtracts lr·λ·θ from θ
 * directly ("decoupled"). Decay applies only to parameters marked `decay` (weights, not biases).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import type { Variable } from '../runtime/variables.js';
import type { Optimizer, UpdateContext } from '../runtime/optimizer.js';
import { OptimizerSlots } from '../runtime/optimizer-slots.js';

export interface AdamOptions {
  /** Exponential decay of the first moment (default 0.9). */
  beta1?: number;
  /** Exponential decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to √v̂ for stability (default 1e-8). */
  eps?: number;
  /** Weight decay λ (default 0). */
  weightDecay?: number;
  /** Decoupled weight decay (AdamW) instead of an L2 term in the gradient (default false). */
  decoupled?: boolean;
}

export class Adam implements Optimizer {
  readonly name: string;
  readonly config: Readonly<Record<string, number | boolean>>;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;
  private readonly slots = new OptimizerSlots();

  constructor(options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`Adam: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.eps > 0)) throw new Error(`Adam: eps must be > 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new Error(`Adam: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.name = this.decoupled ? 'adamw' : 'adam';
    this.config = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled };
  }

  update(param: Variable, p: Tensor, g: Tensor, u: UpdateContext): Tensor {
    const decay = param.decay && this.weightDecay > 0;
    const grad = decay && !this.decoupled ? op.add(g, op.mul(p, this.weightDecay)) : g;
    const mName = `opt.m.${param.name}`;
    const vName = `opt.v.${param.name}`;
    const m = this.slots.slot(u.ctx, param, mName);
    const v = this.slots.slot(u.ctx, param, vName);
    const m1 = op.add(op.mul(m, this.beta1), op.mul(grad, 1 - this.beta1));
    const v1 = op.add(op.mul(v, this.beta2), op.mul(op.mul(grad, grad), 1 - this.beta2));
    u.ctx.setSlot(mName, m1);
    u.ctx.setSlot(vName, v1);
    // Fold both bias corrections into one scalar step size: lr·√(1−β2^t)/(1−β1^t), with ε scaled
    // to match, which is algebraically the update above and saves two full-tensor divisions.
    const c1 = op.sub(1, op.pow(this.beta1, u.t));
    const c2 = op.sqrt(op.sub(1, op.pow(this.beta2, u.t)));
    const stepSize = op.div(op.mul(u.lr, c2), c1);
    const denom = op.add(op.sqrt(v1), op.mul(c2, this.eps));
    let next = op.sub(p, op.mul(stepSize, op.div(m1, denom)));
    if (decay && this.decoupled) next = op.sub(next, op.mul(op.mul(u.lr, this.weightDecay), p));
    return next;
  }

  resetRows(param: Variable, rows: readonly number[]): void {
    this.slots.resetRows(param, rows);
  }
}

/** AdamW: Adam with decoupled weight decay (default λ = 0.01). */
export function adamW(options: Omit<AdamOptions, 'decoupled'> = {}): Adam {
  return new Adam({ weightDecay: 0.01, ...options, decoupled: true });
}

/**
 * Optimizers are graph builders: given a parameter, its gradient and the step's learning rate and
 * step count (both graph inputs), they return the parameter's next value and record their own
 * state (moments, velocities) as optimizer slots. The whole update runs inside the training
 * step's single `session.run`.
 */
import type { Tensor } from '../graph/tensor.js';
import type { BuildContext } from './build-context.js';
import type { Variable } from './variables.js';

export interface UpdateContext {
  /** For reading and writing optimizer slots. */
  readonly ctx: BuildContext;
  /** Scalar learning rate for this step (fed at run time, so schedules need no recompile). */
  readonly lr: Tensor;
  /** Scalar step number t ≥ 1 of this update, as float32 (for Adam's bias correction). */
  readonly t: Tensor;
}

export interface Optimizer {
  /** Short name used in checkpoints, e.g. "adam". */
  readonly name: string;
  /** Hyper-parameters, for configs and logs. */
  readonly config: Readonly<Record<string, number | boolean | string>>;
  /** The next value of parameter `param` (graph tensor `p`, gradient `g`). */
  update(param: Variable, p: Tensor, g: Tensor, u: UpdateContext): Tensor;
  /**
   * Zero this optimizer's state (moments, momentum) for rows `rows` of `param` (first axis), so a
   * row that a host step gave a new value (a re-seeded code) starts without the momentum of the
   * value it replaced. Nothing to do for a parameter without state.
   */
  resetRows(param: Variable, rows: readonly number[]): void;
}

/**
 * The state variables (slots) an optimizer keeps for each parameter, remembered when its update is
 * built, so that `Optimizer.resetRows` can zero rows of them later: the optimizer knows its own
 * slots, and no caller has to know how it names them.
 */
import type { Tensor } from '../graph/tensor.js';
import type { BuildContext } from './build-context.js';
import { rowWidth, type Variable, type VariableStore } from './variables.js';

export class OptimizerSlots {
  /** Keyed by the parameter's variable, which belongs to one store, so stores never mix. */
  private readonly byParam = new WeakMap<Variable, { readonly store: VariableStore; readonly slots: Variable[] }>();

  /** The zero-initialized slot `fullName` of `param`'s shape, remembered as one of `param`'s. */
  slot(ctx: BuildContext, param: Variable, fullName: string): Tensor {
    const tensor = ctx.slot(fullName, param.shape);
    const variable = ctx.store.require(fullName);
    const entry = this.byParam.get(param) ?? { store: ctx.store, slots: [] };
    if (!entry.slots.includes(variable)) entry.slots.push(variable);
    this.byParam.set(param, entry);
    return tensor;
  }

  /**
   * Zero rows `rows` (distinct, along the first axis) of every slot of `param`, through the store's
   * `writeRows` (so a slot held on a device gets those rows alone); none: nothing to do.
   */
  resetRows(param: Variable, rows: readonly number[]): void {
    const width = rowWidth('resetRows', param, rows);
    const entry = this.byParam.get(param);
    if (entry === undefined || rows.length === 0) return;
    const zeros = new Float32Array(rows.length * width);
    for (const slot of entry.slots) entry.store.writeRows(slot, rows, zeros);
  }
}

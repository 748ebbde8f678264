/**
 * The state variables (slots) an optimizer keeps for each parameter, remembered when its update is
 * built, so that `Optimizer.resetRows` can zero rows of them later: the optimizer knows its own
 * slots, and no caller has to know how it names them.
 */
import type { Tensor } from '../graph/tensor.js';
import type { BuildContext } from './build-context.js';
import type { Variable } from './variables.js';

export class OptimizerSlots {
  /** Keyed by the parameter's variable, which belongs to one store, so stores never mix. */
  private readonly byParam = new WeakMap<Variable, Variable[]>();

  /** The zero-initialized slot `fullName` of `param`'s shape, remembered as one of `param`'s. */
  slot(ctx: BuildContext, param: Variable, fullName: string): Tensor {
    const tensor = ctx.slot(fullName, param.shape);
    const variable = ctx.store.require(fullName);
    const slots = this.byParam.get(param) ?? [];
    if (!slots.includes(variable)) slots.push(variable);
    this.byParam.set(param, slots);
    return tensor;
  }

  /** The slots remembered for `param`. */
  of(param: Variable): readonly Variable[] {
    return this.byParam.get(param) ?? [];
  }

  /** Zero rows `rows` (along the first axis) of every slot of `param`; none: nothing to do. */
  resetRows(param: Variable, rows: readonly number[]): void {
    const count = param.shape[0] ?? 1;
    const width = param.value.length / count;
    for (const r of rows) {
      if (!(Number.isInteger(r) && r >= 0 && r < count)) throw new Error(`resetRows: row ${r} is not one of the ${count} rows of '${param.name}'; rows are 0 … ${count - 1}`);
    }
    for (const slot of this.byParam.get(param) ?? []) {
      for (const r of rows) slot.value.fill(0, r * width, (r + 1) * width);
    }
  }
}

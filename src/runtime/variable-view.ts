/**
 * The variables of one scope of a store, by their local names (`codebook`, not `quantizer.codebook`),
 * for host-side code that edits its own variables between two training steps (a quantizer's k-means
 * initialization and dead-code replacement). It reaches no variable outside its scope, and rows it
 * re-seeds get fresh optimizer state through the optimizer that trains them.
 */
import type { Optimizer } from './optimizer.js';
import type { Variable, VariableStore } from './variables.js';

export class VariableView {
  constructor(
    private readonly store: VariableStore,
    /** The scope's name prefix, e.g. `quantizer.` (what `BuildContext.prefix` was for this scope). */
    private readonly prefix: string,
    private readonly optimizer: Pick<Optimizer, 'resetRows' | 'slotsOf'>,
  ) {}

  /** The store's seed, for seeded host-side choices. */
  get seed(): number {
    return this.store.seed;
  }

  /** The view of a child scope (as `BuildContext.scope(name)` is of a context). */
  scope(name: string): VariableView {
    return new VariableView(this.store, `${this.prefix}${name}.`, this.optimizer);
  }

  get(name: string): Variable | undefined {
    return this.store.get(this.prefix + name);
  }

  require(name: string): Variable {
    return this.store.require(this.prefix + name);
  }

  /**
   * Every variable host code of this scope can read or write: the scope's own and the optimizer's
   * state of each, which re-seeded rows reset. What a host step syncs from a device first.
   */
  hostVariables(): Variable[] {
    const own = this.store.list().filter((v) => v.name.startsWith(this.prefix));
    return [...own, ...own.flatMap((v) => this.optimizer.slotsOf(v))];
  }

  /** Zero the optimizer's state for rows `rows` of variable `name`: those rows were given new values. */
  resetOptimizerRows(name: string, rows: readonly number[]): void {
    this.optimizer.resetRows(this.require(name), rows);
  }
}

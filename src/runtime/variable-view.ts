/**
 * The variables of one scope of a store, by their local names (`codebook`, not `quantizer.codebook`),
 * for host-side code that edits its own variables between two training steps (a quantizer's k-means
 * initialization and dead-code replacement). It reaches no variable outside its scope, and rows it
 * re-seeds get fresh optimizer state through the optimizer that trains them. Host code reads
 * through `read` and writes through `writeRows`, so that where training holds the variables on a
 * GPU a host step moves what it reads and the rows it writes, and nothing else.
 */
import type { Optimizer } from './optimizer.js';
import type { Variable, VariableStore } from './variables.js';

export class VariableView {
  constructor(
    private readonly store: VariableStore,
    /** The scope's name prefix, e.g. `quantizer.` (what `BuildContext.prefix` was for this scope). */
    private readonly prefix: string,
    private readonly optimizer: Pick<Optimizer, 'resetRows'>,
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
   * The current value of `name` on the host, downloaded first where a device holds a newer one.
   * Read it only: writes go through `writeRows`, which also reaches a device copy.
   */
  async read(name: string): Promise<Float32Array> {
    const v = this.require(name);
    await this.store.sync([v]);
    return v.value;
  }

  /** Rows `rows` (distinct, first axis) of `name` become the rows of `values`, on the host and on any device copy. */
  writeRows(name: string, rows: readonly number[], values: Float32Array): void {
    this.store.writeRows(this.require(name), rows, values);
  }

  /** Zero the optimizer's state for rows `rows` of variable `name`: those rows were given new values. */
  resetOptimizerRows(name: string, rows: readonly number[]): void {
    this.optimizer.resetRows(this.require(name), rows);
  }
}

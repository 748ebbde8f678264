/**
 * What model code receives while it builds a graph: access to parameters and state by name
 * (backed by a `VariableStore`), data inputs, and name scoping for layers.
 *
 * The same model code builds the training graph (mode 'train', where state updates such as EMA
 * codebook statistics are recorded) and inference graphs (mode 'eval', where they are ignored).
 */
import type { Initializer } from '../init/initializers.js';
import type { Graph } from '../graph/graph.js';
import { formatShape, shapeEquals, type DType, type Shape, type Tensor } from '../graph/tensor.js';
import type { Optimizer } from './optimizer.js';
import { VariableView } from './variable-view.js';
import type { Variable, VariableInit, VariableOptions, VariableStore } from './variables.js';

export type BuildMode = 'train' | 'eval';

interface Shared {
  readonly tensors: Map<string, Tensor>;
  readonly stateUpdates: Map<string, Tensor>;
}

export class BuildContext {
  private constructor(
    readonly graph: Graph,
    readonly store: VariableStore,
    readonly mode: BuildMode,
    readonly prefix: string,
    private readonly shared: Shared,
  ) {}

  static create(graph: Graph, store: VariableStore, mode: BuildMode): BuildContext {
    return new BuildContext(graph, store, mode, '', { tensors: new Map(), stateUpdates: new Map() });
  }

  /** A child context whose variable names are prefixed with `name.`. */
  scope(name: string): BuildContext {
    return new BuildContext(this.graph, this.store, this.mode, `${this.prefix}${name}.`, this.shared);
  }

  /** A model parameter (created in the store on first use). */
  param(name: string, shape: Shape, init: Initializer, options: VariableOptions = {}): Tensor {
    return this.variableTensor(this.store.variable(this.prefix + name, 'param', shape, init, options));
  }

  /** Persistent non-gradient state, e.g. EMA statistics (`init` may compute it from earlier variables). */
  state(name: string, shape: Shape, init: VariableInit): Tensor {
    return this.variableTensor(this.store.variable(this.prefix + name, 'state', shape, init));
  }

  /** The variable `name` of this scope, which must exist: to read it, e.g. for a computed initial value. */
  variable(name: string): Variable {
    return this.store.require(this.prefix + name);
  }

  /** This scope's variables for host-side code, whose re-seeded rows `optimizer` resets. */
  view(optimizer: Pick<Optimizer, 'resetRows'>): VariableView {
    return new VariableView(this.store, this.prefix, optimizer);
  }

  /** Record the next value of a state variable; only training graphs apply it. */
  setState(name: string, next: Tensor): void {
    const full = this.prefix + name;
    const v = this.store.require(full);
    if (v.kind !== 'state') throw new Error(`setState('${full}'): '${full}' is ${v.kind}, not state`);
    this.setNext(full, next);
  }

  /** Optimizer state for a variable (unprefixed full name, zero-initialised, e.g. `opt.m.enc.w`). */
  slot(fullName: string, shape: Shape): Tensor {
    return this.variableTensor(this.store.variable(fullName, 'optimizer', shape, { kind: 'constant', value: 0 }));
  }

  /** Record the next value of an optimizer slot (training graphs only). */
  setSlot(fullName: string, next: Tensor): void {
    const v = this.store.require(fullName);
    if (v.kind !== 'optimizer') throw new Error(`setSlot('${fullName}'): '${fullName}' is ${v.kind}, not an optimizer slot`);
    this.setNext(fullName, next);
  }

  /**
   * Record the next value of any variable by full name (training graphs only). Used by
   * `setState`, `setSlot` and the training program's parameter updates.
   */
  setNext(fullName: string, next: Tensor): void {
    const v = this.store.require(fullName);
    if (!shapeEquals(v.shape, next.shape) || next.dtype !== 'float32') {
      throw new Error(`next value of '${fullName}' is ${next.toString()} but the variable is float32${formatShape(v.shape)}`);
    }
    if (this.mode === 'train') this.shared.stateUpdates.set(fullName, next);
  }

  /** A per-run data input (not prefixed: data names are global). */
  input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    return this.graph.input(name, shape, dtype, 'data');
  }

  /** The graph tensor of a variable, by full name, if this graph uses it. */
  tensorOf(fullName: string): Tensor | undefined {
    return this.shared.tensors.get(fullName);
  }

  /** Variables this graph reads, with their tensors. */
  usedVariables(): { variable: Variable; tensor: Tensor }[] {
    return [...this.shared.tensors.entries()].map(([name, tensor]) => ({ variable: this.store.require(name), tensor }));
  }

  stateUpdates(): ReadonlyMap<string, Tensor> {
    return this.shared.stateUpdates;
  }

  private variableTensor(v: Variable): Tensor {
    let t = this.shared.tensors.get(v.name);
    if (!t) {
      t = this.graph.input(v.name, v.shape, 'float32', v.kind === 'param' ? 'param' : 'state');
      this.shared.tensors.set(v.name, t);
    }
    return t;
  }
}

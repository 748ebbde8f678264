/**
 * Persistent values that live outside any one graph: model parameters (trainable or frozen),
 * non-gradient state (EMA statistics, usage counts) and optimizer state. Graphs see them as
 * inputs; a training step graph also outputs their next values, which `TrainingProgram` writes
 * into a second buffer and swaps (ping-pong), so nothing is allocated per step.
 *
 * On a GPU a training program may keep the current values in device buffers between steps
 * (resident-state.ts): the store then holds a `DeviceResidence`, a variable whose current value is
 * on the device is stale on the host, reading its `value` throws, and `sync` brings values back
 * where the host needs them (checkpoints, host steps, the end of training).
 *
 * Initial values depend only on (seed, name): each variable draws from its own RNG stream seeded
 * by a hash of its name, so adding a layer does not change the others' initial weights.
 */
import { initialize, type Fans, type Initializer } from '../init/initializers.js';
import { Rng } from '../init/rng.js';
import { formatShape, shapeEquals, shapeSize, type Shape } from '../graph/tensor.js';
import type { DeviceTensor } from './session.js';

export type VariableKind = 'param' | 'state' | 'optimizer';

/**
 * How a variable gets its first value: drawn from an initializer, or computed from variables that
 * already exist (EMA-VQ's sum m = c·e follows its codebook e). A computed value is asked for only
 * when the store creates the variable, so model code declares it and never writes to the store.
 */
export type VariableInit = Initializer | (() => Float32Array);

export interface VariableOptions {
  /** Parameters only: does the optimizer update it? (default true) */
  trainable?: boolean;
  /** Parameters only: apply weight decay (default: true for rank ≥ 2, false for biases/norm scales). */
  decay?: boolean;
  /** Fans for Kaiming/Xavier, when the default [out, in, ...kernel] reading is wrong. */
  fans?: Fans;
}

export interface Variable {
  readonly name: string;
  readonly kind: VariableKind;
  readonly shape: Shape;
  trainable: boolean;
  readonly decay: boolean;
  /**
   * Current value. Replaced (not copied) when a training step swaps buffers. Reading it while the
   * current value is on a device throws: `await store.sync(...)` first.
   */
  value: Float32Array;
}

/**
 * Device copies of some of a store's variables, newer than their host values while training runs
 * on a GPU (`ResidentState`). The store asks it to download at its sync points and tells it when
 * the host overwrote a value.
 */
export interface DeviceResidence {
  /**
   * The device tensor holding `variable`'s current value, uploaded first if the device has no copy.
   * It stays held here: a session of the same device may feed it, and no caller disposes it.
   */
  deviceCopy(variable: Variable): Promise<DeviceTensor>;
  /** Copy the device values of `variables` (each stale on the host) into their host buffers. */
  download(variables: readonly Variable[]): Promise<void>;
  /** The host values of `variables` were overwritten: their device copies are out of date. */
  hostWrote(variables: readonly Variable[]): void;
  /** Whether the device holds a copy of `variable` (its current value, or one as new as the host's). */
  holds(variable: Variable): boolean;
  /**
   * Write rows `rows` (distinct, along the first axis) of `variable`'s device copy: row i of
   * `values` becomes row rows[i]. Applied before the copy is next fed or downloaded.
   */
  writeRows(variable: Variable, rows: readonly number[], values: Float32Array): void;
}

/** A variable of a store: its value is guarded while a device holds a newer one. */
class StoredVariable implements Variable {
  trainable: boolean;
  /** True while the current value is on a device and `host` is out of date. */
  staleOnHost = false;

  constructor(
    readonly name: string,
    readonly kind: VariableKind,
    readonly shape: Shape,
    readonly decay: boolean,
    trainable: boolean,
    private host: Float32Array,
  ) {
    this.trainable = trainable;
  }

  get value(): Float32Array {
    if (this.staleOnHost) {
      throw new Error(`variable '${this.name}' is held on the GPU between training steps and its host copy is out of date; await store.sync() before reading it`);
    }
    return this.host;
  }

  set value(value: Float32Array) {
    this.host = value;
  }

  /** Row i of `values` into row rows[i] of the host buffer, current or not. */
  writeHostRows(rows: readonly number[], values: Float32Array, width: number): void {
    rows.forEach((r, i) => this.host.set(values.subarray(i * width, (i + 1) * width), r * width));
  }
}

/** Rows along the first axis of `variable` (1 for a scalar). */
function rowCount(variable: Variable): number {
  return variable.shape[0] ?? 1;
}

/**
 * The values in one row of `variable` (along its first axis), after checking that each of `rows`
 * is one of its rows; `caller` names the method in the error.
 */
export function rowWidth(caller: string, variable: Variable, rows: readonly number[]): number {
  const count = rowCount(variable);
  for (const r of rows) {
    if (!(Number.isInteger(r) && r >= 0 && r < count)) throw new Error(`${caller}: row ${r} is not one of the ${count} rows of '${variable.name}'; rows are 0 … ${count - 1}`);
  }
  return shapeSize(variable.shape) / count;
}

/** FNV-1a, to give every variable name its own RNG stream. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function initialValue(name: string, shape: Shape, init: VariableInit, seed: number, fans: Fans | undefined): Float32Array {
  if (typeof init !== 'function') return initialize(init, shape, new Rng(seed * 1_000_003 + hashName(name)), fans);
  const value = init();
  if (value.length !== shapeSize(shape)) throw new Error(`the computed initial value of '${name}' has ${value.length} elements but its shape ${formatShape(shape)} holds ${shapeSize(shape)}`);
  return value;
}

export class VariableStore {
  private readonly vars = new Map<string, StoredVariable>();
  private residence: DeviceResidence | undefined;

  constructor(readonly seed: number) {}

  /**
   * Get or create a variable. Creating draws its initial value from `init`; getting an existing
   * one checks that kind and shape agree, so two graphs built from the same model code share it.
   */
  variable(name: string, kind: VariableKind, shape: Shape, init: VariableInit, options: VariableOptions = {}): Variable {
    const existing = this.vars.get(name);
    if (existing) {
      if (existing.kind !== kind || !shapeEquals(existing.shape, shape)) {
        throw new Error(`variable '${name}' exists as ${existing.kind}${formatShape(existing.shape)}, requested as ${kind}${formatShape(shape)}`);
      }
      return existing;
    }
    const v = new StoredVariable(
      name,
      kind,
      [...shape],
      kind === 'param' && (options.decay ?? shape.length >= 2),
      kind === 'param' && (options.trainable ?? true),
      initialValue(name, shape, init, this.seed, options.fans),
    );
    this.vars.set(name, v);
    return v;
  }

  get(name: string): Variable | undefined {
    return this.vars.get(name);
  }

  require(name: string): Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no variable named '${name}'`);
    return v;
  }

  list(kind?: VariableKind): Variable[] {
    return [...this.vars.values()].filter((v) => kind === undefined || v.kind === kind);
  }

  /** Number of scalar parameters (of kind 'param'). */
  parameterCount(trainableOnly = false): number {
    return this.list('param')
      .filter((v) => !trainableOnly || v.trainable)
      .reduce((n, v) => n + shapeSize(v.shape), 0);
  }

  /** Mark a parameter trainable or frozen. Takes effect in programs compiled afterwards. */
  setTrainable(name: string, trainable: boolean): void {
    const v = this.require(name);
    if (v.kind !== 'param') throw new Error(`'${name}' is ${v.kind}, not a parameter`);
    v.trainable = trainable;
  }

  /**
   * Let `residence` hold device copies of this store's variables (one at a time); undefined
   * detaches it, which requires every host value to be current.
   */
  attachResidence(residence: DeviceResidence | undefined): void {
    if (residence !== undefined && this.residence !== undefined && residence !== this.residence) {
      throw new Error('this store\'s variables are already held on a device by another training program; release that program first');
    }
    if (residence === undefined) {
      const stale = [...this.vars.values()].find((v) => v.staleOnHost);
      if (stale) throw new Error(`detaching the device copies would lose the current value of '${stale.name}'; sync the store first`);
    }
    this.residence = residence;
  }

  /** The device copies of this store's variables, while a training program holds them on a device. */
  get deviceResidence(): DeviceResidence | undefined {
    return this.residence;
  }

  /** Whether the current value of `variable` is on a device only (its `value` throws until `sync`). */
  isStaleOnHost(variable: Variable): boolean {
    return this.vars.get(variable.name)?.staleOnHost ?? false;
  }

  /** For the `DeviceResidence`: mark `variables` newer on the device (after a step) or current on the host again. */
  markStaleOnHost(variables: readonly Variable[], stale: boolean): void {
    for (const v of variables) this.stored(v).staleOnHost = stale;
  }

  /**
   * Bring the current values of `variables` (default: all) to the host where a device holds newer
   * ones: the sync point before checkpoints, evaluation and host steps. Nothing to do on the CPU.
   */
  async sync(variables: readonly Variable[] = [...this.vars.values()]): Promise<void> {
    const stale = variables.filter((v) => this.isStaleOnHost(v));
    if (stale.length > 0) await this.residence!.download(stale);
  }

  /**
   * The host wrote new values into `variables` (a host step re-seeding rows, a checkpoint load):
   * device copies, if any, are dropped and the next step uploads these values.
   */
  hostWrote(variables: readonly Variable[]): void {
    this.residence?.hostWrote(variables);
  }

  /**
   * Give rows `rows` (distinct, along the first axis) of `variable` the rows of `values` ([n, …]
   * in that order), wherever its current value lives: in the host buffer when that is current,
   * and in the device copy when a device holds one, so a host step that re-seeds a few codes of a
   * codebook held on a GPU moves those rows only (not the codebook, either way). Writing every
   * row replaces the value: the host's is then current and the next step uploads it whole.
   */
  writeRows(variable: Variable, rows: readonly number[], values: Float32Array): void {
    const v = this.stored(variable);
    const width = rowWidth('writeRows', v, rows);
    if (values.length !== rows.length * width) {
      throw new Error(`writeRows: ${rows.length} rows of '${v.name}' take ${rows.length * width} values, got ${values.length}`);
    }
    if (new Set(rows).size !== rows.length) {
      const twice = rows.find((r, i) => rows.indexOf(r) !== i)!;
      throw new Error(`writeRows: row ${twice} of '${v.name}' is given twice; give each row once`);
    }
    if (rows.length === 0) return;
    const residence = this.residence?.holds(v) ? this.residence : undefined;
    if (residence === undefined) {
      v.writeHostRows(rows, values, width);
      return;
    }
    if (rows.length === rowCount(v)) {
      // Every row: the host value is whole again, and the next step uploads it.
      v.writeHostRows(rows, values, width);
      this.hostWrote([v]);
      return;
    }
    if (!v.staleOnHost) v.writeHostRows(rows, values, width);
    residence.writeRows(v, rows, values);
  }

  private stored(variable: Variable): StoredVariable {
    const v = this.vars.get(variable.name);
    if (v !== variable) throw new Error(`variable '${variable.name}' does not belong to this store`);
    return v;
  }

  /** Copies of all values by name (for checkpoints). */
  snapshot(kinds: readonly VariableKind[] = ['param', 'state', 'optimizer']): Map<string, { shape: Shape; data: Float32Array }> {
    const out = new Map<string, { shape: Shape; data: Float32Array }>();
    for (const v of this.vars.values()) if (kinds.includes(v.kind)) out.set(v.name, { shape: v.shape, data: v.value.slice() });
    return out;
  }

  /**
   * Overwrite values from a checkpoint. Every named entry must exist with the same shape; a value
   * containing NaN or ±Infinity is refused so a corrupt checkpoint fails at load, not mid-training.
   */
  load(values: ReadonlyMap<string, { shape: Shape; data: Float32Array }>, options: { allowMissing?: boolean } = {}): void {
    for (const [name, { shape, data }] of values) {
      const v = this.vars.get(name);
      if (!v) throw new Error(`checkpoint has '${name}', which this model does not define; was it saved by another model configuration?`);
      if (!shapeEquals(v.shape, shape) || data.length !== shapeSize(v.shape)) {
        throw new Error(`checkpoint '${name}' has shape ${formatShape(shape)} but the model expects ${formatShape(v.shape)}`);
      }
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) throw new Error(`checkpoint '${name}' contains a non-finite value at ${i}; the checkpoint is corrupt`);
      }
    }
    if (!options.allowMissing) {
      for (const v of this.vars.values()) {
        if (v.kind === 'param' && !values.has(v.name)) throw new Error(`checkpoint lacks parameter '${v.name}'`);
      }
    }
    this.hostWrote([...values.keys()].map((name) => this.vars.get(name)!));
    for (const [name, { data }] of values) this.vars.get(name)!.value.set(data);
  }
}

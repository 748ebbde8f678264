/**
 * Persistent values that live outside any one graph: model parameters (trainable or frozen),
 * non-gradient state (EMA statistics, usage counts) and optimizer state. Graphs see them as
 * inputs; a training step graph also outputs their next values, which `TrainingProgram` writes
 * into a second buffer and swaps (ping-pong), so nothing is allocated per step.
 *
 * Initial values depend only on (seed, name): each variable draws from its own RNG stream seeded
 * by a hash of its name, so adding a layer does not change the others' initial weights.
 */
import { initialize, type Fans, type Initializer } from '../init/initializers.js';
import { Rng } from '../init/rng.js';
import { formatShape, shapeEquals, shapeSize, type Shape } from '../graph/tensor.js';

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
  /** Current value. Replaced (not copied) when a training step swaps buffers. */
  value: Float32Array;
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
  private readonly vars = new Map<string, Variable>();

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
    const v: Variable = {
      name,
      kind,
      shape: [...shape],
      trainable: kind === 'param' && (options.trainable ?? true),
      decay: kind === 'param' && (options.decay ?? shape.length >= 2),
      value: initialValue(name, shape, init, this.seed, options.fans),
    };
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
      if (!shapeEquals(v.shape, shape) || data.length !== v.value.length) {
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
    for (const [name, { data }] of values) this.vars.get(name)!.value.set(data);
  }
}

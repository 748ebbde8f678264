/**
 * A graph under construction: its inputs, constants and primitive nodes in creation order (which
 * is a topological order, since a node can only consume tensors that already exist).
 */
import type { Primitive } from './primitive.js';
import { GraphError, shapeSize, Tensor, type Attrs, type DType, type Node, type Shape } from './tensor.js';

/** What feeds a graph input: per-step data, a model parameter, or other persistent state. */
export type InputKind = 'data' | 'param' | 'state';

export interface GraphInput {
  readonly tensor: Tensor;
  readonly kind: InputKind;
}

export type ConstantData = Float32Array | BigInt64Array | Uint8Array;

export interface GraphConstant {
  readonly tensor: Tensor;
  readonly data: ConstantData;
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.\/:-]*$/;

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly constants: GraphConstant[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();

  /** A value fed at run time. `name` must be unique within the graph. */
  input(name: string, shape: Shape, dtype: DType = 'float32', kind: InputKind = 'data'): Tensor {
    this.claimName(name);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) {
        throw new GraphError('input', `'${name}' has shape [${shape.join(',')}]; every dimension must be a positive integer`);
      }
    }
    const t = new Tensor(this, this.nextId++, [...shape], dtype, undefined, name);
    this.inputs.push({ tensor: t, kind });
    return t;
  }

  /** A constant baked into the model. Small scalars are shared. */
  constant(data: ConstantData, shape: Shape): Tensor {
    if (data.length !== shapeSize(shape)) {
      throw new GraphError('constant', `data has ${data.length} elements but shape [${shape.join(',')}] needs ${shapeSize(shape)}`);
    }
    const dtype: DType = data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : 'bool';
    const t = new Tensor(this, this.nextId, [...shape], dtype, undefined, `c${this.nextId}`);
    this.nextId++;
    this.constants.push({ tensor: t, data });
    return t;
  }

  /** A float32 (or int64) scalar constant of rank 0, cached by value. */
  scalar(value: number, dtype: 'float32' | 'int64' = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      t = this.constant(dtype === 'float32' ? Float32Array.of(value) : BigInt64Array.of(BigInt(value)), []);
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Append a node. Used by the primitive ops only; shapes are already validated there. */
  addNode(op: Primitive, inputs: readonly Tensor[], attrs: Attrs, outputTypes: readonly { shape: Shape; dtype: DType }[]): Tensor[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new GraphError(op, `input ${x.toString()} belongs to another graph`);
    }
    const outputs: Tensor[] = [];
    const node: Node = { op, inputs: [...inputs], attrs, outputs };
    for (const o of outputTypes) {
      const id = this.nextId++;
      outputs.push(new Tensor(this, id, [...o.shape], o.dtype, node, `t${id}`));
    }
    this.nodes.push(node);
    return outputs;
  }

  findInput(name: string): GraphInput | undefined {
    return this.inputs.find((i) => i.tensor.name === name);
  }

  private claimName(name: string): void {
    if (!NAME_PATTERN.test(name)) {
      throw new GraphError('input', `'${name}' is not a valid name (letters, digits, _ . / : -; not starting with a digit)`);
    }
    if (/^[ct]\d+$/.test(name)) throw new GraphError('input', `'${name}' is reserved for internal values; choose another name`);
    if (this.names.has(name)) throw new GraphError('input', `an input named '${name}' already exists`);
    this.names.add(name);
  }
}

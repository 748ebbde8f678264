/**
 * Symbolic tensors and the nodes that produce them.
 *
 * A `Tensor` is a value in a `Graph`: it has a static shape and dtype and is produced either by a
 * graph input (data, parameter or state) or by one primitive `Node`. Nothing is computed when a
 * tensor is created; the graph is lowered to ONNX and run by ONNX Runtime (see `src/onnx`).
 */
import type { Primitive } from './primitive.js';
import type { Graph } from './graph.js';

/** Element types vqlab uses. Gradients flow only through `float32`. */
export type DType = 'float32' | 'int64' | 'bool';

export type Shape = readonly number[];

/** Attribute values a primitive may carry. */
export type AttrValue = number | string | boolean | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
    /** The node that computes this tensor; `undefined` for graph inputs and constants. */
    readonly producer: Node | undefined,
    /** ONNX value name. Inputs and outputs keep the name the user gave; the rest are `t<id>`. */
    readonly name: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  toString(): string {
    return `${this.name}:${this.dtype}[${this.shape.join(',')}]`;
  }
}

/** One application of a primitive op. */
export interface Node {
  readonly op: Primitive;
  readonly inputs: readonly Tensor[];
  readonly attrs: Attrs;
  readonly outputs: Tensor[];
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Error raised while building a graph; the message names the op and the shapes involved. */
export class GraphError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'GraphError';
  }
}

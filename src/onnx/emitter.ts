/**
 * The ONNX node and initializer list under construction, shared by the primitive lowering
 * (`lower.ts`) and the convolution forms (`conv-forms.ts`). Shape and index constants become
 * int64 initializers named `k<n>`; intermediate values get fresh `k<n>` names too.
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import type { DType } from '../graph/tensor.js';

/** The protobuf classes (onnx-proto is CommonJS, so they come through its default export). */
export const P = onnxProto.onnx;

export const ELEM: Record<DType, number> = {
  float32: P.TensorProto.DataType.FLOAT,
  int64: P.TensorProto.DataType.INT64,
  bool: P.TensorProto.DataType.BOOL,
};

export type Attr = onnx.IAttributeProto;

/** How index (int64) tensors are typed inside a lowered graph: int32 for ORT's WebGPU provider (`webgpu-forms.ts`). */
export type IndexType = 'int64' | 'int32';

const A = P.AttributeProto.AttributeType;
export const intAttr = (name: string, i: number): Attr => ({ name, type: A.INT, i });
export const intsAttr = (name: string, ints: readonly number[]): Attr => ({ name, type: A.INTS, ints: [...ints] });
export const strAttr = (name: string, s: string): Attr => ({ name, type: A.STRING, s: new TextEncoder().encode(s) });

export function tensorProto(name: string, dtype: DType, dims: readonly number[], data: Float32Array | BigInt64Array | Uint8Array): onnx.ITensorProto {
  return {
    name,
    dataType: ELEM[dtype],
    dims: [...dims],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** An int32 initializer: index constants under the int32 index type (see `webgpu-forms.ts`). */
export function int32Proto(name: string, dims: readonly number[], data: Int32Array): onnx.ITensorProto {
  return { name, dataType: P.TensorProto.DataType.INT32, dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export class Emitter {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** Operator domains used besides the default one (e.g. ORT's `com.microsoft.nchwc`). */
  readonly domains = new Set<string>();
  private counter = 0;
  private readonly intConstants = new Map<string, string>();

  /** `indexType`: how index values (not shapes or axes) are typed; see `webgpu-forms.ts`. */
  constructor(readonly indexType: IndexType = 'int64') {}

  ints(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.intConstants.get(key);
    if (!name) {
      name = `k${this.counter++}`;
      this.initializers.push(tensorProto(name, 'int64', [values.length], BigInt64Array.from(values.map(BigInt))));
      this.intConstants.set(key, name);
    }
    return name;
  }

  scalarInt(value: number): string {
    const name = `k${this.counter++}`;
    this.initializers.push(tensorProto(name, 'int64', [], BigInt64Array.of(BigInt(value))));
    return name;
  }

  /** A 1-D constant of index values (compared with or added to indices), typed as `indexType`. */
  indexInts(values: readonly number[]): string {
    if (this.indexType === 'int64') return this.ints(values);
    const name = `k${this.counter++}`;
    this.initializers.push(int32Proto(name, [values.length], Int32Array.from(values)));
    return name;
  }

  /** A scalar index constant, typed as `indexType`. */
  indexScalar(value: number): string {
    if (this.indexType === 'int64') return this.scalarInt(value);
    const name = `k${this.counter++}`;
    this.initializers.push(int32Proto(name, [], Int32Array.of(value)));
    return name;
  }

  /** A float32 constant of any shape. */
  floatTensor(values: Float32Array, dims: readonly number[]): string {
    const name = `k${this.counter++}`;
    this.initializers.push(tensorProto(name, 'float32', dims, values));
    return name;
  }

  floats(values: readonly number[]): string {
    const name = `k${this.counter++}`;
    this.initializers.push(tensorProto(name, 'float32', [values.length], Float32Array.from(values)));
    return name;
  }

  temp(): string {
    return `k${this.counter++}`;
  }

  node(opType: string, input: readonly string[], output: readonly string[], attribute: Attr[] = [], domain = ''): void {
    if (domain) this.domains.add(domain);
    // The default domain is written as no field at all (protobuf skips a null), as ONNX writers do.
    this.nodes.push({ opType, input: [...input], output: [...output], attribute, name: `${opType}_${this.nodes.length}`, domain: domain || null });
  }

  /** Emit one node with a fresh output and return that output's name. */
  value(opType: string, input: readonly string[], attribute: Attr[] = [], domain = ''): string {
    const out = this.temp();
    this.node(opType, input, [out], attribute, domain);
    return out;
  }
}

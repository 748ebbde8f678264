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

export class Emitter {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** Operator domains used besides the default one (e.g. ORT's `com.microsoft.nchwc`). */
  readonly domains = new Set<string>();
  private counter = 0;
  private readonly intConstants = new Map<string, string>();

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

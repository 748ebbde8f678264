/**
 * A serialized model of a single node whose inputs and outputs declare an element type and no
 * shape, so one session serves tensors of any shape: what the host-device transfers of
 * `ResidentState` run (`identity-model.ts`, `row-write-model.ts`).
 */
import type { onnx } from 'onnx-proto';
import { encodeModel, OPSET } from './lower.js';

/** A graph input or output: its name and ONNX element type. */
export interface TypedName {
  readonly name: string;
  readonly elemType: number;
}

export function oneNodeModelBytes(graphName: string, node: onnx.INodeProto, inputs: readonly TypedName[], outputs: readonly TypedName[]): Uint8Array {
  const typed = ({ name, elemType }: TypedName): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType } } });
  return encodeModel({
    irVersion: 8,
    producerName: 'vqlab',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: graphName, node: [node], input: inputs.map(typed), output: outputs.map(typed) },
  });
}

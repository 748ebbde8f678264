/**
 * The forms a graph takes for ONNX Runtime's WebGPU execution provider, so that every node of a
 * training step runs there instead of falling back to the CPU provider (with a copy each way).
 *
 * Why int32 indices: WGSL has no 64-bit integers, and the WebGPU provider registers its int64
 * kernels (Cast from int64, Reshape, Add, Mul of int64) only behind the session config entry
 * `ep.webgpuexecutionprovider.enableInt64`, which onnxruntime-node 1.30 cannot set (its binding
 * appends the execution providers before it reads `extra`, and its WebGPU options accept no such
 * key). Read off ORT's verbose node placement for the reference model with VQ and SimVQ on
 * SwiftShader: with int64 indices 7 nodes of the step fell back (the two Casts of ArgMin's output,
 * the Reshape of the code indices and the Reshape/Mul/Add/Reshape that flattens ScatterAdd's
 * indices). So under this target every int64 value *inside* the graph is an int32 tensor (all of
 * vqlab's indices are below 2^31: code indices, flat ScatterAdd indices, step counters), and only
 * the graph's own int64 inputs and outputs keep their type, converted once at the boundary.
 *
 * ArgMin and ArgMax, whose output ONNX fixes to int64, become the first index attaining the
 * row's extreme computed in float32 (exact below 2^24 codes); Sign, which the provider does not
 * register, becomes two comparisons; OneHot, which it does not register either, one Equal.
 * A Concat of more than 7 tensors becomes a tree of Concats of at most 7: WebGPU's default limit of
 * 8 storage buffers a shader may bind (the inputs and the output) is all some adapters offer, and a
 * Concat beyond it fails to build its pipeline (the reference model's step has one of 9).
 * Each form gives the same values as the op it replaces (`test/webgpu.test.ts` compares them on
 * the CPU provider, and the gradient checks run through them).
 */
import { GraphError, type Node } from '../graph/tensor.js';
import { P, intAttr, type Emitter } from './emitter.js';

/**
 * ArgMin/ArgMax as the smallest index attaining the extreme along `axis`, the index ONNX's op
 * gives with select_last_index = 0: m = ReduceMin(x), then ReduceMin over Where(x = m, i, n).
 * ReduceMin returns one of the row's own values, so the equality is exact.
 */
export function lowerArgExtremeAsFloat(e: Emitter, n: Node): void {
  const x = n.inputs[0]!;
  const axis = n.attrs.axis as number;
  const keepDims = n.attrs.keepDims as boolean;
  const width = x.shape[axis]!;
  if (width > 2 ** 24) throw new GraphError(n.op, `an axis of ${width} values is beyond the indices float32 holds exactly (2^24)`);
  const reduce = n.op === 'ArgMin' ? 'ReduceMin' : 'ReduceMax';
  const axes = e.ints([axis]);
  const extreme = e.value(reduce, [x.name, axes], [intAttr('keepdims', 1)]);
  const iotaShape = x.shape.map((d, i) => (i === axis ? width : 1));
  const iota = e.floatTensor(Float32Array.from({ length: width }, (_, i) => i), iotaShape);
  const candidates = e.value('Where', [e.value('Equal', [x.name, extreme]), iota, e.floats([width])]);
  const first = e.value('ReduceMin', [candidates, axes], [intAttr('keepdims', keepDims ? 1 : 0)]);
  e.node('Cast', [first], [n.outputs[0]!.name], [intAttr('to', P.TensorProto.DataType.INT32)]);
}

/** Sign(x) as Where(x > 0, 1, Where(x < 0, −1, x − x)): ±0 gives +0 and NaN stays NaN, as in Sign. */
export function lowerSignByComparison(e: Emitter, n: Node): void {
  const x = n.inputs[0]!.name;
  const zero = e.floats([0]);
  const negative = e.value('Where', [e.value('Less', [x, zero]), e.floats([-1]), e.value('Sub', [x, x])]);
  e.node('Where', [e.value('Greater', [x, zero]), e.floats([1]), negative], [n.outputs[0]!.name]);
}

/** OneHot(indices, depth) as Cast(indices[..., 1] = [0 … depth−1]) to float32. */
export function lowerOneHotByEqual(e: Emitter, n: Node): void {
  const indices = n.inputs[0]!;
  const depth = n.attrs.depth as number;
  const column = e.value('Reshape', [indices.name, e.ints([...indices.shape, 1])]);
  const codes = e.indexInts(Array.from({ length: depth }, (_, i) => i));
  e.node('Cast', [e.value('Equal', [column, codes])], [n.outputs[0]!.name], [intAttr('to', P.TensorProto.DataType.FLOAT)]);
}

/**
 * The most tensors one Concat joins under this target: WebGPU guarantees 8 storage buffers per
 * shader stage (`maxStorageBuffersPerShaderStage`), and ORT's Concat shader binds each input and
 * its output as one.
 */
export const CONCAT_MAX_INPUTS = 7;

/**
 * Concat of `parts` along `axis` into `out` (a new value when omitted). Under the WebGPU target
 * (int32 indices) more than CONCAT_MAX_INPUTS parts become Concats of consecutive groups of at
 * most that many, joined the same way until one remains: concatenation is associative, so the
 * values are the same bits, at ⌈log₇ n⌉ levels. Every Concat a lowering emits goes through here.
 */
export function emitConcat(e: Emitter, parts: readonly string[], axis: number, out?: string): string {
  const attrs = [intAttr('axis', axis)];
  let joined = [...parts];
  while (e.indexType === 'int32' && joined.length > CONCAT_MAX_INPUTS) {
    const groups: string[] = [];
    for (let i = 0; i < joined.length; i += CONCAT_MAX_INPUTS) {
      const group = joined.slice(i, i + CONCAT_MAX_INPUTS);
      groups.push(group.length === 1 ? group[0]! : e.value('Concat', group, attrs));
    }
    joined = groups;
  }
  if (out === undefined) return e.value('Concat', joined, attrs);
  e.node('Concat', joined, [out], attrs);
  return out;
}

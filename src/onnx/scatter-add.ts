/**
 * ScatterAdd as ONNX. ONNX's own `ScatterND` with reduction "add" is not usable on ONNX Runtime's
 * CPU: its kernel splits the updates between the intra-op threads and adds them into the output
 * without synchronisation, so with 2 threads rows that several updates hit come out in an order
 * that depends on scheduling, and now and then an update is lost (a [1024, 64] ← 6272-row sum
 * with 50 distinct rows: 11 of 39 reruns differed from the first, max error 4.8 against a float64
 * reference). `ScatterElements` with reduction "add" runs on one thread in index order: every
 * rerun is bit-identical and within float32 rounding of the float64 sum. It is applied to the
 * flattened data, with one flat index per element (row index · row size + column), which
 * measured 1.6× faster than the 2-D form. The flat indices are of the graph's index type (int32
 * for ORT's WebGPU provider, `webgpu-forms.ts`), which holds them: a base over 2^31 elements is refused.
 */
import { GraphError, shapeSize, type Node } from '../graph/tensor.js';
import { intAttr, strAttr, type Emitter } from './emitter.js';

export function lowerScatterAdd(e: Emitter, n: Node): void {
  const [base, indices, updates] = n.inputs as [Node['inputs'][0], Node['inputs'][0], Node['inputs'][0]];
  const rows = indices.shape[0]!;
  const rowSize = shapeSize(base.shape.slice(1));
  if (e.indexType === 'int32' && base.size >= 2 ** 31) throw new GraphError('ScatterAdd', `base ${base.toString()} has 2^31 or more elements, beyond int32 flat indices`);
  let flatIndices = indices.name;
  if (rowSize > 1) {
    const first = e.value('Mul', [e.value('Reshape', [indices.name, e.ints([rows, 1])]), e.indexScalar(rowSize)]);
    const columns = e.indexInts(Array.from({ length: rowSize }, (_, j) => j));
    flatIndices = e.value('Reshape', [e.value('Add', [first, columns]), e.ints([rows * rowSize])]);
  }
  const data = e.value('Reshape', [base.name, e.ints([base.size])]);
  const flatUpdates = e.value('Reshape', [updates.name, e.ints([updates.size])]);
  const summed = e.value('ScatterElements', [data, flatIndices, flatUpdates], [intAttr('axis', 0), strAttr('reduction', 'add')]);
  e.node('Reshape', [summed, e.ints([...base.shape])], [n.outputs[0]!.name]);
}

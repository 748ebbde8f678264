/**
 * The model that writes rows of a tensor where it lives: `ScatterElements(data, indices, updates)`
 * along axis 0, with `indices` int32 holding each written row's number in every element of that
 * row. Fed a device tensor with its output kept on the device, it is how a host step's few new
 * rows (re-seeded codes, their zeroed optimizer state) reach a variable held on a GPU without
 * moving the rest of it either way. ScatterElements with int32 indices is one of the ops ORT's
 * WebGPU provider runs (the training step's ScatterAdd uses it); without a reduction, each
 * element is overwritten, so the rows written must be distinct (`VariableStore.writeRows` checks).
 * The inputs declare element types and no shape, so one session serves every variable.
 */
import { ELEM, P, intAttr } from './emitter.js';
import { oneNodeModelBytes } from './one-node-model.js';

export const ROW_WRITE_DATA = 'data';
export const ROW_WRITE_INDICES = 'indices';
export const ROW_WRITE_UPDATES = 'updates';
export const ROW_WRITE_OUTPUT = 'written';

/** The serialized model: `written = ScatterElements(data, indices, updates, axis = 0)`. */
export function rowWriteModelBytes(): Uint8Array {
  return oneNodeModelBytes(
    'row_write',
    { opType: 'ScatterElements', input: [ROW_WRITE_DATA, ROW_WRITE_INDICES, ROW_WRITE_UPDATES], output: [ROW_WRITE_OUTPUT], attribute: [intAttr('axis', 0)] },
    [
      { name: ROW_WRITE_DATA, elemType: ELEM.float32 },
      { name: ROW_WRITE_INDICES, elemType: P.TensorProto.DataType.INT32 },
      { name: ROW_WRITE_UPDATES, elemType: ELEM.float32 },
    ],
    [{ name: ROW_WRITE_OUTPUT, elemType: ELEM.float32 }],
  );
}

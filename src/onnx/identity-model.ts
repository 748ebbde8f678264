/**
 * The smallest model there is: one float32 tensor of any shape in, the same tensor out. A session
 * on it is how a tensor crosses between host and device memory outside a training step (with its
 * output placed on the device it uploads; fed a device tensor with its output on the host it
 * downloads), so its input and output declare an element type and no shape.
 */
import { ELEM } from './emitter.js';
import { oneNodeModelBytes } from './one-node-model.js';

export const IDENTITY_INPUT = 'value';
export const IDENTITY_OUTPUT = 'copy';

/** The serialized model: `copy = Identity(value)`, float32 of any shape (the default opset). */
export function identityModelBytes(): Uint8Array {
  return oneNodeModelBytes(
    'transfer',
    { opType: 'Identity', input: [IDENTITY_INPUT], output: [IDENTITY_OUTPUT] },
    [{ name: IDENTITY_INPUT, elemType: ELEM.float32 }],
    [{ name: IDENTITY_OUTPUT, elemType: ELEM.float32 }],
  );
}

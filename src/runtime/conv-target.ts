/**
 * Whether a runtime has the blocked NCHWc convolution kernels the fast conv forms use
 * (`src/onnx/conv-forms.ts`), and their channel block. MLAS picks the block from the CPU (8 with
 * AVX2, 16 with AVX-512) and does not export it, so it is read off the output shape of a one-node
 * `ReorderInput` model, which pads 4 channels up to one block. Runtimes without the kernels
 * (onnxruntime-web, builds or CPUs without NCHWc) fail to load that model or report a block of
 * 1; then only standard ops are used.
 */
import type { ConvTarget } from '../onnx/conv-forms.js';
import { P } from '../onnx/emitter.js';
import { encodeModel } from '../onnx/lower.js';
import type { Runtime } from './runtime.js';

const probes = new WeakMap<Runtime, Promise<ConvTarget | undefined>>();

function probeModel(): Uint8Array {
  const tensorType = (dims?: number[]) => ({ tensorType: { elemType: P.TensorProto.DataType.FLOAT, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : null } });
  return encodeModel({
    irVersion: 8,
    producerName: 'vqlab',
    opsetImport: [{ domain: '', version: 18 }, { domain: 'com.microsoft.nchwc', version: 1 }],
    graph: {
      name: 'nchwc_probe',
      node: [{ opType: 'ReorderInput', domain: 'com.microsoft.nchwc', input: ['x'], output: ['y'], name: 'probe' }],
      input: [{ name: 'x', type: tensorType([1, 4, 1, 1]) }],
      output: [{ name: 'y', type: tensorType() }],
    },
  });
}

async function probeBlock(runtime: Runtime): Promise<ConvTarget | undefined> {
  try {
    const session = await runtime.createSession(probeModel(), { threads: 1 });
    try {
      const out = await session.run({ x: runtime.tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
      const block = out.y?.dims[1] ?? 1;
      return block > 1 ? { nchwcBlock: block } : undefined;
    } finally {
      await session.release();
    }
  } catch {
    return undefined;
  }
}

/** The NCHWc target of `runtime`, or undefined; probed once per runtime. */
export function nchwcTarget(runtime: Runtime): Promise<ConvTarget | undefined> {
  let probe = probes.get(runtime);
  if (!probe) {
    probe = probeBlock(runtime);
    probes.set(runtime, probe);
  }
  return probe;
}

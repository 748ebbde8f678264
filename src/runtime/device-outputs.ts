/**
 * The session option that leaves outputs in GPU buffers (ORT's `preferredOutputLocation`), shared
 * by the Node and browser runtimes: a `RuntimeSessionOptions.deviceOutputs` list becomes that
 * option where the runtime is on a GPU, and nothing otherwise.
 */
import type { InferenceSession } from 'onnxruntime-common';

export function gpuBufferOutputs(onGpu: boolean, deviceOutputs: readonly string[] | undefined): Pick<InferenceSession.SessionOptions, 'preferredOutputLocation'> {
  if (!onGpu || !deviceOutputs?.length) return {};
  return { preferredOutputLocation: Object.fromEntries(deviceOutputs.map((name) => [name, 'gpu-buffer' as const])) };
}

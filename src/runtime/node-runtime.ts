/**
 * The `Runtime` of Node.js: onnxruntime-node's native CPU execution provider. Sessions run their
 * kernels sequentially on one intra-op thread pool of `threads` threads.
 */
import ort from 'onnxruntime-node';
import type { Runtime } from './runtime.js';

export const nodeRuntime: Runtime = {
  description: `onnxruntime-node ${ort.env.versions.common} (CPU)`,
  createSession: (model, { threads, profilePrefix }) =>
    ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Errors only: ORT's warnings are notes from its graph optimizer (e.g. that it skipped
      // constant folding of a >1 GiB Expand at large K), printed to stderr mid-progress-bar and of
      // no use to a vqlab user; real failures still throw.
      logSeverityLevel: 3,
      // Profiling keys only when asked for: the binding refuses an `enableProfiling` key that is present but not a boolean.
      ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    }),
  tensor: (dtype, data, dims) => new ort.Tensor(dtype, data, dims),
  writesIntoOutputs: true,
};

/** What `#default-runtime` resolves to under Node. */
export function defaultRuntime(): Runtime {
  return nodeRuntime;
}

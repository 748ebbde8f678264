/**
 * The `Runtime` of Node.js: onnxruntime-node, on its native CPU execution provider (kernels run
 * sequentially on one intra-op thread pool of `threads` threads) or on its bundled WebGPU provider
 * (a GPU through Dawn: Vulkan on Linux, Metal on macOS, Direct3D 12 on Windows).
 */
import ort from 'onnxruntime-node';
import type { DeviceChoice } from './device-choice.js';
import { gpuBufferOutputs } from './device-outputs.js';
import type { Runtime } from './runtime.js';
import { describeAdapter, DeviceUnavailableError, noAdapterMessage, probeWebGpu, vulkanLoaderPresent } from './webgpu-adapter.js';


export interface NodeRuntimeOptions {
  /** 'cpu' (default) or 'webgpu'; `openNodeRuntime` resolves 'auto' and checks the adapter first. */
  readonly device?: 'cpu' | 'webgpu' | undefined;
  /**
   * WebGPU only: refuse a graph any node of which ORT would place on the CPU provider (its
   * `session.disable_cpu_ep_fallback`), instead of running that node there with a copy each way.
   */
  readonly gpuOnly?: boolean | undefined;
}

export function nodeRuntime(options: NodeRuntimeOptions = {}): Runtime {
  const device = options.device ?? 'cpu';
  const gpu = device === 'webgpu';
  return {
    description: `onnxruntime-node ${ort.env.versions.common} (${gpu ? 'WebGPU' : 'CPU'})`,
    device,
    adapter: gpu ? describeAdapter() : undefined,
    createSession: (model, { threads, profilePrefix, deviceOutputs }) =>
      ort.InferenceSession.create(model, {
        ...(gpu ? { executionProviders: ['webgpu'] } : {}),
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Errors only: ORT's warnings are notes from its graph optimizer (e.g. that it skipped
        // constant folding of a >1 GiB Expand at large K), printed to stderr mid-progress-bar and of
        // no use to a vqlab user; real failures still throw.
        logSeverityLevel: 3,
        ...(gpu && options.gpuOnly ? { extra: { session: { disable_cpu_ep_fallback: '1' } } } : {}),
        // Run through ORT's IO binding, which leaves these outputs in WebGPU buffers (and ignores
        // preallocated outputs: `CompiledGraph` copies the host ones into the caller's buffers).
        ...gpuBufferOutputs(gpu, deviceOutputs),
        // Profiling keys only when asked for: the binding refuses an `enableProfiling` key that is present but not a boolean.
        ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
      }),
    tensor: (dtype, data, dims) => new ort.Tensor(dtype, data, dims),
    writesIntoOutputs: true,
    deviceTensors: gpu,
  };
}

/**
 * The runtime for a device choice, its adapter checked: 'webgpu' without an adapter throws a
 * `DeviceUnavailableError` (one line: what is missing, and how to run on the CPU); 'auto' then
 * gives the CPU.
 */
export async function openNodeRuntime(choice: DeviceChoice, options: Omit<NodeRuntimeOptions, 'device'> = {}): Promise<Runtime> {
  if (choice === 'cpu') return cpuRuntime();
  if (choice === 'auto' && !vulkanLoaderPresent()) return cpuRuntime();
  const runtime = nodeRuntime({ ...options, device: 'webgpu' });
  const failure = await probeWebGpu(runtime);
  if (failure === undefined) return runtime;
  if (choice === 'auto') return cpuRuntime();
  throw new DeviceUnavailableError(noAdapterMessage(failure));
}

let cpu: Runtime | undefined;

function cpuRuntime(): Runtime {
  cpu ??= nodeRuntime();
  return cpu;
}

/** What `#default-runtime` resolves to under Node: the CPU. */
export function defaultRuntime(): Runtime {
  return cpuRuntime();
}

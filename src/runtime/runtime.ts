/**
 * The one seam between vqlab and an ONNX Runtime build. Graphs, autodiff, layers, quantizers,
 * models and the programs are plain TypeScript; only this interface touches ORT, and two packages
 * implement it with the same `onnxruntime-common` API: `onnxruntime-node` (node-runtime.ts) and
 * `onnxruntime-web` (web-runtime.ts: WebAssembly with threads, or WebGPU).
 *
 * Which one a program gets by default is decided by the package's `imports` map, not by code:
 * `#default-runtime` resolves to the Node runtime under Node and to the WebAssembly runtime under a
 * bundler's `browser` condition, so a browser bundle never contains onnxruntime-node.
 * `useRuntime` replaces the default (e.g. with WebGPU, or a chosen thread count).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { defaultRuntime } from '#default-runtime';
import type { IndexType } from '../onnx/emitter.js';

export type RuntimeDType = 'float32' | 'int32' | 'int64' | 'bool';
export type RuntimeData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * Where a runtime's kernels run: 'cpu' (native), 'wasm' (WebAssembly in a browser), or 'webgpu' (a
 * GPU through ONNX Runtime's WebGPU provider: Dawn on Vulkan, Metal or Direct3D 12, or a browser's
 * WebGPU). Graphs for 'webgpu' are lowered with int32 indices (`src/onnx/webgpu-forms.ts`).
 */
export type RuntimeDevice = 'cpu' | 'wasm' | 'webgpu';

export interface RuntimeSessionOptions {
  /** Intra-op threads; 0 lets the runtime choose. Runtimes whose thread pool is global ignore it. */
  readonly threads: number;
  /** Record the runtime's per-node profile into a file starting with this prefix, where it has a profiler. */
  readonly profilePrefix?: string | undefined;
  /**
   * Outputs to leave in device memory as device tensors (a runtime with `deviceTensors` only): fed
   * back to a later run of any session of the runtime, they never cross to the host.
   */
  readonly deviceOutputs?: readonly string[] | undefined;
}

export interface Runtime {
  /** What runs the sessions, for people: e.g. "onnxruntime-node 1.30.0 (CPU)", "onnxruntime-web 1.30.0 (wasm, 2 threads)". */
  readonly description: string;
  /** Where the kernels run. */
  readonly device: RuntimeDevice;
  /** The GPU adapter as far as the runtime can tell, for people; undefined off the GPU. */
  readonly adapter?: string | undefined;
  /** Open a session on serialized ONNX bytes. */
  createSession(model: Uint8Array, options: RuntimeSessionOptions): Promise<InferenceSession>;
  /** A tensor of this runtime's own class (sessions of one build do not accept another's tensors). */
  tensor(dtype: RuntimeDType, data: RuntimeData, dims: readonly number[]): Tensor;
  /**
   * Whether `session.run` writes an output into the tensor passed for it in `fetches`. onnxruntime-node
   * does; onnxruntime-web returns outputs in fresh buffers, which CompiledGraph then copies.
   */
  readonly writesIntoOutputs: boolean;
  /**
   * Whether sessions can leave outputs on the device (`deviceOutputs`) and take such device
   * tensors as inputs, so state can stay in GPU buffers between runs (resident-state.ts). A device
   * tensor must be disposed once, when it is no longer fed, and before its session is released.
   */
  readonly deviceTensors: boolean;
}

/** The device and, on a GPU, the adapter, for people: "cpu", "webgpu (Vulkan: vk_swiftshader_icd.json)". */
export function deviceLabel(runtime: Runtime): string {
  return runtime.adapter === undefined ? runtime.device : `${runtime.device} (${runtime.adapter})`;
}

/** How graphs for `runtime` type their indices: int32 on WebGPU (`src/onnx/webgpu-forms.ts`), else int64. */
export function graphIndexType(runtime: Runtime): IndexType {
  return runtime.device === 'webgpu' ? 'int32' : 'int64';
}

let active: Runtime | undefined;

/** Run every program compiled from now on with `runtime` (or, given undefined, the default again). */
export function useRuntime(runtime: Runtime | undefined): void {
  active = runtime;
}

/** The runtime new programs are compiled for. */
export function currentRuntime(): Runtime {
  return active ?? defaultRuntime();
}

/**
 * The `Runtime` of browsers: onnxruntime-web, on WebAssembly (SIMD, with a pthread pool when the
 * page is cross-origin isolated) or on WebGPU.
 *
 * onnxruntime-web keeps one WebAssembly instance per page or worker, and its thread count and the
 * location of its .wasm files are global settings read when the first session is created; so they
 * are set here, once, from the first runtime made.
 */
import * as ort from 'onnxruntime-web';
import { gpuBufferOutputs } from './device-outputs.js';
import type { Runtime } from './runtime.js';

export type WebBackend = 'wasm' | 'webgpu';

export interface WebRuntimeOptions {
  /** 'wasm' (default) or 'webgpu' (kernels onnxruntime-web lacks on WebGPU fall back to wasm). */
  readonly backend?: WebBackend;
  /** WebAssembly threads (default: the browser's hardwareConcurrency); only honoured when cross-origin isolated. */
  readonly threads?: number;
  /** URL prefix of onnxruntime-web's .mjs/.wasm files, which are served beside the page (no CDN). */
  readonly wasmPaths?: string;
  /** The WebGPU adapter's name for the description (from `webGpuAdapterName`). */
  readonly adapter?: string;
}

/** The parts of a WebGPU adapter used here (the WebGPU types are not in this project's lib). */
interface GpuAdapter {
  readonly limits: { readonly maxStorageBuffersPerShaderStage: number };
  readonly features: unknown;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
  requestDevice(descriptor?: { readonly requiredLimits?: Record<string, number> }): Promise<unknown>;
}

interface BrowserGlobals {
  readonly crossOriginIsolated?: boolean;
  readonly navigator?: { readonly hardwareConcurrency?: number; readonly gpu?: { requestAdapter(): Promise<GpuAdapter | null> } };
}

const browser = globalThis as BrowserGlobals;

/** Threads WebAssembly can really use here: SharedArrayBuffer, hence threads, needs cross-origin isolation. */
function usableThreads(asked: number | undefined): number {
  if (browser.crossOriginIsolated !== true) return 1;
  return Math.max(1, asked ?? browser.navigator?.hardwareConcurrency ?? 1);
}

/** Whether this browser offers a WebGPU adapter (the API alone is not enough: headless or blocklisted GPUs give none). */
export async function webGpuAvailable(): Promise<boolean> {
  const gpu = browser.navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * The browser's WebGPU adapter as onnxruntime-web should use it. onnxruntime-web asks its device for
 * the adapter's workgroup and buffer-size limits but leaves the storage buffers a shader may bind at
 * WebGPU's default of 8. A kernel that binds more fails to build its pipeline, and the step goes on
 * with that node's output unwritten (seen on SwiftShader, which offers 10, with a Concat of 9
 * tensors). The lowering keeps every Concat within 8 (`emitConcat` in webgpu-forms.ts); the device
 * made through this adapter still gets all the adapter has, so no other kernel meets that limit
 * where the adapter has room.
 */
async function adapterWithAllStorageBuffers(): Promise<GpuAdapter> {
  const adapter = await browser.navigator?.gpu?.requestAdapter();
  if (!adapter) throw new Error('this browser offers no WebGPU adapter; choose the WebAssembly backend (in Chromium, --enable-unsafe-webgpu turns WebGPU on)');
  return {
    limits: adapter.limits,
    features: adapter.features,
    ...(adapter.info === undefined ? {} : { info: adapter.info }),
    requestDevice: (descriptor = {}) =>
      adapter.requestDevice({
        ...descriptor,
        requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
      }),
  };
}

let webGpuSetUp: Promise<void> | undefined;

/** Hands onnxruntime-web the adapter above; it reads `env.webgpu.adapter` once, when its first WebGPU session is created. */
function setUpWebGpu(): Promise<void> {
  webGpuSetUp ??= adapterWithAllStorageBuffers().then((adapter) => {
    (ort.env.webgpu as { adapter: unknown }).adapter = adapter;
  });
  return webGpuSetUp;
}

/** The WebGPU adapter as WebGPU's adapter info names it ("google swiftshader"), or null when there is none. */
export async function webGpuAdapterName(): Promise<string | null> {
  const adapter = await browser.navigator?.gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.description].filter((part) => part !== undefined && part !== '').join(' ');
  return name === '' ? 'an unnamed WebGPU adapter' : name;
}

export function webRuntime(options: WebRuntimeOptions = {}): Runtime {
  const backend = options.backend ?? 'wasm';
  const threads = usableThreads(options.threads);
  ort.env.wasm.numThreads = threads;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  const adapter = options.adapter ?? "the browser's WebGPU adapter";
  const where = backend === 'webgpu' ? (options.adapter === undefined ? 'WebGPU' : `WebGPU: ${options.adapter}`) : `wasm, ${threads} thread${threads === 1 ? '' : 's'}`;
  return {
    description: `onnxruntime-web ${ort.env.versions.common} (${where})`,
    device: backend,
    adapter: backend === 'webgpu' ? adapter : undefined,
    createSession: async (model, { deviceOutputs }) => {
      if (backend === 'webgpu') await setUpWebGpu();
      return ort.InferenceSession.create(model, {
        executionProviders: [backend],
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Outputs left in GPUBuffers: the training state a step feeds to the next (resident-state.ts).
        ...gpuBufferOutputs(backend === 'webgpu', deviceOutputs),
      });
    },
    tensor: (dtype, data, dims) => new ort.Tensor(dtype, data, dims),
    writesIntoOutputs: false,
    deviceTensors: backend === 'webgpu',
  };
}

let fallback: Runtime | undefined;

/** What `#default-runtime` resolves to in a browser bundle: WebAssembly on every core. */
export function defaultRuntime(): Runtime {
  fallback ??= webRuntime();
  return fallback;
}

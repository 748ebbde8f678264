/**
 * The `Runtime` of browsers: onnxruntime-web, on WebAssembly (SIMD, with a pthread pool when the
 * page is cross-origin isolated) or on WebGPU.
 *
 * onnxruntime-web keeps one WebAssembly instance per page or worker, and its thread count and the
 * location of its .wasm files are global settings read when the first session is created; so they
 * are set here, once, from the first runtime made.
 */
import * as ort from 'onnxruntime-web';
import type { Runtime } from './runtime.js';

export type WebBackend = 'wasm' | 'webgpu';

export interface WebRuntimeOptions {
  /** 'wasm' (default) or 'webgpu' (kernels onnxruntime-web lacks on WebGPU fall back to wasm). */
  readonly backend?: WebBackend;
  /** WebAssembly threads (default: the browser's hardwareConcurrency); only honoured when cross-origin isolated. */
  readonly threads?: number;
  /** URL prefix of onnxruntime-web's .mjs/.wasm files, which are served beside the page (no CDN). */
  readonly wasmPaths?: string;
}

interface BrowserGlobals {
  readonly crossOriginIsolated?: boolean;
  readonly navigator?: { readonly hardwareConcurrency?: number; readonly gpu?: { requestAdapter(): Promise<unknown> } };
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

export function webRuntime(options: WebRuntimeOptions = {}): Runtime {
  const backend = options.backend ?? 'wasm';
  const threads = usableThreads(options.threads);
  ort.env.wasm.numThreads = threads;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  const where = backend === 'webgpu' ? 'WebGPU' : `wasm, ${threads} thread${threads === 1 ? '' : 's'}`;
  return {
    description: `onnxruntime-web ${ort.env.versions.common} (${where})`,
    device: backend,
    adapter: backend === 'webgpu' ? "the browser's WebGPU adapter" : undefined,
    createSession: (model) =>
      ort.InferenceSession.create(model, {
        executionProviders: [backend],
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }),
    tensor: (dtype, data, dims) => new ort.Tensor(dtype, data, dims),
    writesIntoOutputs: false,
  };
}

let fallback: Runtime | undefined;

/** What `#default-runtime` resolves to in a browser bundle: WebAssembly on every core. */
export function defaultRuntime(): Runtime {
  fallback ??= webRuntime();
  return fallback;
}

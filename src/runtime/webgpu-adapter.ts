/**
 * Whether onnxruntime-node's WebGPU execution provider has an adapter here, and how to say so.
 *
 * onnxruntime-node (1.30, Linux x64, Windows, macOS) bundles ORT's WebGPU provider, built on Dawn,
 * which drives Vulkan on Linux, Metal on macOS and Direct3D 12 on Windows. Whether it finds an
 * adapter is only known by opening a session, so `probeWebGpu` opens a one-node one. The binding
 * does not report which adapter Dawn chose; `describeAdapter` names what can be known: the
 * graphics API and, on Linux, the Vulkan driver (ICD) named by VK_ICD_FILENAMES / VK_DRIVER_FILES.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { P } from '../onnx/emitter.js';
import { encodeModel } from '../onnx/lower.js';
import type { Runtime } from './runtime.js';

/** A device was asked for that this machine cannot give; the message is one line, with the fix. */
export class DeviceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceUnavailableError';
  }
}

/** The graphics API Dawn drives on this platform. */
function graphicsApi(): string {
  return process.platform === 'darwin' ? 'Metal' : process.platform === 'win32' ? 'Direct3D 12' : 'Vulkan';
}

/** The adapter as far as it can be told from outside Dawn, e.g. "Vulkan: vk_swiftshader_icd.json". */
export function describeAdapter(env: NodeJS.ProcessEnv = process.env): string {
  const api = graphicsApi();
  const icds = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter((f) => f !== '');
  if (api === 'Vulkan' && icds.length > 0) return `Vulkan: ${icds.map((f) => basename(f)).join(', ')}`;
  return `${api}: the system's default adapter`;
}

const LIBRARY_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu'];

/**
 * Whether the Vulkan loader (libvulkan.so.1) that Dawn opens is installed (Linux only): in the
 * dynamic linker's cache, a standard library folder or LD_LIBRARY_PATH. Without it Dawn prints a
 * warning and finds no adapter, so `auto` does not try.
 */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''), ...LIBRARY_DIRS];
  if (dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/** The one-line refusal when no adapter was found, naming what is missing and how to run on the CPU. */
export function noAdapterMessage(cause: string): string {
  const onCpu = "or run on the CPU with --device cpu (API: nodeRuntime({ device: 'cpu' }))";
  if (process.platform === 'linux') {
    const missing = vulkanLoaderPresent() ? 'Vulkan found no usable GPU: install the Vulkan driver of your GPU (NVIDIA: its driver; AMD/Intel: mesa-vulkan-drivers)' : 'the Vulkan loader libvulkan.so.1 is not installed: install libvulkan1 and the Vulkan driver of your GPU';
    return `no WebGPU adapter (${cause}): ${missing}, ${onCpu}`;
  }
  return `no WebGPU adapter (${cause}): WebGPU needs ${graphicsApi()} and a GPU that supports it, ${onCpu}`;
}

/** y = x + x on a float [1]: the smallest model a WebGPU session can run. */
function probeModel(): Uint8Array {
  const type = { tensorType: { elemType: P.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } };
  return encodeModel({
    irVersion: 8,
    producerName: 'vqlab',
    opsetImport: [{ domain: '', version: 18 }],
    graph: { name: 'webgpu_probe', node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'], name: 'probe' }], input: [{ name: 'x', type }], output: [{ name: 'y', type }] },
  });
}

/** Undefined when `runtime` (a WebGPU one) opens and runs a session; else why not, in one line. */
export async function probeWebGpu(runtime: Runtime): Promise<string | undefined> {
  let session: InferenceSession | undefined;
  try {
    session = await runtime.createSession(probeModel(), { threads: 1 });
    const out = await session.run({ x: runtime.tensor('float32', Float32Array.of(1), [1]) });
    return out.y?.data[0] === 2 ? undefined : 'the probe computed a wrong sum';
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    // ORT's message starts with a source path; its last sentence says what failed.
    return text.split('\n')[0]!.replace(/^.*?(Failed to|No supported)/, '$1').trim();
  } finally {
    await session?.release();
  }
}

/**
 * WebGPU in a child process, with Chromium's SwiftShader as the Vulkan adapter. Dawn opens the
 * Vulkan loader (libvulkan.so.1) when the first WebGPU session is made, and the dynamic linker
 * reads LD_LIBRARY_PATH only at process start, so a test that needs the adapter runs its WebGPU
 * part in a child started with `swiftShader().env`: VK_ICD_FILENAMES naming SwiftShader's driver,
 * LD_LIBRARY_PATH holding the loader Chromium ships beside it (machines without libvulkan1), and
 * the XDG_RUNTIME_DIR that Dawn expects.
 *
 * Run as a script (`webgpu-child placement`), this file checks node placement: it compiles the
 * training step of the reference model with VQ and with SimVQ on a WebGPU runtime that refuses any
 * node ORT would place on the CPU provider, and prints one JSON line of what each gave.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../../src/graph/graph.js';
import * as op from '../../src/graph/ops.js';
import { buildModel, makeModelConfig } from '../../src/models/config.js';
import { autoencode } from '../../src/models/forward.js';
import { Adam } from '../../src/optim/adam.js';
import { resolveQuantizerConfig } from '../../src/quantizers/registry.js';
import { nodeRuntime } from '../../src/runtime/node-runtime.js';
import { useRuntime } from '../../src/runtime/runtime.js';
import { CompiledGraph } from '../../src/runtime/session.js';
import { TrainingProgram } from '../../src/runtime/training-program.js';
import { VariableStore } from '../../src/runtime/variables.js';
import { loaderFlags } from './run-cli.js';

/** Where Debian's and Ubuntu's chromium packages put SwiftShader's Vulkan driver. */
const ICD_FILES = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export type SwiftShader = { readonly env: Readonly<Record<string, string>> } | { readonly missing: string };

/** The environment that makes SwiftShader the WebGPU adapter, or why it cannot. */
export function swiftShader(): SwiftShader {
  if (process.platform !== 'linux') return { missing: 'SwiftShader as a Vulkan driver is set up for Linux only' };
  const icd = ICD_FILES.find((f) => existsSync(f));
  if (icd === undefined) return { missing: `no SwiftShader Vulkan driver (${ICD_FILES.join(' or ')}); install chromium` };
  const dir = dirname(icd);
  const libraryPath = [...(existsSync(join(dir, 'libvulkan.so.1')) ? [dir] : []), ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '')].join(':');
  return { env: { VK_ICD_FILENAMES: icd, LD_LIBRARY_PATH: libraryPath, XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'vqlab-xdg-')) } };
}

/** What a placement check of one graph gave: 'gpu' (every node on WebGPU) or ORT's refusal. */
export type Placement = Readonly<Record<string, string>>;

const BATCH = 2;

/** Compile `compile` under a WebGPU runtime that refuses CPU nodes: 'gpu', or the first line of the refusal. */
async function placementOf(compile: () => Promise<{ release(): Promise<void> }>): Promise<string> {
  try {
    await (await compile()).release();
    return 'gpu';
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  }
}

async function checkPlacement(): Promise<Placement> {
  useRuntime(nodeRuntime({ device: 'webgpu', gpuOnly: true }));
  const out: Record<string, string> = {};
  for (const quantizer of ['vq', 'simvq']) {
    const model = buildModel(makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig(quantizer, { codebookSize: 1024, dim: 64 }) }));
    out[quantizer] = await placementOf(() =>
      TrainingProgram.create({
        store: new VariableStore(0),
        optimizer: new Adam(),
        build: (ctx) => {
          const f = autoencode(ctx, model, ctx.input('x', [BATCH, 1, 28, 28]));
          return { loss: f.loss, metrics: { counts: f.quantized.counts } };
        },
      }),
    );
  }
  // The control: an int64 graph input is narrowed by a Cast from int64, which the WebGPU provider
  // does not register, so this graph has a CPU node and must be refused.
  const g = new Graph();
  const rows = op.gather(g.input('table', [4, 2]), g.input('codes', [3], 'int64'));
  out.control = await placementOf(() => CompiledGraph.create(g, { rows }));
  return out;
}

/** Run this file as a child with `env` and return the JSON line it printed. */
export function runWebGpuChild(task: 'placement', env: Readonly<Record<string, string>>): Promise<Placement> {
  return runWebGpuScript<Placement>(import.meta.url, task, env);
}

/** Run the script at `scriptUrl` as a child with `env` and argument `task`, and parse the JSON line it printed. */
export function runWebGpuScript<T>(scriptUrl: string, task: string, env: Readonly<Record<string, string>>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loaderFlags(), fileURLToPath(scriptUrl), task], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${fileURLToPath(scriptUrl)} ${task} exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout) as T);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'placement') {
  process.stdout.write(`${JSON.stringify(await checkPlacement())}\n`);
}

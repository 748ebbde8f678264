/**
 * Browser training benchmark (issue #11): images per second of the demo page's training step — the
 * reference MNIST VQ-VAE with SimVQ, K = 1024, in a Web Worker on onnxruntime-web — in headless
 * Chromium, beside onnxruntime-node's for the same model, batch and thread count. WebAssembly
 * always; WebGPU when Chromium offers an adapter (on a machine without a GPU, SwiftShader's CPU
 * emulation, whose run is cut off; with none the WebGPU figure is null with the reason).
 *
 * Each figure is batch / the median step time over STEPS steps after WARMUP, on real MNIST digits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo } from '../demo/build.js';
import { launchChromium } from '../demo/chromium.js';
import { serveDemo } from '../demo/serve.js';
import { loadBundledMnist } from '../src/data/index.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { Adam } from '../src/optim/adam.js';
import { VariableStore } from '../src/runtime/variables.js';
import { createAutoencoderStep, runAutoencoderStep } from '../src/train/autoencoder-step.js';
import { median, round, timeMedian } from './stats.js';

const BATCH = 32;
const K = 1024;
const THREADS = 2;
const WARMUP = 2;
const STEPS = 6;
/** A software WebGPU adapter (SwiftShader) can be slower than WebAssembly by orders of magnitude; its run is cut off. */
const WEBGPU_LIMIT_SECONDS = 120;
const WASM_LIMIT_SECONDS = 600;

interface PageState {
  runtime: string;
  ready: boolean;
  stepMs: number[];
  errors: string[];
}

async function nodeImagesPerSecond(): Promise<number> {
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('simvq', { codebookSize: K, dim: 64, beta: 0.25 }) });
  const step = await createAutoencoderStep({ model: buildModel(config), store: new VariableStore(0), optimizer: new Adam(), batch: BATCH, threads: THREADS });
  const images = loadBundledMnist().images;
  let at = 0;
  const ms = await timeMedian(async () => {
    const x = images.subarray(at * BATCH * 784, (at + 1) * BATCH * 784);
    at = (at + 1) % 100;
    await runAutoencoderStep(step, x, 1e-3);
  }, STEPS, WARMUP);
  await step.program.release();
  return (BATCH * 1000) / ms;
}

interface PageResult {
  readonly runtime: string;
  /** null when the steps did not finish within the time limit. */
  readonly imgPerS: number | null;
}

/** Train in the page with `backend`; null when the browser does not offer that backend. */
async function pageImagesPerSecond(url: string, backend: 'wasm' | 'webgpu', limitSeconds: number): Promise<PageResult | null> {
  const browser = await launchChromium({ gpu: backend === 'webgpu' });
  try {
    const { page } = browser;
    await page.goto(`${url}?backend=${backend}`);
    const state = (): Promise<PageState> => page.evaluate(() => (globalThis as unknown as { vqlabDemo: PageState }).vqlabDemo);
    const until = async (done: (s: PageState) => boolean, deadline = Infinity): Promise<PageState | null> => {
      for (;;) {
        const s = await state();
        if (s.errors.length > 0) throw new Error(`the page reported: ${s.errors.join('; ')}`);
        if (done(s)) return s;
        if (Date.now() > deadline) return null;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const ready = (await until((s) => s.ready))!;
    if (backend === 'webgpu' && !ready.runtime.includes('WebGPU')) return null;
    await page.selectOption('#quantizer', 'simvq');
    await page.selectOption('#codebook-size', String(K));
    await page.fill('#batch', String(BATCH));
    await page.click('#train');
    const done = await until((s) => s.stepMs.length >= WARMUP + STEPS, Date.now() + limitSeconds * 1000);
    await page.click('#stop');
    const imgPerS = done ? (BATCH * 1000) / median(done.stepMs.slice(WARMUP, WARMUP + STEPS)) : null;
    return { runtime: ready.runtime, imgPerS };
  } finally {
    await browser.close();
  }
}

export async function benchBrowser(): Promise<Record<string, number | string | null>> {
  const dir = mkdtempSync(join(tmpdir(), 'vqlab-bench-demo-'));
  const site = await buildDemo(join(dir, 'site'));
  const server = await serveDemo(site.dir);
  try {
    const node = await nodeImagesPerSecond();
    const wasm = (await pageImagesPerSecond(server.url, 'wasm', WASM_LIMIT_SECONDS))!;
    const webgpu = await pageImagesPerSecond(server.url, 'webgpu', WEBGPU_LIMIT_SECONDS);
    return {
      model: `reference-mnist + simvq (K=${K}, d=64), batch ${BATCH}, training step`,
      node_runtime: `onnxruntime-node (${THREADS} threads)`,
      node_img_per_s: round(node, 1),
      wasm_runtime: wasm.runtime,
      wasm_img_per_s: wasm.imgPerS === null ? null : round(wasm.imgPerS, 1),
      webgpu_img_per_s: webgpu?.imgPerS == null ? null : round(webgpu.imgPerS, 1),
      webgpu_runtime: webgpu
        ? `${webgpu.runtime}${webgpu.imgPerS === null ? `; ${WARMUP + STEPS} steps did not finish in ${WEBGPU_LIMIT_SECONDS} s` : ''}`
        : 'no WebGPU adapter in this Chromium',
      wasm_vs_node: wasm.imgPerS === null ? null : round(wasm.imgPerS / node, 2),
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

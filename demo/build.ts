/**
 * Builds the demo page into a directory: the page and its worker bundled by esbuild for the
 * browser, onnxruntime-web's WebAssembly files copied beside them (served by us, no CDN), and the
 * bundled MNIST digits as raw bytes (10,000 × 784 pixels, then 10,000 labels), 7.9 MB instead of
 * the mnist package's 30 MB of JSON, and the package's pretrained models (models/<name>/) with an
 * index of them for the page's menu.
 *
 * The build fails if anything Node-only (onnxruntime-node, a `node:` module) reaches a bundle: the
 * library's browser entry must stay runtime-free.
 */
import { build } from 'esbuild';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { pretrainedModels } from '../src/tokenize/pretrained.js';

/** The repository root (this file runs as dist/demo/build.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = join(REPO_ROOT, 'demo', 'page');
/** onnxruntime-web's threaded WebAssembly build with WebGPU support (JSEP), loaded by its ort.min.mjs. */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

export interface DemoBuild {
  readonly dir: string;
  /** Every source file in the page's bundles. */
  readonly bundledInputs: readonly string[];
}

function ortDistDirectory(): string {
  // The package's "exports" hides package.json; its Node entry sits in the same dist/ folder.
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/**
 * The package's pretrained models as the page fetches them (demo/page/protocol.ts): models/<name>/
 * with the files a load reads, and models/index.json listing { name, summary, codebookSize }.
 */
async function writePretrained(dir: string): Promise<void> {
  const entries: { name: string; summary: string; codebookSize: number }[] = [];
  for (const { card, dir: from } of pretrainedModels()) {
    const to = join(dir, 'models', card.name);
    await mkdir(to, { recursive: true });
    for (const file of ['config.json', 'model.safetensors', 'checksums.json']) await copyFile(join(from, file), join(to, file));
    entries.push({ name: card.name, summary: card.summary, codebookSize: card.codebook_size });
  }
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(join(dir, 'models', 'index.json'), JSON.stringify(entries));
}

async function writeDigits(dir: string): Promise<void> {
  const mnist = loadBundledMnist();
  const bytes = new Uint8Array(mnist.images.length + mnist.count);
  for (let i = 0; i < mnist.images.length; i++) bytes[i] = Math.round(mnist.images[i]! * 255);
  bytes.set(mnist.labels!, mnist.images.length);
  await writeFile(join(dir, 'mnist-digits.bin'), bytes);
}

export async function buildDemo(outDir: string): Promise<DemoBuild> {
  const dir = resolve(outDir);
  await mkdir(join(dir, 'ort'), { recursive: true });
  const result = await build({
    entryPoints: { main: join(PAGE, 'main.ts'), worker: join(PAGE, 'worker.ts') },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Load onnxruntime-web's WebAssembly glue from ort/ rather than inlining it into our worker:
    // its pthreads start that file as their worker script, and it must not be our worker.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnly = inputs.filter((i) => i.includes('onnxruntime-node') || i.startsWith('node:') || i.includes('/node-runtime.'));
  if (nodeOnly.length > 0) throw new Error(`the demo bundle pulled in Node-only code: ${nodeOnly.join(', ')}; import from the browser entry (src/browser.ts) only`);
  for (const file of ['index.html', 'style.css']) await copyFile(join(PAGE, file), join(dir, file));
  for (const file of ORT_FILES) await copyFile(join(ortDistDirectory(), file), join(dir, 'ort', file));
  await writeDigits(dir);
  await writePretrained(dir);
  return { dir, bundledInputs: inputs };
}

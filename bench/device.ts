/**
 * Device benchmark (issue #27): per device this machine offers (the CPU always, WebGPU when
 * `openNodeRuntime('webgpu')` finds an adapter), images per second of a training step of the
 * reference MNIST SimVQ model at K = 1,024 and K = 65,536, images per second of encoding, and
 * where the step's nodes ran. Batch 128 (`--batch N` to change it: SwiftShader, the CPU emulation
 * of a GPU, takes minutes per step of 128), the median of STEPS steps after WARMUP.
 *
 * Placement: the step is compiled a second time on a WebGPU runtime that refuses any node ORT
 * would place on the CPU provider (`gpuOnly`). When that succeeds, every node, and so every
 * counted FLOP (`countFlops`: matrix products and convolutions), runs on the GPU: the shares are 1.
 * onnxruntime-node reports no per-node placement otherwise, so when it is refused the shares are
 * null and `gpu_placement` carries ORT's refusal.
 *
 * Transfers: on WebGPU the parameters and optimizer state stay on the device between steps
 * (src/runtime/resident-state.ts); `webgpu_step_transfer_bytes` is what one timed K = 1,024 step
 * moved between host and device (batch, learning rate and step counter in, reported outputs out),
 * beside `training_state_bytes`, what a step fed from the host would copy each way instead.
 */
import { loadBundledMnist } from '../src/data/index.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { Adam } from '../src/optim/adam.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { nodeRuntime, openNodeRuntime } from '../src/runtime/node-runtime.js';
import { deviceLabel, graphIndexType, useRuntime, type Runtime } from '../src/runtime/runtime.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { BakedSession } from '../src/tokenize/baked-model.js';
import { encoderModelBytes } from '../src/tokenize/tokenizer.js';
import { timeMedian } from './stats.js';

/** Images per second to three significant digits, so that an emulated GPU's 0.04 does not print as 0. */
const rate = (imgPerS: number): number => Number(imgPerS.toPrecision(3));

const STEPS = 5;
const WARMUP = 2;
const THREADS = 2;

function batchFromArgs(): number {
  const at = process.argv.indexOf('--batch');
  if (at < 0) return 128;
  const batch = Number(process.argv[at + 1]);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got '${process.argv[at + 1]}'`);
  return batch;
}

function config(codebookSize: number): ReturnType<typeof makeModelConfig> {
  return makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('simvq', { codebookSize, dim: 64 }) });
}

function trainingStep(codebookSize: number, batch: number, store = new VariableStore(0)): Promise<TrainingProgram> {
  const model = buildModel(config(codebookSize));
  return TrainingProgram.create({ store, optimizer: new Adam(), threads: THREADS, build: (ctx) => ({ loss: autoencode(ctx, model, ctx.input('x', [batch, 1, 28, 28])).loss }) });
}

async function trainImgPerS(codebookSize: number, batch: number, images: Float32Array): Promise<{ imgPerS: number; store: VariableStore; transferBytes: number }> {
  const store = new VariableStore(0);
  const program = await trainingStep(codebookSize, batch, store);
  const batches = Math.floor(images.length / (batch * 784));
  let step = 0;
  const ms = await timeMedian(() => {
    const b = step++ % batches;
    return program.step({ x: images.subarray(b * batch * 784, (b + 1) * batch * 784) }, 3e-4);
  }, STEPS, WARMUP);
  const transferBytes = program.lastTransfer!.bytes;
  await program.release();
  return { imgPerS: (batch * 1000) / ms, store, transferBytes };
}

async function encodeImgPerS(store: VariableStore, batch: number, images: Float32Array, runtime: Runtime): Promise<number> {
  const cfg = config(1024);
  const encoder = await BakedSession.create(
    encoderModelBytes(buildModel(cfg), store, cfg, batch, { indexType: graphIndexType(runtime) }),
    { name: 'image', dtype: 'float32', shape: [batch, 1, 28, 28] },
    { name: 'indices', dtype: 'int64', shape: [batch, 7, 7] },
    THREADS,
  );
  const ms = await timeMedian(() => encoder.run(images.subarray(0, batch * 784)), STEPS, WARMUP);
  await encoder.release();
  return (batch * 1000) / ms;
}

/** 'gpu' when the K = 1,024 step compiles with no node on the CPU provider, else ORT's refusal. */
async function gpuPlacement(batch: number): Promise<string> {
  useRuntime(nodeRuntime({ device: 'webgpu', gpuOnly: true }));
  try {
    await (await trainingStep(1024, batch)).release();
    return 'gpu';
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  }
}

export async function benchDevice(): Promise<Record<string, number | string | null>> {
  const batch = batchFromArgs();
  const images = loadBundledMnist().images.slice(0, 4 * batch * 784);
  const result: Record<string, number | string | null> = { model: `reference-mnist + simvq (d=64), batch ${batch}, ${THREADS} ORT threads` };
  const gpu = await openNodeRuntime('auto');
  const devices: Runtime[] = gpu.device === 'webgpu' ? [nodeRuntime(), gpu] : [nodeRuntime()];
  if (gpu.device !== 'webgpu') result.webgpu = 'no WebGPU adapter here (see --device webgpu for why)';
  for (const runtime of devices) {
    const key = runtime.device;
    useRuntime(runtime);
    try {
      result[`${key}_device`] = deviceLabel(runtime);
      const small = await trainImgPerS(1024, batch, images);
      result[`${key}_train_img_per_s`] = rate(small.imgPerS);
      if (runtime.device === 'webgpu') {
        result.webgpu_step_transfer_bytes = small.transferBytes;
        result.training_state_bytes = small.store.list().reduce((sum, v) => sum + v.value.byteLength, 0);
      }
      result[`${key}_train_img_per_s_k65536`] = rate((await trainImgPerS(65536, batch, images)).imgPerS);
      result[`${key}_encode_img_per_s`] = rate(await encodeImgPerS(small.store, batch, images, runtime));
    } finally {
      useRuntime(undefined);
    }
  }
  if (gpu.device === 'webgpu') {
    const placement = await gpuPlacement(batch);
    useRuntime(undefined);
    result.gpu_placement = placement === 'gpu' ? 'every node of the training step on the WebGPU provider' : placement;
    result.gpu_node_share = placement === 'gpu' ? 1 : null;
    result.gpu_flop_share = placement === 'gpu' ? 1 : null;
  }
  return result;
}

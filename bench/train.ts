/**
 * Training benchmark (issue #4): images per second of a full training step (forward, backward and
 * Adam in one session.run) of the reference MNIST VQ-VAE at batch 128 with K = 1024 codes, for
 * SimVQ and for vanilla VQ, and images per second of encoding (image → indices, the exported
 * encoder graph) at batch 128. Each figure is 128 / the median time of several runs after warm-up,
 * on real MNIST digits, with 2 ORT threads.
 */
import { loadBundledMnist } from '../src/data/index.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { Adam } from '../src/optim/adam.js';
import type { QuantizerName } from '../src/quantizers/quantizer.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { BakedSession } from '../src/tokenize/baked-model.js';
import { encoderModelBytes } from '../src/tokenize/tokenizer.js';
import { round, timeMedian } from './stats.js';

const BATCH = 128;
const K = 1024;
const THREADS = 2;
const STEPS = 9;
const WARMUP = 3;

async function trainThroughput(quantizer: QuantizerName, images: Float32Array): Promise<{ imgPerS: number; store: VariableStore; config: ReturnType<typeof makeModelConfig> }> {
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer, codebookSize: K, dim: 64, beta: 0.25 });
  const model = buildModel(config);
  const store = new VariableStore(0);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads: THREADS,
    build: (ctx) => {
      const f = autoencode(ctx, model, ctx.input('x', [BATCH, 1, 28, 28]));
      return { loss: f.loss, metrics: { counts: f.quantized.counts } };
    },
  });
  const batches = Math.floor(images.length / (BATCH * 784));
  let step = 0;
  const nextBatch = (): Float32Array => {
    const b = step++ % batches;
    return images.subarray(b * BATCH * 784, (b + 1) * BATCH * 784);
  };
  const ms = await timeMedian(() => program.step({ x: nextBatch() }, 3e-4), STEPS, WARMUP);
  await program.release();
  return { imgPerS: (BATCH * 1000) / ms, store, config };
}

export async function benchTrain(): Promise<Record<string, number>> {
  const images = loadBundledMnist().images.slice(0, 8 * BATCH * 784);
  const simvq = await trainThroughput('simvq', images);
  const vq = await trainThroughput('vq', images);

  const model = buildModel(simvq.config);
  const encoder = await BakedSession.create(
    encoderModelBytes(model, simvq.store, simvq.config, BATCH),
    { name: 'image', dtype: 'float32', shape: [BATCH, 1, 28, 28] },
    { name: 'indices', dtype: 'int64', shape: [BATCH, 7, 7] },
    THREADS,
  );
  const batch = images.subarray(0, BATCH * 784);
  const encodeMs = await timeMedian(() => encoder.run(batch), STEPS, WARMUP);
  await encoder.release();
  return {
    train_img_per_s_simvq: round(simvq.imgPerS, 1),
    train_img_per_s_vq: round(vq.imgPerS, 1),
    encode_img_per_s: round((BATCH * 1000) / encodeMs, 1),
  };
}

/**
 * Training benchmark (issues #4, #13): images per second of a full training step (forward,
 * backward and Adam in one session.run) of the reference MNIST VQ-VAE at batch 128, for SimVQ and
 * for vanilla VQ, at K = 1024 and K = 16384 codes, and images per second of encoding (image →
 * indices, the exported encoder graph) at batch 128. Each figure is 128 / the median time of
 * several steps after warm-up, on real MNIST digits, with 2 ORT threads.
 *
 * Also: `train_gflops` (counted FLOPs of the step, see `countFlops`, ÷ its median time),
 * `matmul_peak_gflops` (a 2048³ MatMul in this process, same threads), `peak_share` (their
 * ratio); and, when a python3 with torch is installed, the PyTorch peer's images per second at
 * its faster thread count (`torch_img_per_s…`) and vqlab's speed-up over it (`vs_torch…`). Keys
 * without a suffix are SimVQ at K = 1024; `_vq` is VQ, `_k16384` the large codebook.
 */
import { loadBundledMnist } from '../src/data/index.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { autoencode } from '../src/models/forward.js';
import { Adam } from '../src/optim/adam.js';
import type { QuantizerName } from '../src/quantizers/quantizer.js';
import { currentRuntime, graphIndexType } from '../src/runtime/runtime.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { BakedSession } from '../src/tokenize/baked-model.js';
import { encoderModelBytes } from '../src/tokenize/tokenizer.js';
import { round, timeMedian } from './stats.js';
import { findTorchPeer, torchBestImgPerS } from './torch-peer.js';

const BATCH = 128;
const THREADS = 2;
const STEPS = 9;
const WARMUP = 3;
const PEAK_SIZE = 2048;

interface Throughput {
  readonly imgPerS: number;
  readonly gflops: number;
  readonly store: VariableStore;
  readonly config: ReturnType<typeof makeModelConfig>;
}

async function trainThroughput(quantizer: QuantizerName, codebookSize: number, images: Float32Array): Promise<Throughput> {
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig(quantizer, { codebookSize, dim: 64, beta: 0.25 }) });
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
  const flops = program.flopsPerStep;
  await program.release();
  return { imgPerS: (BATCH * 1000) / ms, gflops: flops / (ms * 1e6), store, config };
}

/** GFLOP/s of one PEAK_SIZE³ MatMul: what ORT's GEMM does on this machine in this process. */
async function matmulPeak(): Promise<number> {
  const g = new Graph();
  const n = PEAK_SIZE;
  const y = op.matmul(g.input('a', [n, n]), g.input('b', [n, n]));
  const compiled = await CompiledGraph.create(g, { y }, { threads: THREADS });
  const rng = new Rng(1);
  const feeds = { a: Float32Array.from({ length: n * n }, () => rng.normal()), b: Float32Array.from({ length: n * n }, () => rng.normal()) };
  const into = { y: compiled.allocate('y') };
  const ms = await timeMedian(() => compiled.run(feeds, into), STEPS, WARMUP);
  await compiled.release();
  return (2 * n ** 3) / (ms * 1e6);
}

export async function benchTrain(): Promise<Record<string, number>> {
  const images = loadBundledMnist().images.slice(0, 8 * BATCH * 784);
  const simvq = await trainThroughput('simvq', 1024, images);
  const vq = await trainThroughput('vq', 1024, images);
  const peak = await matmulPeak();

  const model = buildModel(simvq.config);
  const encoder = await BakedSession.create(
    encoderModelBytes(model, simvq.store, simvq.config, BATCH, { indexType: graphIndexType(currentRuntime()) }),
    { name: 'image', dtype: 'float32', shape: [BATCH, 1, 28, 28] },
    { name: 'indices', dtype: 'int64', shape: [BATCH, 7, 7] },
    THREADS,
  );
  const batch = images.subarray(0, BATCH * 784);
  const encodeMs = await timeMedian(() => encoder.run(batch), STEPS, WARMUP);
  await encoder.release();

  const simvqLarge = await trainThroughput('simvq', 16384, images);
  const vqLarge = await trainThroughput('vq', 16384, images);
  const result: Record<string, number> = {
    train_img_per_s_simvq: round(simvq.imgPerS, 1),
    train_img_per_s_vq: round(vq.imgPerS, 1),
    encode_img_per_s: round((BATCH * 1000) / encodeMs, 1),
    train_gflops: round(simvq.gflops, 1),
    train_gflops_vq: round(vq.gflops, 1),
    matmul_peak_gflops: round(peak, 1),
    peak_share: round(simvq.gflops / peak, 3),
    peak_share_vq: round(vq.gflops / peak, 3),
    train_img_per_s_simvq_k16384: round(simvqLarge.imgPerS, 1),
    train_img_per_s_vq_k16384: round(vqLarge.imgPerS, 1),
  };

  const peer = findTorchPeer();
  if (peer) {
    const runs: [string, QuantizerName, number, number][] = [
      ['', 'simvq', 1024, simvq.imgPerS],
      ['_vq', 'vq', 1024, vq.imgPerS],
      ['_k16384', 'simvq', 16384, simvqLarge.imgPerS],
      ['_vq_k16384', 'vq', 16384, vqLarge.imgPerS],
    ];
    for (const [suffix, quantizer, k, ours] of runs) {
      const torch = torchBestImgPerS(peer, quantizer, k);
      result[`torch_img_per_s${suffix}`] = round(torch, 1);
      result[`vs_torch${suffix}`] = round(ours / torch, 2);
    }
  } else {
    process.stderr.write('bench train: no python3 with torch (or no ../shared/peers/torch_vqvae.py); PyTorch keys left out\n');
  }
  return result;
}

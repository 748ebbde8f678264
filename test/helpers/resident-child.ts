/**
 * Training state held on the GPU between steps (src/runtime/resident-state.ts), checked in a
 * child whose WebGPU adapter is SwiftShader (see webgpu-child.ts for why a child). Run as a script:
 *
 * - `training`: three steps of the reference model with VQ and dead-code replacement (batch 2),
 *   on the CPU provider, on WebGPU with the state resident and on WebGPU fed from the host every
 *   step; what each step moved between host and device; and a resume from the store's values
 *   synced after step 2 of the resident run (what a mid-run checkpoint saves), trained for step 3;
 *   and the loss of an evaluation graph fed the resident run's device copies, then its host values.
 * - `memory`: 70 Adam steps of a 2²⁰-element parameter held on the device, with the process's
 *   resident memory after steps 10 and 70: replaced device tensors must be freed.
 *
 * Each prints one JSON line for test/resident-state.test.ts.
 */
import { fileURLToPath } from 'node:url';
import * as op from '../../src/graph/ops.js';
import { loadBundledMnist } from '../../src/data/index.js';
import { buildModel, makeModelConfig } from '../../src/models/config.js';
import { autoencode } from '../../src/models/forward.js';
import { Adam } from '../../src/optim/adam.js';
import { resolveQuantizerConfig } from '../../src/quantizers/registry.js';
import { InferenceProgram } from '../../src/runtime/inference-program.js';
import { nodeRuntime } from '../../src/runtime/node-runtime.js';
import { useRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { TrainingProgram, type StepTransfer } from '../../src/runtime/training-program.js';
import { VariableStore } from '../../src/runtime/variables.js';
import { createAutoencoderStep, runAutoencoderStep } from '../../src/train/autoencoder-step.js';

const BATCH = 2;
const STEPS = 3;
const LR = 1e-3;

/** One path's steps: losses, codes re-seeded, what each step moved, device tensors held at the end. */
export interface TrainedPath {
  readonly losses: number[];
  readonly reseeded: number[];
  readonly transfers: StepTransfer[];
  /**
   * Bytes the resident state itself moved (uploads, row writes, host-step reads) from the end of
   * the previous step to the end of each step, a mid-run sync included; empty when not resident.
   */
  readonly stateMoved: { uploaded: number; downloaded: number }[];
  readonly heldTensors: number | null;
}

export interface TrainingReport {
  readonly cpu: TrainedPath;
  readonly resident: TrainedPath;
  readonly hostFed: TrainedPath;
  /** Step 3 of a fresh resident program loaded with the values synced after step 2 of `resident`. */
  readonly resumed: TrainedPath;
  /** Largest absolute difference over every variable after step 3, between `resident` and each other path. */
  readonly maxDifference: { readonly cpu: number; readonly hostFed: number; readonly resumed: number };
  /** Variables in the store. */
  readonly variables: number;
  /** The resident run's evaluation after step 3: fed the device copies (and what that downloaded), then the synced host values. */
  readonly evaluation: { readonly deviceFed: number; readonly hostFed: number; readonly downloadedBytes: number };
}

export interface MemoryReport {
  readonly rssMiB: { readonly after10: number; readonly after70: number };
  readonly heldTensors: number;
  readonly bytesPerStep: number;
}

function model() {
  // A small codebook and a fast usage decay, so codes die (and are re-seeded) within three steps.
  const quantizer = resolveQuantizerConfig('vq', { codebookSize: 64, dim: 64, deadCodeShare: 0.5, usageDecay: 0.5 });
  return buildModel(makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer }));
}

function batches(): Float32Array[] {
  const images = loadBundledMnist().images;
  return Array.from({ length: STEPS }, (_, i) => images.slice(i * BATCH * 784, (i + 1) * BATCH * 784));
}

type Values = Map<string, { shape: readonly number[]; data: Float32Array }>;

interface Trained {
  readonly path: TrainedPath;
  /** The values after the last step. */
  readonly values: Values;
  /** The values synced after step `syncAfter`, mid-run, when asked for. */
  readonly synced?: Values | undefined;
  /** The evaluation after the last step, when asked for. */
  readonly evaluation?: TrainingReport['evaluation'] | undefined;
}

/** Steps `steps` (indices of `batches()`) from a fresh store, or from `start`. */
async function train(runtime: Runtime, resident: boolean, steps: readonly number[], o: { start?: Values; syncAfter?: number; evaluate?: boolean } = {}): Promise<Trained> {
  useRuntime(runtime);
  const store = new VariableStore(5);
  const vqvae = model();
  const step = await createAutoencoderStep({ model: vqvae, store, optimizer: new Adam(), batch: BATCH, threads: 1, resident });
  if (o.start) store.load(o.start);
  const data = batches();
  const path: TrainedPath = { losses: [], reseeded: [], transfers: [], stateMoved: [], heldTensors: null };
  let synced: Values | undefined;
  const moved = step.program.residentState?.moved;
  let before = { uploaded: 0, downloaded: 0 };
  for (const [n, i] of steps.entries()) {
    const r = await runAutoencoderStep(step, data[i]!, LR);
    if (moved) {
      path.stateMoved.push({ uploaded: moved.uploaded - before.uploaded, downloaded: moved.downloaded - before.downloaded });
      before = { ...moved };
    }
    path.losses.push(r.loss);
    path.reseeded.push(r.metrics.hostStep?.reseededCodes ?? 0);
    path.transfers.push(step.program.lastTransfer!);
    if (n + 1 === o.syncAfter) {
      await store.sync();
      synced = store.snapshot();
    }
  }
  const held = step.program.residentState?.heldTensors ?? null;
  const evaluator = o.evaluate ? await InferenceProgram.create({ store, build: (ctx) => ({ loss: autoencode(ctx, vqvae, ctx.input('x', [BATCH, 1, 28, 28])).loss }) }) : undefined;
  const downloadedBefore = step.program.residentState?.moved.downloaded ?? 0;
  const deviceFed = evaluator && (await evaluator.run({ x: data[0]! })).loss![0]!;
  const downloadedBytes = (step.program.residentState?.moved.downloaded ?? 0) - downloadedBefore;
  await store.sync();
  const values = store.snapshot();
  await step.program.release();
  const hostFed = evaluator && (await evaluator.run({ x: data[0]! })).loss![0]!;
  await evaluator?.release();
  useRuntime(undefined);
  const evaluation = deviceFed !== undefined && hostFed !== undefined ? { deviceFed: Number(deviceFed), hostFed: Number(hostFed), downloadedBytes } : undefined;
  return { path: { ...path, heldTensors: held }, values, synced, evaluation };
}

function maxDifference(a: Values, b: Values): number {
  let max = 0;
  for (const [name, { data }] of a) {
    const other = b.get(name)!.data;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]! - other[i]!));
  }
  return max;
}

async function checkTraining(): Promise<TrainingReport> {
  const gpu = nodeRuntime({ device: 'webgpu' });
  const all = Array.from({ length: STEPS }, (_, i) => i);
  const cpu = await train(nodeRuntime(), false, all);
  const resident = await train(gpu, true, all, { syncAfter: STEPS - 1, evaluate: true });
  const hostFed = await train(gpu, false, all);
  const resumed = await train(gpu, true, [STEPS - 1], { start: resident.synced! });
  return {
    cpu: cpu.path,
    resident: resident.path,
    hostFed: hostFed.path,
    resumed: resumed.path,
    maxDifference: { cpu: maxDifference(resident.values, cpu.values), hostFed: maxDifference(resident.values, hostFed.values), resumed: maxDifference(resident.values, resumed.values) },
    variables: resident.values.size,
    evaluation: resident.evaluation!,
  };
}

async function checkMemory(): Promise<MemoryReport> {
  useRuntime(nodeRuntime({ device: 'webgpu' }));
  const size = 2 ** 20;
  const store = new VariableStore(0);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    build: (ctx) => {
      const p = ctx.param('p', [size], { kind: 'normal', std: 1 });
      return { loss: op.reduceMean(op.mul(p, p)) };
    },
  });
  const rss = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
  let after10 = 0;
  for (let i = 1; i <= 70; i++) {
    await program.step({}, 1e-3);
    if (i === 10) after10 = rss();
  }
  const report = { rssMiB: { after10, after70: rss() }, heldTensors: program.residentState!.heldTensors, bytesPerStep: program.lastTransfer!.bytes };
  await program.release();
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const task = process.argv[2];
  const report = task === 'training' ? await checkTraining() : task === 'memory' ? await checkMemory() : undefined;
  if (report === undefined) throw new Error(`resident-child: unknown task '${task}'; use training or memory`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

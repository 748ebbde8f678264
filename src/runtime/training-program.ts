/**
 * One ONNX graph per training step: forward pass, reverse-mode gradients, gradient clipping and the
 * optimizer update, compiled once and executed with a single `session.run` per step.
 *
 * Parameters, state and optimizer slots are fed from their current buffers; their next values are
 * written by ORT into a second, preallocated buffer per variable, and the two are swapped after
 * the run (ping-pong). So a step allocates no parameter-sized memory in JavaScript.
 */
import { grad } from '../graph/autodiff.js';
import { countFlops } from '../graph/flops.js';
import * as op from '../graph/ops.js';
import { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/tensor.js';
import type { Optimizer } from './optimizer.js';
import { clipByGlobalNorm } from './gradient-clip.js';
import { BuildContext } from './build-context.js';
import { CompiledGraph, type TypedData } from './session.js';
import type { Variable, VariableStore } from './variables.js';

export interface StepOutputs {
  /** Scalar loss to minimise. */
  readonly loss: Tensor;
  /** Extra values to fetch each step (scalars become numbers; larger tensors typed arrays). */
  readonly metrics?: Readonly<Record<string, Tensor>>;
}

export interface TrainingProgramOptions {
  readonly store: VariableStore;
  readonly optimizer: Optimizer;
  /** Model code: reads data inputs and parameters from `ctx`, returns the loss and metrics. */
  readonly build: (ctx: BuildContext) => StepOutputs;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  readonly clipGradNorm?: number;
  /** ORT intra-op threads (default 0: ORT's choice). */
  readonly threads?: number;
  /** Record ORT's per-node profile to a file starting with this prefix (see `CompiledGraph`). */
  readonly profilePrefix?: string;
  /** Standard ONNX ops only for convolutions (see `SessionOptions.standardOpsOnly`); for comparisons. */
  readonly standardOpsOnly?: boolean;
}

export interface StepResult {
  readonly loss: number;
  /** Scalar metrics as numbers, tensor metrics as (reused) typed arrays valid until the next step. */
  readonly metrics: Record<string, number | TypedData>;
}

const NEXT = 'next:';
const STEP_VAR = 'opt.step';

export class TrainingProgram {
  /** Milliseconds of the last step spent outside `session.run` (feeds, swaps, result reading). */
  lastOutsideMs = 0;
  /** Milliseconds of the last step spent inside `session.run`. */
  lastRunMs = 0;
  private readonly lrBuffer = new Float32Array(1);

  private constructor(
    readonly store: VariableStore,
    readonly compiled: CompiledGraph,
    /** Variables fed each step. */
    private readonly fed: readonly Variable[],
    /** Variables this step updates, with their spare buffers. */
    private readonly updated: readonly { variable: Variable; spare: Float32Array }[],
    private readonly dataInputs: readonly string[],
    private readonly metricNames: readonly string[],
    private readonly metricBuffers: Record<string, TypedData>,
    readonly trainableCount: number,
    /** Counted FLOPs of one step (matrix products and convolutions, see `countFlops`). */
    readonly flopsPerStep: number,
  ) {}

  static async create(options: TrainingProgramOptions): Promise<TrainingProgram> {
    const { store, optimizer } = options;
    const graph = new Graph();
    const ctx = BuildContext.create(graph, store, 'train');
    const out = options.build(ctx);
    if (out.loss.size !== 1) throw new Error(`training loss must be a scalar, got ${out.loss.toString()}`);

    const params = ctx.usedVariables().filter(({ variable }) => variable.kind === 'param' && variable.trainable);
    if (params.length === 0) throw new Error('training program: no trainable parameter is used by the loss; check the trainable flags');
    let grads = grad(out.loss, params.map((p) => p.tensor));
    const metrics: Record<string, Tensor> = { ...(out.metrics ?? {}) };
    if (options.clipGradNorm !== undefined) {
      const clipped = clipByGlobalNorm(grads, options.clipGradNorm);
      grads = clipped.grads;
      metrics.grad_norm = clipped.norm;
    }
    const lr = ctx.input('lr', []);
    // The step counter is optimizer state too, so a resumed run continues its bias correction.
    store.variable(STEP_VAR, 'optimizer', [], { kind: 'constant', value: 0 });
    const step = ctx.slot(STEP_VAR, []);
    const t = op.add(step, 1);
    ctx.setSlot(STEP_VAR, t);
    params.forEach(({ variable, tensor }, i) => {
      const next = optimizer.update(variable, tensor, grads[i]!, { ctx, lr, t });
      ctx.setNext(variable.name, next);
    });

    const outputs: Record<string, Tensor> = { loss: out.loss, ...prefixed(metrics) };
    const updates = ctx.stateUpdates();
    for (const [name, next] of updates) outputs[NEXT + name] = next;
    const compiled = await CompiledGraph.create(graph, outputs, { threads: options.threads, graphName: 'train_step', profilePrefix: options.profilePrefix, standardOpsOnly: options.standardOpsOnly });

    const fedNames = new Set(compiled.inputs.map((i) => i.name));
    const fed = store.list().filter((v) => fedNames.has(v.name));
    const updated = [...updates.keys()].map((name) => {
      const variable = store.require(name);
      return { variable, spare: new Float32Array(variable.value.length) };
    });
    const dataInputs = compiled.inputs.map((i) => i.name).filter((n) => !store.get(n) && n !== 'lr');
    const metricNames = Object.keys(metrics);
    const metricBuffers: Record<string, TypedData> = {};
    for (const name of ['loss', ...metricNames.map((m) => `metric:${m}`)]) metricBuffers[name] = compiled.allocate(name);
    const flops = countFlops(Object.values(outputs));
    return new TrainingProgram(store, compiled, fed, updated, dataInputs, metricNames, metricBuffers, params.length, flops);
  }

  /** Names of the per-step data inputs the model declared. */
  get inputNames(): readonly string[] {
    return this.dataInputs;
  }

  /** Run one training step on `data` (by input name) with learning rate `lr`. */
  async step(data: Readonly<Record<string, TypedData>>, lr: number): Promise<StepResult> {
    const t0 = performance.now();
    const feeds: Record<string, TypedData> = { lr: this.lrBuffer };
    this.lrBuffer[0] = lr;
    for (const name of this.dataInputs) {
      const d = data[name];
      if (!d) throw new Error(`step: missing data input '${name}'; this program takes ${this.dataInputs.join(', ')}`);
      feeds[name] = d;
    }
    for (const name of Object.keys(data)) {
      if (!this.dataInputs.includes(name)) throw new Error(`step: unknown data input '${name}'; this program takes ${this.dataInputs.join(', ')}`);
    }
    for (const v of this.fed) feeds[v.name] = v.value;
    const into: Record<string, TypedData> = { ...this.metricBuffers };
    for (const u of this.updated) into[NEXT + u.variable.name] = u.spare;
    await this.compiled.run(feeds, into);
    // Ping-pong: the fresh values become current; the old buffers become next step's output.
    for (const u of this.updated) {
      const old = u.variable.value;
      u.variable.value = u.spare;
      u.spare = old;
    }
    const metrics: Record<string, number | TypedData> = {};
    for (const m of this.metricNames) {
      const buf = this.metricBuffers[`metric:${m}`]!;
      metrics[m] = buf.length === 1 ? Number(buf[0]) : buf;
    }
    const loss = (this.metricBuffers.loss as Float32Array)[0]!;
    this.lastRunMs = this.compiled.lastSessionRunMs;
    this.lastOutsideMs = performance.now() - t0 - this.lastRunMs;
    return { loss, metrics };
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}

function prefixed(metrics: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(metrics)) out[`metric:${k}`] = v;
  return out;
}


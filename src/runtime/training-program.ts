/**
 * One ONNX graph per training step: forward pass, reverse-mode gradients, gradient clipping and the
 * optimizer update, compiled once and executed with a single `session.run` per step.
 *
 * Parameters, state and optimizer slots are fed from their current buffers; their next values are
 * written by ORT into a second, preallocated buffer per variable, and the two are swapped after
 * the run (ping-pong). So a step allocates no parameter-sized memory in JavaScript.
 *
 * On a runtime with device tensors (WebGPU) the variables instead stay in device memory between
 * steps (`ResidentState`, resident-state.ts): each step feeds their device tensors and keeps its
 * outputs for them on the device, so it uploads the batch, the learning rate and the step counter
 * and downloads only what it reports (loss, terms, metrics); the store syncs the rest on demand.
 */
import { grad } from '../graph/autodiff.js';
import { countFlops } from '../graph/flops.js';
import * as op from '../graph/ops.js';
import { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/tensor.js';
import type { Optimizer } from './optimizer.js';
import { clipByGlobalNorm } from './gradient-clip.js';
import { BuildContext } from './build-context.js';
import { ResidentState } from './resident-state.js';
import { currentRuntime } from './runtime.js';
import { CompiledGraph, type DeviceTensor, type TypedData } from './session.js';
import type { Variable, VariableStore } from './variables.js';

/** Graph tensors by name, e.g. the terms or the metrics a step fetches. */
export type NamedTensors = Readonly<Record<string, Tensor>>;

export interface StepOutputs<T extends NamedTensors = NamedTensors, M extends NamedTensors = NamedTensors> {
  /** Scalar loss to minimise. */
  readonly loss: Tensor;
  /** Scalars to read each step as numbers, e.g. the parts of the loss. */
  readonly terms?: T;
  /** Tensors to read each step as typed arrays, e.g. per-code counts. */
  readonly metrics?: M;
}

export interface TrainingProgramOptions<T extends NamedTensors = NamedTensors, M extends NamedTensors = NamedTensors> {
  readonly store: VariableStore;
  readonly optimizer: Optimizer;
  /** Model code: reads data inputs and parameters from `ctx`, returns the loss, terms and metrics. */
  readonly build: (ctx: BuildContext) => StepOutputs<T, M>;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  readonly clipGradNorm?: number | undefined;
  /** ORT intra-op threads (default 0: ORT's choice). */
  readonly threads?: number | undefined;
  /** Record ORT's per-node profile to a file starting with this prefix (see `CompiledGraph`). */
  readonly profilePrefix?: string | undefined;
  /** Standard ONNX ops only for convolutions (see `SessionOptions.standardOpsOnly`); for comparisons. */
  readonly standardOpsOnly?: boolean | undefined;
  /**
   * Keep the variables in device memory between steps (default: where the runtime can,
   * `Runtime.deviceTensors`); false feeds and fetches them from the host every step.
   */
  readonly resident?: boolean | undefined;
}

/** What one step moved between host memory and the session (on a GPU: across the bus). */
export interface StepTransfer {
  /** Inputs fed from host memory, by graph input name. */
  readonly hostInputs: readonly string[];
  /** Outputs read back into host memory, by graph output name. */
  readonly hostOutputs: readonly string[];
  /** Their bytes, plus any variables uploaded to the device before the step. */
  readonly bytes: number;
}

export interface StepResult<T extends NamedTensors = NamedTensors, M extends NamedTensors = NamedTensors> {
  readonly loss: number;
  /** The terms, by the names `build` gave them. */
  readonly terms: { readonly [K in keyof T]: number };
  /** The metrics, by the names `build` gave them: (reused) typed arrays valid until the next step. */
  readonly metrics: { readonly [K in keyof M]: TypedData };
  /** The global gradient norm before clipping, when the program clips (`clipGradNorm`). */
  readonly gradNorm?: number | undefined;
}

/** One fetched graph output: the key the caller reads it by, and the buffer ORT writes it into. */
interface Fetch {
  readonly key: string;
  readonly output: string;
  readonly buffer: TypedData;
}

/**
 * The graph's output names. They are this file's business only: `step` returns each value under
 * the key `build` gave it, and the names just keep terms, metrics and next values apart in the graph.
 */
const outputName = {
  loss: 'loss',
  term: (key: string) => `term:${key}`,
  metric: (key: string) => `metric:${key}`,
  gradNorm: 'grad_norm',
  next: (variable: string) => `next:${variable}`,
} as const;
/** The optimizer's step counter t, which stays on the host: host steps read it after every step. */
const STEP_VAR = 'opt.step';

export class TrainingProgram<T extends NamedTensors = NamedTensors, M extends NamedTensors = NamedTensors> {
  /** Milliseconds of the last step spent outside `session.run` (feeds, swaps, result reading). */
  lastOutsideMs = 0;
  /** Milliseconds of the last step spent inside `session.run`. */
  lastRunMs = 0;
  /** What the last step moved between host memory and the session. */
  lastTransfer: StepTransfer | undefined;
  private readonly lrBuffer = new Float32Array(1);

  private constructor(
    readonly store: VariableStore,
    /** The optimizer whose update this program runs (and whose state `resetRows` edits). */
    readonly optimizer: Optimizer,
    readonly compiled: CompiledGraph,
    /** Variables fed each step. */
    private readonly fed: readonly Variable[],
    /** Variables this step updates, with their spare buffers (none for those held on the device). */
    private readonly updated: readonly { variable: Variable; spare: Float32Array | undefined }[],
    private readonly dataInputs: readonly string[],
    private readonly lossBuffer: TypedData,
    private readonly terms: readonly Fetch[],
    private readonly metrics: readonly Fetch[],
    private readonly gradNorm: Fetch | undefined,
    readonly trainableCount: number,
    /** Counted FLOPs of one step (matrix products and convolutions, see `countFlops`). */
    readonly flopsPerStep: number,
    /** The device copies of the variables, when they stay on the device between steps. */
    readonly residentState: ResidentState | undefined,
  ) {}

  static async create<T extends NamedTensors = NamedTensors, M extends NamedTensors = NamedTensors>(options: TrainingProgramOptions<T, M>): Promise<TrainingProgram<T, M>> {
    const { store, optimizer } = options;
    const graph = new Graph();
    const ctx = BuildContext.create(graph, store, 'train');
    const out = options.build(ctx);
    if (out.loss.size !== 1) throw new Error(`training loss must be a scalar, got ${out.loss.toString()}`);
    const terms = Object.entries(out.terms ?? {});
    for (const [key, t] of terms) if (t.size !== 1) throw new Error(`training term '${key}' must be a scalar, got ${t.toString()}; fetch tensors as metrics`);
    const metrics = Object.entries(out.metrics ?? {});

    const params = ctx.usedVariables().filter(({ variable }) => variable.kind === 'param' && variable.trainable);
    if (params.length === 0) throw new Error('training program: no trainable parameter is used by the loss; check the trainable flags');
    let grads = grad(out.loss, params.map((p) => p.tensor));
    let gradNorm: Tensor | undefined;
    if (options.clipGradNorm !== undefined) {
      const clipped = clipByGlobalNorm(grads, options.clipGradNorm);
      grads = clipped.grads;
      gradNorm = clipped.norm;
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

    const outputs: Record<string, Tensor> = { [outputName.loss]: out.loss };
    for (const [key, t] of terms) outputs[outputName.term(key)] = t;
    for (const [key, t] of metrics) outputs[outputName.metric(key)] = t;
    if (gradNorm) outputs[outputName.gradNorm] = gradNorm;
    const updates = ctx.stateUpdates();
    for (const [name, next] of updates) outputs[outputName.next(name)] = next;
    const runtime = currentRuntime();
    const resident = options.resident ?? runtime.deviceTensors;
    if (resident && !runtime.deviceTensors) throw new Error(`training program: ${runtime.description} cannot keep variables on a device; leave 'resident' unset or false`);
    const deviceOutputs = resident ? [...updates.keys()].filter((name) => name !== STEP_VAR).map(outputName.next) : [];
    const residentState = resident ? new ResidentState(store, runtime) : undefined;
    let compiled: CompiledGraph;
    try {
      compiled = await CompiledGraph.create(graph, outputs, { threads: options.threads, graphName: 'train_step', profilePrefix: options.profilePrefix, standardOpsOnly: options.standardOpsOnly, runtime, deviceOutputs });
    } catch (err) {
      await residentState?.release();
      throw err;
    }

    const fedNames = new Set(compiled.inputs.map((i) => i.name));
    const fed = store.list().filter((v) => fedNames.has(v.name));
    const onDevice = new Set(deviceOutputs);
    const updated = [...updates.keys()].map((name) => {
      const variable = store.require(name);
      return { variable, spare: onDevice.has(outputName.next(name)) ? undefined : new Float32Array(variable.value.length) };
    });
    const dataInputs = compiled.inputs.map((i) => i.name).filter((n) => !store.get(n) && n !== 'lr');
    const fetch = (key: string, output: string): Fetch => ({ key, output, buffer: compiled.allocate(output) });
    const flops = countFlops(Object.values(outputs));
    return new TrainingProgram<T, M>(
      store,
      optimizer,
      compiled,
      fed,
      updated,
      dataInputs,
      compiled.allocate(outputName.loss),
      terms.map(([key]) => fetch(key, outputName.term(key))),
      metrics.map(([key]) => fetch(key, outputName.metric(key))),
      gradNorm ? fetch('gradNorm', outputName.gradNorm) : undefined,
      params.length,
      flops,
      residentState,
    );
  }

  /** The optimizer's step counter t: steps taken (restored with the optimizer state of a checkpoint). */
  get optimizerStep(): number {
    return this.store.require(STEP_VAR).value[0]!;
  }

  /** Names of the per-step data inputs the model declared. */
  get inputNames(): readonly string[] {
    return this.dataInputs;
  }

  /** Run one training step on `data` (by input name) with learning rate `lr`. */
  async step(data: Readonly<Record<string, TypedData>>, lr: number): Promise<StepResult<T, M>> {
    const t0 = performance.now();
    const feeds: Record<string, TypedData | DeviceTensor> = { lr: this.lrBuffer };
    this.lrBuffer[0] = lr;
    for (const name of this.dataInputs) {
      const d = data[name];
      if (!d) throw new Error(`step: missing data input '${name}'; this program takes ${this.dataInputs.join(', ')}`);
      feeds[name] = d;
    }
    for (const name of Object.keys(data)) {
      if (!this.dataInputs.includes(name)) throw new Error(`step: unknown data input '${name}'; this program takes ${this.dataInputs.join(', ')}`);
    }
    const moved = this.residentState?.moved.uploaded ?? 0;
    for (const v of this.fed) feeds[v.name] = this.residentState && v.name !== STEP_VAR ? await this.residentState.deviceCopy(v) : v.value;
    const into: Record<string, TypedData> = { [outputName.loss]: this.lossBuffer };
    for (const f of [...this.terms, ...this.metrics]) into[f.output] = f.buffer;
    if (this.gradNorm) into[this.gradNorm.output] = this.gradNorm.buffer;
    for (const u of this.updated) if (u.spare) into[outputName.next(u.variable.name)] = u.spare;
    const { device } = await this.compiled.runOnDevice(feeds, into);
    for (const u of this.updated) {
      if (!u.spare) {
        this.residentState!.replace(u.variable, device[outputName.next(u.variable.name)]!);
      } else {
        // Ping-pong: the fresh values become current; the old buffers become next step's output.
        const old = u.variable.value;
        u.variable.value = u.spare;
        u.spare = old;
      }
    }
    this.lastTransfer = transferOf(feeds, into, (this.residentState?.moved.uploaded ?? 0) - moved);
    // The keys are those `build` returned for T and M, so the records have exactly their shape.
    const terms = Object.fromEntries(this.terms.map((f) => [f.key, Number(f.buffer[0])])) as StepResult<T, M>['terms'];
    const metrics = Object.fromEntries(this.metrics.map((f) => [f.key, f.buffer])) as StepResult<T, M>['metrics'];
    const loss = Number(this.lossBuffer[0]);
    this.lastRunMs = this.compiled.lastSessionRunMs;
    this.lastOutsideMs = performance.now() - t0 - this.lastRunMs;
    return { loss, terms, metrics, gradNorm: this.gradNorm && Number(this.gradNorm.buffer[0]) };
  }

  /**
   * Release the session. Variables held on the device are downloaded into the store first (the
   * end of training is a sync point) and their device tensors disposed before the session goes.
   */
  async release(): Promise<void> {
    try {
      await this.residentState?.release();
    } finally {
      await this.compiled.release();
    }
  }
}

/** The host side of a step's feeds and outputs: what crossed to or from the session's memory. */
function transferOf(feeds: Readonly<Record<string, TypedData | DeviceTensor>>, into: Readonly<Record<string, TypedData>>, uploadedBefore: number): StepTransfer {
  const hostInputs = Object.entries(feeds).filter(([, d]) => ArrayBuffer.isView(d)) as [string, TypedData][];
  const hostOutputs = Object.entries(into);
  const bytes = [...hostInputs, ...hostOutputs].reduce((sum, [, d]) => sum + d.byteLength, uploadedBefore);
  return { hostInputs: hostInputs.map(([name]) => name), hostOutputs: hostOutputs.map(([name]) => name), bytes };
}


/**
 * A compiled graph that reads parameters and state from a `VariableStore` but never changes them:
 * evaluation, encoding, decoding, or any function of the model. Built from the same model code as
 * the training step, in 'eval' mode.
 */
import { Graph } from '../graph/graph.js';
import type { Tensor } from '../graph/tensor.js';
import { BuildContext } from './build-context.js';
import { CompiledGraph, type DeviceTensor, type TypedData } from './session.js';
import type { Variable, VariableStore } from './variables.js';

export interface InferenceProgramOptions {
  readonly store: VariableStore;
  /** Model code: declares data inputs on `ctx` and returns the named outputs. */
  readonly build: (ctx: BuildContext) => Readonly<Record<string, Tensor>>;
  readonly threads?: number | undefined;
  readonly graphName?: string | undefined;
}

export class InferenceProgram {
  private constructor(
    private readonly store: VariableStore,
    readonly compiled: CompiledGraph,
    private readonly variables: readonly Variable[],
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(options: InferenceProgramOptions): Promise<InferenceProgram> {
    const graph = new Graph();
    const ctx = BuildContext.create(graph, options.store, 'eval');
    const outputs = options.build(ctx);
    const compiled = await CompiledGraph.create(graph, outputs, { threads: options.threads, graphName: options.graphName ?? 'inference' });
    const names = new Set(compiled.inputs.map((i) => i.name));
    const variables = options.store.list().filter((v) => names.has(v.name));
    const inputNames = compiled.inputs.map((i) => i.name).filter((n) => !options.store.get(n));
    return new InferenceProgram(options.store, compiled, variables, inputNames, Object.keys(outputs));
  }

  /**
   * Run on `data` (by input name); variables are fed from their current values in the store. While
   * a training program holds them on this program's device, its device copies are fed as they are,
   * so evaluating mid-training moves only the batch and the outputs; otherwise values a device
   * holds elsewhere are synced to the host first.
   */
  async run(data: Readonly<Record<string, TypedData>>, into: Readonly<Record<string, TypedData>> = {}): Promise<Record<string, TypedData>> {
    const residence = this.compiled.runtime.deviceTensors ? this.store.deviceResidence : undefined;
    if (residence !== undefined) {
      const feeds: Record<string, TypedData | DeviceTensor> = { ...data };
      for (const v of this.variables) feeds[v.name] = await residence.deviceCopy(v);
      return (await this.compiled.runOnDevice(feeds, into)).host;
    }
    await this.store.sync(this.variables);
    const feeds: Record<string, TypedData> = { ...data };
    for (const v of this.variables) feeds[v.name] = v.value;
    return this.compiled.run(feeds, into);
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}

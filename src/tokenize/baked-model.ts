/**
 * Self-contained ONNX models: the model code's graph with every variable it reads turned from a
 * graph input into an initializer holding the trained value, so plain ONNX Runtime runs it with
 * only the data inputs (what `vqlab export` writes and what the `Tokenizer` runs).
 *
 * The graph is built exactly as an `InferenceProgram` builds it (same `BuildContext`, mode
 * 'eval'); only the lowered ModelProto is changed afterwards, which keeps the runtime untouched.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { Graph } from '../graph/graph.js';
import { formatShape, shapeSize, type Tensor } from '../graph/tensor.js';
import type { onnx } from 'onnx-proto';
import type { IndexType } from '../onnx/emitter.js';
import { encodeModel, tensorProto, toModelProto, type ExportOpset } from '../onnx/lower.js';
import { BuildContext } from '../runtime/build-context.js';
import { currentRuntime, type Runtime } from '../runtime/runtime.js';
import type { TypedData } from '../runtime/session.js';
import type { VariableStore } from '../runtime/variables.js';
import { buildBatchFree, FREE_BATCH, type FreeSize } from './batch-free-graph.js';

export interface BakeOptions {
  readonly graphName: string;
  /** Stored as ONNX metadata_props (e.g. the vqlab config), readable by any ONNX tool. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Index type inside the graph (default int64, what any ONNX runtime runs); int32 for WebGPU (`webgpu-forms.ts`). */
  readonly indexType?: IndexType | undefined;
  /** ONNX opset of the model (default OPSET). */
  readonly opset?: ExportOpset | undefined;
  /**
   * With 'dynamic': which size `build` is given and the name of that dimension per input and
   * output (default: the batch, named `batch` everywhere).
   */
  readonly free?: FreeDimension | undefined;
}

/** A size left to run time: what it is, and the symbolic name of its dimension in each input and output, by name. */
export interface FreeDimension {
  readonly size: FreeSize;
  readonly dimNames: Readonly<Record<string, string>>;
}

/** Name of the symbolic batch dimension of exported models with a dynamic batch. */
export const BATCH_DIM = 'batch';

/**
 * Serialized ONNX of `build`'s outputs with the store's current values baked in. A number fixes
 * the batch size; 'dynamic' leaves it to run time (see batch-free-graph.ts), with the inputs' and
 * outputs' batch dimension named `batch` — or, with `options.free`, leaves another size to run
 * time (the length of a signal), its dimensions named as that says.
 */
export function bakeModel(
  store: VariableStore,
  batch: number | 'dynamic',
  build: (ctx: BuildContext, batch: number) => Readonly<Record<string, Tensor>>,
  options: BakeOptions,
): Uint8Array {
  const free = batch === 'dynamic' ? buildBatchFree((graph, b) => build(BuildContext.create(graph, store, 'eval'), b), options.free?.size ?? FREE_BATCH) : undefined;
  const built = free ?? fixedBatch(store, batch as number, build);
  const model = toModelProto(built.graph, Object.entries(built.outputs).map(([name, tensor]) => ({ name, tensor })), { graphName: options.graphName, indexType: options.indexType, opset: options.opset });
  const g = model.graph!;
  const inputs = g.input ?? [];
  const baked = inputs.filter((i) => store.get(i.name!) !== undefined);
  g.input = inputs.filter((i) => store.get(i.name!) === undefined);
  g.initializer = [
    ...baked.map((i) => {
      const v = store.require(i.name!);
      return tensorProto(v.name, 'float32', v.shape, v.value.slice());
    }),
    ...(g.initializer ?? []),
  ];
  if (free) {
    const symbolic = (info: onnx.IValueInfoProto, dims: readonly number[] | undefined): void => {
      const dimParam = options.free?.dimNames[info.name!] ?? BATCH_DIM;
      for (const d of dims ?? []) info.type!.tensorType!.shape!.dim![d] = { dimParam };
    };
    for (const info of g.input) symbolic(info, free.batchDims.get(info.name!));
    for (const info of g.output ?? []) symbolic(info, free.outputBatchDims.get(info.name!));
  }
  model.metadataProps = Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value }));
  return encodeModel(model);
}

function fixedBatch(store: VariableStore, batch: number, build: (ctx: BuildContext, batch: number) => Readonly<Record<string, Tensor>>): { graph: Graph; outputs: Readonly<Record<string, Tensor>> } {
  const graph = new Graph();
  return { graph, outputs: build(BuildContext.create(graph, store, 'eval'), batch) };
}

interface IoSpec {
  readonly name: string;
  readonly dtype: 'float32' | 'int64';
  readonly shape: readonly number[];
}

/** An ORT session over baked ONNX bytes with one data input and one output. */
export class BakedSession {
  private constructor(
    private readonly session: InferenceSession,
    private readonly runtime: Runtime,
    readonly input: IoSpec,
    readonly output: IoSpec,
  ) {}

  static async create(bytes: Uint8Array, input: IoSpec, output: IoSpec, threads = 0): Promise<BakedSession> {
    const runtime = currentRuntime();
    const session = await runtime.createSession(bytes, { threads });
    return new BakedSession(session, runtime, input, output);
  }

  async run(data: TypedData): Promise<TypedData> {
    if (data.length !== shapeSize(this.input.shape)) {
      throw new Error(`input '${this.input.name}' must have ${shapeSize(this.input.shape)} values (${this.input.dtype}${formatShape(this.input.shape)}), got ${data.length}`);
    }
    const result = await this.session.run({ [this.input.name]: this.runtime.tensor(this.input.dtype, data, [...this.input.shape]) });
    return result[this.output.name]!.data as TypedData;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

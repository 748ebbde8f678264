/**
 * The bridge to ONNX Runtime: compiles a graph to an ONNX model, opens one `InferenceSession`, and
 * runs it with typed-array feeds. Outputs can be written into caller-owned buffers so a training
 * loop allocates nothing per step.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { Graph } from '../graph/graph.js';
import { formatShape, shapeSize, type DType, type Shape, type Tensor } from '../graph/tensor.js';
import { encodeModel, toModelProto } from '../onnx/lower.js';
import { nchwcTarget } from './conv-target.js';
import { currentRuntime, graphIndexType, type Runtime } from './runtime.js';

export type TypedData = Float32Array | BigInt64Array | Uint8Array;

/** A tensor in a runtime's device memory (ORT's gpu-buffer tensor), from a run's `deviceOutputs`. */
export type DeviceTensor = OrtTensor;

export interface SessionOptions {
  /** Intra-op threads for ONNX Runtime (default: 0, which lets ORT use one per physical core). */
  threads?: number | undefined;
  /** Graph inputs to keep even if no output depends on them. */
  inputs?: readonly Tensor[] | undefined;
  /** Name stored in the ONNX graph. */
  graphName?: string | undefined;
  /** The ONNX Runtime build to run on (default: `currentRuntime()`). */
  runtime?: Runtime | undefined;
  /**
   * Record ORT's per-node profile; the JSON file is written at `endProfiling()` to a path that
   * starts with this prefix (ORT appends a timestamp). Runtimes without a profiler ignore it.
   */
  profilePrefix?: string | undefined;
  /**
   * Lower convolutions to standard ONNX ops only, never to ONNX Runtime's NCHWc kernels (default
   * false: the fastest exact form per shape, see `src/onnx/conv-forms.ts`).
   */
  standardOpsOnly?: boolean | undefined;
  /** Outputs that `runOnDevice` leaves in device memory (a runtime with `deviceTensors` only). */
  deviceOutputs?: readonly string[] | undefined;
}

/** What `runOnDevice` returns: the host outputs as typed arrays, the device outputs as device tensors. */
export interface MixedOutputs {
  readonly host: Record<string, TypedData>;
  /** Owned by the caller, who disposes each once it is no longer fed (see `Runtime.deviceTensors`). */
  readonly device: Record<string, DeviceTensor>;
}

interface IoSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

function dataTypeName(dtype: DType): 'float32' | 'int64' | 'bool' {
  return dtype;
}

function allocate(dtype: DType, size: number): TypedData {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'int64' ? new BigInt64Array(size) : new Uint8Array(size);
}

function matchesDType(data: TypedData, dtype: DType): boolean {
  return dtype === 'float32' ? data instanceof Float32Array : dtype === 'int64' ? data instanceof BigInt64Array : data instanceof Uint8Array;
}

export class CompiledGraph {
  /** Wall time of the last `session.run` call alone, in ms (excludes feed/fetch preparation here). */
  lastSessionRunMs = 0;

  private constructor(
    private readonly session: InferenceSession,
    /** The runtime the session runs on. */
    readonly runtime: Runtime,
    readonly inputs: readonly IoSpec[],
    readonly outputs: readonly IoSpec[],
    /** Milliseconds spent lowering, serializing and creating the ORT session. */
    readonly compileMs: number,
    /** The serialized ONNX model. */
    readonly modelBytes: Uint8Array,
    /** Outputs the session leaves on the device. */
    private readonly deviceOutputs: ReadonlySet<string>,
  ) {}

  /** Lower `graph` to ONNX, computing `outputs`, and open an ORT session for it. */
  static async create(graph: Graph, outputs: Readonly<Record<string, Tensor>>, options: SessionOptions = {}): Promise<CompiledGraph> {
    const t0 = performance.now();
    const specs = Object.entries(outputs).map(([name, tensor]) => ({ name, tensor }));
    const runtime = options.runtime ?? currentRuntime();
    // NCHWc kernels exist only on the CPU provider; a GPU runtime gets standard ops and int32 indices.
    const convTarget = options.standardOpsOnly || runtime.device === 'webgpu' ? undefined : await nchwcTarget(runtime);
    const model = toModelProto(graph, specs, { inputs: options.inputs, graphName: options.graphName, convTarget, indexType: graphIndexType(runtime) });
    const bytes = encodeModel(model);
    const deviceOutputs = options.deviceOutputs ?? [];
    if (deviceOutputs.length > 0 && !runtime.deviceTensors) throw new Error(`${runtime.description} cannot leave outputs on a device; ask for device outputs only where runtime.deviceTensors is true`);
    for (const name of deviceOutputs) if (!(name in outputs)) throw new Error(`deviceOutputs: '${name}' is not an output of this graph`);
    const session = await runtime.createSession(bytes, { threads: options.threads ?? 0, profilePrefix: options.profilePrefix, deviceOutputs });
    const inputNames = new Set(model.graph!.input!.map((i) => i.name!));
    const inputs = graph.inputs
      .map((i) => i.tensor)
      .filter((t) => inputNames.has(t.name))
      .map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype }));
    const outs = specs.map((o) => ({ name: o.name, shape: o.tensor.shape, dtype: o.tensor.dtype }));
    return new CompiledGraph(session, runtime, inputs, outs, performance.now() - t0, bytes, new Set(deviceOutputs));
  }

  /**
   * Run once. `feeds` must hold every input by name. Outputs present in `into` are written into
   * those buffers (which must have the right size and type); the rest are returned fresh.
   */
  async run(feeds: Readonly<Record<string, TypedData>>, into: Readonly<Record<string, TypedData>> = {}): Promise<Record<string, TypedData>> {
    if (this.deviceOutputs.size > 0) throw new Error('run: this graph leaves outputs on the device; use runOnDevice');
    return (await this.runMixed(feeds, into)).host;
  }

  /**
   * Run once with inputs that may be device tensors (fed as they are, without a copy) and the
   * outputs named in `deviceOutputs` at creation left on the device; host outputs as in `run`.
   */
  async runOnDevice(feeds: Readonly<Record<string, TypedData | DeviceTensor>>, into: Readonly<Record<string, TypedData>> = {}): Promise<MixedOutputs> {
    return this.runMixed(feeds, into);
  }

  private async runMixed(feeds: Readonly<Record<string, TypedData | DeviceTensor>>, into: Readonly<Record<string, TypedData>>): Promise<MixedOutputs> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const spec of this.inputs) {
      const data = feeds[spec.name];
      if (!data) throw new Error(`run: missing input '${spec.name}' ${spec.dtype}${formatShape(spec.shape)}; pass it in the feeds`);
      if (isTypedData(data)) {
        checkBuffer('input', spec, data);
        ortFeeds[spec.name] = this.runtime.tensor(dataTypeName(spec.dtype), data, spec.shape as number[]);
      } else {
        checkDeviceTensor(spec, data);
        ortFeeds[spec.name] = data;
      }
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputs.some((s) => s.name === name)) {
        throw new Error(`run: unknown input '${name}'; this graph takes ${this.inputs.map((s) => s.name).join(', ') || 'no inputs'}`);
      }
    }
    // A session with device outputs runs through ORT's IO binding, which does not write into
    // preallocated outputs: its host outputs are copied below as onnxruntime-web's are.
    const writesInto = this.runtime.writesIntoOutputs && this.deviceOutputs.size === 0;
    const fetches: Record<string, OrtTensor | null> = {};
    for (const spec of this.outputs) {
      const buf = into[spec.name];
      if (buf) checkBuffer('output', spec, buf);
      if (buf && writesInto) {
        fetches[spec.name] = this.runtime.tensor(dataTypeName(spec.dtype), buf, spec.shape as number[]);
      } else {
        fetches[spec.name] = null;
      }
    }
    const t0 = performance.now();
    const result = await this.session.run(ortFeeds, fetches);
    this.lastSessionRunMs = performance.now() - t0;
    const host: Record<string, TypedData> = {};
    const device: Record<string, DeviceTensor> = {};
    for (const spec of this.outputs) {
      if (this.deviceOutputs.has(spec.name)) {
        device[spec.name] = result[spec.name]!;
        continue;
      }
      // onnxruntime-node writes a preallocated output in place and also hands back its own copy,
      // which is dropped; onnxruntime-web only hands back a copy, which goes into the caller's
      // buffer (checkBuffer made sure its type matches). Either way callers keep their buffers.
      const fresh = result[spec.name]!.data as TypedData;
      const buf = into[spec.name];
      if (buf && !writesInto) (buf as Float32Array).set(fresh as Float32Array);
      host[spec.name] = buf ?? fresh;
    }
    return { host, device };
  }

  /** A zeroed buffer of the right type and size for input or output `name`. */
  allocate(name: string): TypedData {
    const spec = this.inputs.find((s) => s.name === name) ?? this.outputs.find((s) => s.name === name);
    if (!spec) throw new Error(`allocate: no input or output named '${name}'`);
    return allocate(spec.dtype, shapeSize(spec.shape));
  }

  /** Stop profiling and write ORT's profile file (only for a graph created with `profilePrefix`). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function isTypedData(data: TypedData | DeviceTensor): data is TypedData {
  return ArrayBuffer.isView(data);
}

function checkDeviceTensor(spec: IoSpec, tensor: DeviceTensor): void {
  if (tensor.location !== 'gpu-buffer' || tensor.type !== dataTypeName(spec.dtype) || formatShape(tensor.dims) !== formatShape(spec.shape)) {
    throw new Error(`run: input '${spec.name}' must be ${spec.dtype}${formatShape(spec.shape)}, got a ${tensor.location} tensor ${tensor.type}${formatShape(tensor.dims)}`);
  }
}

function checkBuffer(kind: string, spec: IoSpec, data: TypedData): void {
  const size = shapeSize(spec.shape);
  if (!matchesDType(data, spec.dtype) || data.length !== size) {
    throw new Error(
      `run: ${kind} '${spec.name}' must be ${spec.dtype}${formatShape(spec.shape)} (${size} elements), got ${data.constructor.name} of ${data.length}`,
    );
  }
}

/**
 * Lowering of the primitive graph to ONNX (opset 18, or 17 on request). One function per primitive; most map to one
 * standard ONNX operator (plus shape/axes constants). Convolutions may become a faster exact form
 * (`conv-forms.ts`), using ONNX Runtime's NCHWc kernels only when `convTarget` allows it, so
 * models lowered without it (exports) run on any ONNX runtime; ScatterAdd becomes a
 * deterministic form (`scatter-add.ts`).
 */
import type { onnx } from 'onnx-proto';
import type { Graph } from '../graph/graph.js';
import { GraphError, type DType, type Node, type Tensor } from '../graph/tensor.js';
import { lowerConv, lowerConvFilterGrad, lowerConvTranspose, type ConvTarget } from './conv-forms.js';
import { ELEM, Emitter, int32Proto, intAttr, intsAttr, P, strAttr, tensorProto, type IndexType } from './emitter.js';
import { lowerScatterAdd } from './scatter-add.js';
import { emitConcat, lowerArgExtremeAsFloat, lowerOneHotByEqual, lowerSignByComparison } from './webgpu-forms.js';

export const OPSET = 18;

/**
 * The opsets a graph can be lowered to, oldest first. 17 is for tools that know no newer one
 * (Python's onnx 1.12 checker stops there). Of the operators lowered here, opset 18 changed the
 * form of ReduceMean, ReduceMax and ReduceMin only: their axes are an attribute up to 17 and an
 * input from 18 (ONNX Operators.md, ReduceMean-13 and ReduceMean-18; ReduceSum has taken an input
 * since 13). Pad-18 and ScatterElements-18 only add what is not used here (an `axes` input, max/min
 * reductions), so their 18 forms are valid 13 and 16 forms.
 */
export const EXPORT_OPSETS = [17, OPSET] as const;
export type ExportOpset = (typeof EXPORT_OPSETS)[number];

export { tensorProto };

export interface OutputSpec {
  readonly name: string;
  readonly tensor: Tensor;
}

export interface LowerOptions {
  /** Graph inputs to expose (default: all that the outputs depend on). */
  readonly inputs?: readonly Tensor[] | undefined;
  readonly graphName?: string | undefined;
  /**
   * Where ONNX Runtime's blocked-layout (NCHWc) kernels may be used for convolutions: their block
   * size, as `nchwcTarget()` in `src/runtime/conv-target.ts` reports it. Omitted: standard ONNX
   * ops only, so the model runs on any ONNX runtime (exported models).
   */
  readonly convTarget?: ConvTarget | undefined;
  /**
   * 'int32': every int64 value inside the graph is an int32 tensor, for ORT's WebGPU provider
   * (`webgpu-forms.ts`); the graph's int64 inputs and outputs keep their type. Default 'int64'.
   */
  readonly indexType?: IndexType | undefined;
  /** The default opset's domain version (default OPSET). */
  readonly opset?: ExportOpset | undefined;
}

function valueInfo(name: string, t: Tensor): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[t.dtype], shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** The ONNX element type of `dtype` in this graph (int64 values are int32 under the int32 index type). */
function elemOf(e: Emitter, dtype: DType): number {
  return dtype === 'int64' && e.indexType === 'int32' ? P.TensorProto.DataType.INT32 : ELEM[dtype];
}

function lowerNode(e: Emitter, n: Node, target: ConvTarget | undefined, opset: ExportOpset): void {
  const ins = n.inputs.map((t) => t.name);
  const out = n.outputs[0]!.name;
  const a = n.attrs;
  if (e.indexType === 'int32') {
    if (n.op === 'ArgMin' || n.op === 'ArgMax') return lowerArgExtremeAsFloat(e, n);
    if (n.op === 'Sign') return lowerSignByComparison(e, n);
    if (n.op === 'OneHot') return lowerOneHotByEqual(e, n);
  }
  switch (n.op) {
    // Same name, inputs and semantics in ONNX.
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow':
    case 'Less': case 'Greater': case 'Equal': case 'Where':
    case 'Neg': case 'Relu': case 'Elu': case 'Sigmoid': case 'Exp': case 'Log': case 'Sqrt': case 'Abs': case 'Sign':
    case 'MatMul':
      return e.node(n.op, ins, [out]);
    case 'StopGradient':
      return e.node('Identity', ins, [out]);
    case 'Cast':
      return e.node('Cast', ins, [out], [intAttr('to', elemOf(e, a.to as DType))]);
    case 'ReduceSum':
      return e.node(n.op, [ins[0]!, e.ints(a.axes as number[])], [out], [intAttr('keepdims', a.keepDims ? 1 : 0)]);
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
      if (opset < 18) return e.node(n.op, ins, [out], [intsAttr('axes', a.axes as number[]), intAttr('keepdims', a.keepDims ? 1 : 0)]);
      return e.node(n.op, [ins[0]!, e.ints(a.axes as number[])], [out], [intAttr('keepdims', a.keepDims ? 1 : 0)]);
    case 'ArgMin':
    case 'ArgMax':
      return e.node(n.op, ins, [out], [intAttr('axis', a.axis as number), intAttr('keepdims', a.keepDims ? 1 : 0), intAttr('select_last_index', 0)]);
    case 'Reshape':
      return e.node('Reshape', [ins[0]!, e.ints(a.shape as number[])], [out]);
    case 'Expand':
      return e.node('Expand', [ins[0]!, e.ints(a.shape as number[])], [out]);
    case 'Transpose':
      return e.node('Transpose', ins, [out], [intsAttr('perm', a.perm as number[])]);
    case 'Concat':
      emitConcat(e, ins, a.axis as number, out);
      return;
    case 'Slice':
      return e.node('Slice', [ins[0]!, e.ints([a.start as number]), e.ints([a.end as number]), e.ints([a.axis as number])], [out]);
    case 'Pad': {
      const pairs = a.pads as number[];
      const begins = pairs.filter((_, i) => i % 2 === 0);
      const ends = pairs.filter((_, i) => i % 2 === 1);
      return e.node('Pad', [ins[0]!, e.ints([...begins, ...ends])], [out], [strAttr('mode', 'constant')]);
    }
    case 'Gather':
      return e.node('Gather', ins, [out], [intAttr('axis', 0)]);
    case 'ScatterAdd':
      return lowerScatterAdd(e, n);
    case 'OneHot':
      return e.node('OneHot', [ins[0]!, e.scalarInt(a.depth as number), e.floats([0, 1])], [out], [intAttr('axis', -1)]);
    case 'Conv':
      return lowerConv(e, n, target);
    case 'ConvTranspose':
      return lowerConvTranspose(e, n, target);
    case 'ConvFilterGrad':
      return lowerConvFilterGrad(e, n, target);
    default: {
      // Every primitive is handled above; the compiler rejects a new one without a lowering here.
      const missing: never = n.op;
      throw new GraphError(String(missing), 'has no ONNX lowering');
    }
  }
}

/** The nodes that the outputs depend on, in graph order. */
function liveNodes(graph: Graph, outputs: readonly Tensor[]): { nodes: Node[]; tensors: Set<Tensor> } {
  const live = new Set<Node>();
  const tensors = new Set<Tensor>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (tensors.has(t)) continue;
    tensors.add(t);
    if (t.producer && !live.has(t.producer)) {
      live.add(t.producer);
      stack.push(...t.producer.inputs);
    }
  }
  return { nodes: graph.nodes.filter((n) => live.has(n)), tensors };
}

/**
 * Under int32 indices, each int64 graph input is cast to int32 once, into a tensor of its own
 * name: returns input name → that name (which the nodes then read, see `renameInputs`).
 */
function narrowIndexInputs(e: Emitter, inputs: readonly Tensor[]): Map<string, string> {
  const renamed = new Map<string, string>();
  for (const t of inputs) {
    if (t.dtype !== 'int64') continue;
    const narrow = e.temp();
    e.node('Cast', [t.name], [narrow], [intAttr('to', P.TensorProto.DataType.INT32)]);
    renamed.set(t.name, narrow);
  }
  return renamed;
}

/** An int64 constant as int32, refused when a value does not fit. */
function narrowConstant(name: string, data: BigInt64Array): Int32Array {
  const out = Int32Array.from(data, Number);
  const lost = data.findIndex((v, i) => BigInt(out[i]!) !== v);
  if (lost >= 0) throw new GraphError('compile', `int64 constant '${name}' holds ${data[lost]}, beyond the int32 indices of a WebGPU graph`);
  return out;
}

/** Point every node but the narrowing Casts at the int32 copies of the int64 inputs. */
function renameInputs(e: Emitter, renamed: ReadonlyMap<string, string>): void {
  const casts = new Set(renamed.values());
  for (const node of e.nodes) {
    if (node.output?.some((o) => casts.has(o))) continue;
    node.input = node.input?.map((i) => renamed.get(i) ?? i) ?? [];
  }
}

/**
 * Lower `graph` to an ONNX ModelProto computing `outputs`. Graph inputs the outputs depend on
 * become model inputs (others are dropped unless listed in `options.inputs`); constants become
 * initializers.
 */
export function toModelProto(graph: Graph, outputs: readonly OutputSpec[], options: LowerOptions = {}): onnx.IModelProto {
  const names = new Set<string>();
  for (const o of outputs) {
    if (names.has(o.name)) throw new GraphError('compile', `output name '${o.name}' is used twice`);
    if (o.tensor.graph !== graph) throw new GraphError('compile', `output '${o.name}' belongs to another graph`);
    names.add(o.name);
  }
  const { nodes, tensors } = liveNodes(graph, outputs.map((o) => o.tensor));
  const e = new Emitter(options.indexType);
  const opset = options.opset ?? OPSET;
  const inputTensors = options.inputs ?? graph.inputs.map((i) => i.tensor).filter((t) => tensors.has(t));
  const narrowed = e.indexType === 'int32' ? narrowIndexInputs(e, inputTensors) : undefined;
  for (const n of nodes) lowerNode(e, n, options.convTarget, opset);
  if (narrowed) renameInputs(e, narrowed);

  for (const o of outputs) {
    if (graph.findInput(o.name)) throw new GraphError('compile', `output name '${o.name}' is also an input name; outputs need their own names`);
  }
  // Outputs are renamed through Identity so that one tensor may be several outputs and an
  // input may be passed through unchanged; under int32 indices an int64 output is cast back.
  for (const o of outputs) {
    const source = narrowed?.get(o.tensor.name) ?? o.tensor.name;
    if (o.tensor.dtype === 'int64' && e.indexType === 'int32') e.node('Cast', [source], [o.name], [intAttr('to', ELEM.int64)]);
    else e.node('Identity', [source], [o.name]);
  }

  const constants = graph.constants.filter((c) => tensors.has(c.tensor));
  const constantProto = (c: (typeof constants)[number]): onnx.ITensorProto =>
    c.tensor.dtype === 'int64' && e.indexType === 'int32'
      ? int32Proto(c.tensor.name, c.tensor.shape, narrowConstant(c.tensor.name, c.data as BigInt64Array))
      : tensorProto(c.tensor.name, c.tensor.dtype, c.tensor.shape, c.data);
  const initializer = [...constants.map(constantProto), ...e.initializers];
  return {
    irVersion: 8,
    producerName: 'vqlab',
    opsetImport: [{ domain: '', version: opset }, ...[...e.domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: options.graphName ?? 'vqlab',
      node: e.nodes,
      initializer,
      input: inputTensors.map((t) => valueInfo(t.name, t)),
      output: outputs.map((o) => valueInfo(o.name, o.tensor)),
    },
  };
}

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return P.ModelProto.encode(P.ModelProto.create(model)).finish();
}

/**
 * Graphs whose batch size (or, for a sequence model, signal length) is left to run time, for
 * exported models. vqlab's graphs have static shapes: a reshape records its target sizes, and a
 * quantizer that flattens [N, d, h, w] to [N·h·w, d] records N·h·w. To find what depends on the
 * free size, the graph is built twice, at size b and b + 1 (a batch, or a length in code frames).
 * The two builds must have the same nodes; a size that differs between them depends on the free
 * size, and is rewritten in the size-b graph so that ONNX Runtime infers it:
 *   - a Reshape target dimension becomes -1 (at most one per Reshape, as ONNX allows);
 *   - an Expand target dimension becomes 1, which broadcasting keeps at the input's size — valid
 *     only where the input's dimension depends on the batch too.
 * Anything else that differs (a slice bound, a constant's size) cannot follow the batch, and the
 * build is refused with an error naming the op. Model code may choose its algorithm by size (SimVQ
 * decodes fewer indices than codes by projecting only the gathered rows), so b runs through
 * 1, 2, 4, … until the builds at b and b + 1 make the same choices.
 */
import { Graph } from '../graph/graph.js';
import { GraphError, type Attrs, type Node, type Tensor } from '../graph/tensor.js';

/** What the free size is, in the refusal of a graph that cannot follow it. */
export interface FreeSize {
  /** 'the batch size' */
  readonly what: string;
  /** What the user can do instead: 'this model cannot be exported with a dynamic batch; export it with a fixed --batch'. */
  readonly instead: string;
}

export const FREE_BATCH: FreeSize = { what: 'the batch size', instead: 'this model cannot be exported with a dynamic batch; export it with a fixed --batch' };

export interface BatchFreeGraph {
  /** The size-b build with its size-dependent sizes rewritten. */
  readonly graph: Graph;
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Per graph input (by name), the dimensions that follow the free size. */
  readonly batchDims: ReadonlyMap<string, readonly number[]>;
  /** Per output (by name), the dimensions that follow the free size. */
  readonly outputBatchDims: ReadonlyMap<string, readonly number[]>;
}

/** Positions where two shapes differ (the shapes have equal rank where this is used). */
function differing(a: readonly number[], b: readonly number[]): number[] {
  return a.flatMap((d, i) => (d !== b[i] ? [i] : []));
}

function refuse(op: string, what: string, size: FreeSize): never {
  throw new GraphError(op, `${what} depends on ${size.what}, so ${size.instead}`);
}

/** The attributes of one node of the size-b build, with size-dependent sizes left to run time. */
function batchFreeAttrs(one: Node, two: Node, size: FreeSize): Attrs | undefined {
  if (JSON.stringify(one.attrs) === JSON.stringify(two.attrs)) return undefined;
  const keys = Object.keys(one.attrs);
  if (keys.some((k) => k !== 'shape' && JSON.stringify(one.attrs[k]) !== JSON.stringify(two.attrs[k]))) {
    refuse(one.op, `an attribute of ${one.op}`, size);
  }
  const target = one.attrs.shape as readonly number[];
  const positions = differing(target, two.attrs.shape as readonly number[]);
  if (one.op === 'Reshape') {
    if (positions.length > 1) refuse('Reshape', `more than one target dimension of a Reshape`, size);
    return { ...one.attrs, shape: target.map((d, i) => (i === positions[0] ? -1 : d)) };
  }
  if (one.op === 'Expand') {
    // Broadcasting aligns shapes from the right.
    const input1 = one.inputs[0]!.shape, input2 = two.inputs[0]!.shape;
    const offset = target.length - input1.length;
    for (const p of positions) {
      if (p < offset || input1[p - offset] === input2[p - offset]) refuse('Expand', 'an Expand to a dimension of that size', size);
    }
    return { ...one.attrs, shape: target.map((d, i) => (positions.includes(i) ? 1 : d)) };
  }
  return refuse(one.op, `the shape attribute of ${one.op}`, size);
}

/** Every tensor the outputs are computed from, themselves included. */
function liveTensors(outputs: readonly Tensor[]): Set<Tensor> {
  const live = new Set<Tensor>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (live.has(t)) continue;
    live.add(t);
    if (t.producer) stack.push(...t.producer.inputs);
  }
  return live;
}

/** Sizes b tried in turn (see the file comment). */
const FIRST_BATCHES = Array.from({ length: 13 }, (_, i) => 2 ** i);

function sameOps(a: Graph, b: Graph): boolean {
  return a.nodes.length === b.nodes.length && a.nodes.every((n, i) => n.op === b.nodes[i]!.op);
}

/** Builds the graph at size b and b + 1 and returns the size-b build made independent of the size. */
export function buildBatchFree(build: (graph: Graph, size: number) => Readonly<Record<string, Tensor>>, size: FreeSize = FREE_BATCH): BatchFreeGraph {
  for (const b of FIRST_BATCHES) {
    const graphOne = new Graph(), graphTwo = new Graph();
    const outputs = build(graphOne, b);
    const outputsTwo = build(graphTwo, b + 1);
    if (sameOps(graphOne, graphTwo)) return rewrite(graphOne, outputs, graphTwo, outputsTwo, size);
  }
  return refuse('compile', `the graph structure (up to size ${FIRST_BATCHES[FIRST_BATCHES.length - 1]! + 1})`, size);
}

/** The size-b build (`graphOne`) with what differs from the size-(b + 1) build left to run time. */
function rewrite(graphOne: Graph, outputs: Readonly<Record<string, Tensor>>, graphTwo: Graph, outputsTwo: Readonly<Record<string, Tensor>>, size: FreeSize): BatchFreeGraph {
  const nodesOne = graphOne.nodes, nodesTwo = graphTwo.nodes;
  // Only what the outputs depend on is exported (a quantizer also computes code counts, say).
  const live = liveTensors(Object.values(outputs));
  graphOne.constants.forEach((c, i) => {
    const other = graphTwo.constants[i];
    if (live.has(c.tensor) && (!other || c.tensor.shape.length !== other.tensor.shape.length || differing(c.tensor.shape, other.tensor.shape).length > 0)) {
      refuse('constant', `the shape of constant ${c.tensor.name}`, size);
    }
  });
  nodesOne.forEach((node, i) => {
    if (!node.outputs.some((t) => live.has(t))) return;
    const attrs = batchFreeAttrs(node, nodesTwo[i]!, size);
    // The build is used for nothing but this export, so its nodes are rewritten in place.
    if (attrs) (node as { attrs: Attrs }).attrs = attrs;
  });
  const batchDims = new Map(graphOne.inputs.map((input, i) => [input.tensor.name, differing(input.tensor.shape, graphTwo.inputs[i]!.tensor.shape)]));
  const outputBatchDims = new Map(Object.entries(outputs).map(([name, t]) => [name, differing(t.shape, outputsTwo[name]!.shape)]));
  return { graph: graphOne, outputs, batchDims, outputBatchDims };
}

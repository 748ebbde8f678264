/**
 * A pre-flight estimate of a training step's peak memory, so that a batch or codebook that cannot
 * fit is refused with a suggestion instead of ONNX Runtime failing to allocate minutes later.
 *
 * The step graph is built symbolically against a shape-only variable store (nothing is allocated)
 * and three parts are added up, each a lower bound on what ORT must hold at once:
 *   parameters   4 B × P × 5        value, next value, gradient and Adam's two moments
 *   activations  4 B × Σ|a| × 2     every encoder/decoder output, and the inputs x and z_q of the
 *                                   two, is kept for the backward pass, which produces a gradient
 *                                   of the same size
 *   search       4 B × max|s| × 2   the largest single tensor inside the quantizer — the
 *                                   nearest-code score block [chunkM, chunkK] (or [M, K] if a
 *                                   quantizer does not block) — plus one consumer of it
 */
import { totalmem } from 'node:os';
import { Graph } from '../graph/graph.js';
import { formatShape, shapeSize, type Shape } from '../graph/tensor.js';
import type { Initializer } from '../init/initializers.js';
import type { VqvaeModel } from '../models/model.js';
import { quantizeFeatureMap } from '../quantizers/quantizer.js';
import { BuildContext } from '../runtime/build-context.js';
import { VariableStore, type Variable, type VariableKind, type VariableOptions } from '../runtime/variables.js';

/** A store that records shapes only, for building graphs whose values are never needed. */
class ShapeOnlyStore extends VariableStore {
  private readonly shapes = new Map<string, Variable>();

  override variable(name: string, kind: VariableKind, shape: Shape, _init: Initializer, options: VariableOptions = {}): Variable {
    let v = this.shapes.get(name);
    if (!v) {
      v = { name, kind, shape: [...shape], trainable: kind === 'param' && (options.trainable ?? true), decay: false, value: new Float32Array(0) };
      this.shapes.set(name, v);
    }
    return v;
  }

  override get(name: string): Variable | undefined {
    return this.shapes.get(name);
  }

  override require(name: string): Variable {
    const v = this.shapes.get(name);
    if (!v) throw new Error(`no variable named '${name}'`);
    return v;
  }

  override list(kind?: VariableKind): Variable[] {
    return [...this.shapes.values()].filter((v) => kind === undefined || v.kind === kind);
  }
}

export interface MemoryEstimate {
  /** The model's parameters (its 'param' variables, the codebook included). */
  readonly parameterCount: number;
  readonly parameterBytes: number;
  readonly activationBytes: number;
  readonly searchBytes: number;
  /** Shape of the largest tensor in the quantizer (the search block). */
  readonly searchShape: Shape;
  readonly totalBytes: number;
}

const FLOAT_BYTES = 4;

function estimateTrainingMemory(model: VqvaeModel, batch: number): MemoryEstimate {
  const store = new ShapeOnlyStore(0);
  const graph = new Graph();
  const ctx = BuildContext.create(graph, store, 'train');
  const { channels, height, width } = model.input;
  const x = ctx.input('x', [batch, channels, height, width]);

  const sizeOf = (from: number, to: number): { sum: number; max: number; maxShape: Shape } => {
    let sum = 0, max = 0;
    let maxShape: Shape = [];
    for (const node of graph.nodes.slice(from, to)) {
      for (const t of node.outputs) {
        sum += t.size;
        if (t.size > max) {
          max = t.size;
          maxShape = t.shape;
        }
      }
    }
    return { sum, max, maxShape };
  };

  const z = model.encode(ctx, x);
  const afterEncoder = graph.nodes.length;
  const q = quantizeFeatureMap(model.quantizer, model.quantizerScope(ctx), z);
  const afterQuantizer = graph.nodes.length;
  model.decode(ctx, q.quantized);

  const encoder = sizeOf(0, afterEncoder);
  const quantizer = sizeOf(afterEncoder, afterQuantizer);
  const decoder = sizeOf(afterQuantizer, graph.nodes.length);
  const params = store.list('param').reduce((s, v) => s + shapeSize(v.shape), 0);
  const parameterBytes = FLOAT_BYTES * params * 5;
  const activationBytes = FLOAT_BYTES * (encoder.sum + decoder.sum + x.size + q.quantized.size) * 2;
  const searchBytes = FLOAT_BYTES * quantizer.max * 2;
  return { parameterCount: params, parameterBytes, activationBytes, searchBytes, searchShape: quantizer.maxShape, totalBytes: parameterBytes + activationBytes + searchBytes };
}

/** Share of the machine's memory a run may plan to use (the rest is for the OS and other users). */
const MEMORY_BUDGET_FRACTION = 0.8;

export class MemoryBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryBudgetError';
  }
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuse a configuration whose estimate exceeds the budget, naming the dominant part and the
 * largest batch that would fit (activations and search grow linearly with the batch).
 */
export function checkTrainingMemory(model: VqvaeModel, batch: number, machineBytes = totalmem()): MemoryEstimate {
  const e = estimateTrainingMemory(model, batch);
  const budget = machineBytes * MEMORY_BUDGET_FRACTION;
  if (e.totalBytes <= budget) return e;
  const perImage = (e.activationBytes + e.searchBytes) / batch;
  const maxBatch = Math.floor((budget - e.parameterBytes) / perImage);
  const parts = `parameters+optimizer ${gib(e.parameterBytes)}, activations ${gib(e.activationBytes)}, nearest-code search block ${formatShape(e.searchShape)} ${gib(e.searchBytes)}`;
  const fix = maxBatch >= 1
    ? `use --batch ${maxBatch} or less, or a smaller --codebook-size (or a quantizer that searches the codebook in chunks)`
    : `reduce --codebook-size or --dim: the parameters alone do not fit`;
  throw new MemoryBudgetError(`a training step needs about ${gib(e.totalBytes)} (${parts}), more than ${Math.round(MEMORY_BUDGET_FRACTION * 100)}% of this machine's ${gib(machineBytes)}; ${fix}`);
}

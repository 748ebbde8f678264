/** Shared fixtures of the quantizer tests: random data and a float64 brute-force nearest-code search. */
import { Graph } from '../../src/graph/graph.js';
import type { Tensor } from '../../src/graph/tensor.js';
import { Rng } from '../../src/init/rng.js';
import { BuildContext } from '../../src/runtime/build-context.js';
import { CompiledGraph, type TypedData } from '../../src/runtime/session.js';
import type { VariableStore } from '../../src/runtime/variables.js';

export function randomNormal(size: number, rng: Rng, std = 1): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.normal() * std;
  return a;
}

/** Uniform in [−1, 1): cheaper than normals for the very large codebooks. */
export function randomUniform(size: number, rng: Rng): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** Small integers in [−r, r]: every score is computed exactly in float32, so ties are exact. */
export function randomIntegers(size: number, rng: Rng, r: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.int(2 * r + 1) - r;
  return a;
}

/** Squared L2 distance in float64 between row i of z and row k of e. */
export function distance(z: Float32Array, i: number, e: Float32Array, k: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = z[i * d + j]! - e[k * d + j]!;
    s += t * t;
  }
  return s;
}

/** argmin_k ‖z_i − e_k‖² in float64 for the given rows; ties → lowest k. Also returns the minima. */
export function bruteForce(z: Float32Array, e: Float32Array, d: number, rows: readonly number[]): { index: number[]; min: number[] } {
  const k = e.length / d;
  const index: number[] = [];
  const min: number[] = [];
  for (const i of rows) {
    let best = Infinity;
    let arg = -1;
    for (let c = 0; c < k; c++) {
      const s = distance(z, i, e, c, d);
      if (s < best) {
        best = s;
        arg = c;
      }
    }
    index.push(arg);
    min.push(best);
  }
  return { index, min };
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Build a graph with a BuildContext over `store`, compile it with one thread and run it once,
 * feeding the store's variables by name plus `data`.
 */
export async function runOnce(
  store: VariableStore,
  build: (ctx: BuildContext, g: Graph) => Record<string, Tensor>,
  data: Record<string, TypedData>,
  mode: 'train' | 'eval' = 'eval',
): Promise<Record<string, TypedData>> {
  const g = new Graph();
  const ctx = BuildContext.create(g, store, mode);
  const outputs = build(ctx, g);
  const compiled = await CompiledGraph.create(g, outputs, { threads: 1 });
  // Feed only what the compiled graph kept (ONNX drops inputs no output depends on).
  const feeds: Record<string, TypedData> = {};
  for (const spec of compiled.inputs) {
    const v = store.get(spec.name);
    const d = v ? v.value : data[spec.name];
    if (d) feeds[spec.name] = d;
  }
  try {
    return await compiled.run(feeds);
  } finally {
    await compiled.release();
  }
}

export function toNumbers(x: TypedData): number[] {
  return Array.from(x as ArrayLike<number | bigint>, (v) => Number(v));
}

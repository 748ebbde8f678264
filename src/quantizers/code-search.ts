/**
 * `CodeSearch`: the blocked nearest-code search of nearest-code.ts, compiled once for fixed
 * (M, K, d, blocking) and run on plain Float32Arrays — for tokenizing vectors with a codebook
 * outside any model, and for the quantizer benchmark.
 *
 *   const search = await CodeSearch.create({ queries: 8192, codes: 65536, dim: 64 });
 *   const { indices, distances } = await search.run(z, codebook); // z [8192·64], codebook [65536·64]
 *   const tokens = await search.tokenize(manyVectors, codebook);   // any number of vectors
 *
 * Outputs: `indices` int64 [M] (argmin_k ‖z − e_k‖², ties → lowest k) and `distances` float32 [M],
 * the squared L2 distance ‖z − e_k‖² to the chosen code (computed directly from the gathered code,
 * so it includes ‖z‖² and never goes negative by cancellation).
 *
 * Input checks happen here, in JavaScript, before ORT runs: array lengths must match the compiled
 * shapes and every value must be finite (a NaN query has no nearest code, and a NaN code would
 * silently never or always win). Set `checkFinite: false` to skip the O((M + K)·d) scan.
 */
import { Graph } from '../graph/graph.js';
import * as op from '../graph/ops.js';
import { forEachFixedBatch } from '../runtime/fixed-batches.js';
import { CompiledGraph } from '../runtime/session.js';
import { nearestCode, resolveBlocking, type Blocking, type SearchBlocking } from './nearest-code.js';

export interface CodeSearchOptions extends SearchBlocking {
  /** Query vectors per run, M. */
  readonly queries: number;
  /** Codebook size, K. */
  readonly codes: number;
  /** Vector dimension, d. */
  readonly dim: number;
  /** ORT intra-op threads (default 0: ORT's choice). */
  readonly threads?: number | undefined;
  /** Check inputs for NaN/±Infinity before each run (default true). */
  readonly checkFinite?: boolean;
}

export interface CodeSearchResult {
  readonly indices: BigInt64Array;
  readonly distances: Float32Array;
}

export class CodeSearch {
  private constructor(
    private readonly compiled: CompiledGraph,
    readonly queries: number,
    readonly codes: number,
    readonly dim: number,
    readonly blocking: Blocking,
    readonly checkFinite: boolean,
  ) {}

  static async create(o: CodeSearchOptions): Promise<CodeSearch> {
    for (const key of ['queries', 'codes', 'dim'] as const) {
      const v = o[key];
      if (!Number.isInteger(v) || v < 1) throw new Error(`CodeSearch: ${key} must be an integer >= 1, got ${v}`);
    }
    const blocking = resolveBlocking(o.queries, o.codes, o);
    const g = new Graph();
    const z = g.input('queries', [o.queries, o.dim]);
    const e = g.input('codebook', [o.codes, o.dim]);
    const indices = nearestCode(z, e, blocking);
    const diff = op.sub(z, op.gather(e, indices));
    const distances = op.reduceSum(op.mul(diff, diff), 1);
    const compiled = await CompiledGraph.create(g, { indices, distances }, { threads: o.threads, graphName: 'code_search' });
    return new CodeSearch(compiled, o.queries, o.codes, o.dim, blocking, o.checkFinite ?? true);
  }

  /** Milliseconds spent building and compiling the search graph. */
  get compileMs(): number {
    return this.compiled.compileMs;
  }

  /**
   * Nearest codes of exactly M query vectors (`queries`: M·d row-major) in `codebook` (K·d).
   * Pass `into` buffers to reuse memory across runs.
   */
  async run(queries: Float32Array, codebook: Float32Array, into: Partial<CodeSearchResult> = {}): Promise<CodeSearchResult> {
    this.checkArray('queries', queries, this.queries);
    this.checkArray('codebook', codebook, this.codes);
    return this.runUnchecked(queries, codebook, into);
  }

  private async runUnchecked(queries: Float32Array, codebook: Float32Array, into: Partial<CodeSearchResult>): Promise<CodeSearchResult> {
    const buffers: Record<string, BigInt64Array | Float32Array> = {};
    if (into.indices) buffers.indices = into.indices;
    if (into.distances) buffers.distances = into.distances;
    const out = await this.compiled.run({ queries, codebook }, buffers);
    return { indices: out.indices as BigInt64Array, distances: out.distances as Float32Array };
  }

  /**
   * Nearest codes of any number of vectors (`vectors`: n·d row-major), in batches of M; the last
   * batch is padded with copies of its first vector and the padding is dropped from the result.
   */
  async tokenize(vectors: Float32Array, codebook: Float32Array): Promise<CodeSearchResult> {
    const d = this.dim;
    if (vectors.length % d !== 0) throw new Error(`CodeSearch.tokenize: ${vectors.length} values are not a whole number of ${d}-dimensional vectors`);
    const n = vectors.length / d;
    this.checkArray('codebook', codebook, this.codes);
    const indices = new BigInt64Array(n);
    const distances = new Float32Array(n);
    const into: CodeSearchResult = { indices: new BigInt64Array(this.queries), distances: new Float32Array(this.queries) };
    // Padding with a real row keeps the finiteness check meaningful and the distances well defined.
    await forEachFixedBatch(vectors, d, this.queries, async (batch, start, rows) => {
      this.checkArray('vectors', batch.subarray(0, rows * d), rows, start);
      await this.runUnchecked(batch, codebook, into);
      indices.set(into.indices.subarray(0, rows), start);
      distances.set(into.distances.subarray(0, rows), start);
    }, 'first-row');
    return { indices, distances };
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }

  /** Length and finiteness of a row-major [rows, d] array; `firstRow` numbers rows in messages. */
  private checkArray(name: string, data: Float32Array, rows: number, firstRow = 0): void {
    if (!(data instanceof Float32Array)) throw new Error(`CodeSearch: ${name} must be a Float32Array`);
    if (data.length !== rows * this.dim) {
      throw new Error(`CodeSearch: ${name} has ${data.length} values but this search was compiled for ${rows} × ${this.dim} = ${rows * this.dim} (dimension mismatch?)`);
    }
    if (!this.checkFinite) return;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        throw new Error(`CodeSearch: ${name} contains ${data[i]} at row ${firstRow + Math.floor(i / this.dim)}, column ${i % this.dim}; inputs must be finite`);
      }
    }
  }
}

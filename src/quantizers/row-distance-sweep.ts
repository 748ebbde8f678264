/**
 * The squared distances from every row of x [M, d] to one of its rows, approximately and with a
 * bound, on ONNX Runtime: the filter that lets k-means++ seeding (kmeans.ts) measure exactly, on
 * the host, only the rows a new centre can move.
 *
 *   ŝ_i ≈ ‖x_i − x_p‖² = [x_i | ‖x_i‖² | 1] · [−2x_p ; 1 ; ‖x_p‖²],
 *
 * one MatMul [M, d + 2] × [d + 2, 1] in float32, the rows' augmented copy built once. Every operand
 * is exact in float32 but the two squared norms, rounded once from float64, so by the bound of a
 * dot product of n = d + 2 terms in any order (Higham, "Accuracy and Stability of Numerical
 * Algorithms", 2nd ed., §3.1; Σ|terms| ≤ (‖x_i‖ + ‖x_p‖)² by Cauchy–Schwarz)
 *
 *   |ŝ_i − ‖x_i − x_p‖²| ≤ (d + 3)·2⁻²⁴·(‖x_i‖ + ‖x_p‖)²,
 *
 * and `tolerance(i, p)` is four times that. A row whose float64 distance to x_p is below a bound D
 * therefore has ŝ_i ≤ D + tolerance (the host's float64 sum is off by under 10⁻¹³·D, also
 * covered): rows above it are skipped without changing any result. Memory: the augmented rows,
 * M·(d + 2) floats beside x, and M floats out; one pass over them per sweep.
 */
import { Graph } from '../graph/graph.js';
import * as op from '../graph/ops.js';
import { CompiledGraph } from '../runtime/session.js';

export class RowDistanceSweep {
  private readonly point: Float32Array;
  private readonly out: Float32Array;

  private constructor(
    private readonly compiled: CompiledGraph,
    private readonly rows: Float32Array,
    private readonly norms: Float64Array,
    private readonly d: number,
  ) {
    this.point = new Float32Array(d + 2);
    this.out = new Float32Array(norms.length);
  }

  static async create(x: Float32Array, d: number, threads?: number): Promise<RowDistanceSweep> {
    const m = x.length / d;
    const rows = new Float32Array(m * (d + 2));
    const norms = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let normSq = 0;
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j]!;
        rows[i * (d + 2) + j] = v;
        normSq += v * v;
      }
      rows[i * (d + 2) + d] = normSq;
      rows[i * (d + 2) + d + 1] = 1;
      norms[i] = Math.sqrt(normSq);
    }
    const g = new Graph();
    const distances = op.matmul(g.input('rows', [m, d + 2]), g.input('point', [d + 2, 1]));
    const compiled = await CompiledGraph.create(g, { distances }, { threads, graphName: 'row_distance_sweep' });
    return new RowDistanceSweep(compiled, rows, norms, d);
  }

  /** ŝ_i for every row i against row p; the buffer is reused by the next sweep. */
  async from(p: number): Promise<Float32Array> {
    const { d, rows, point } = this;
    for (let j = 0; j < d; j++) point[j] = -2 * rows[p * (d + 2) + j]!;
    point[d] = 1;
    point[d + 1] = rows[p * (d + 2) + d]!;
    await this.compiled.run({ rows, point }, { distances: this.out });
    return this.out;
  }

  /** How far above a row's true squared distance to row p its ŝ may lie (file comment), for rows with distances up to `limit`. */
  tolerance(i: number, p: number, limit: number): number {
    const scale = this.norms[i]! + this.norms[p]!;
    // The floor covers runtimes that flush subnormal results to zero.
    return 4 * (this.d + 3) * 2 ** -24 * scale * scale + 1e-12 * limit + 1e-30;
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}

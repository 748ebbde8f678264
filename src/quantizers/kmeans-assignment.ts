/**
 * Lloyd's assignment step for k-means (kmeans.ts), a_i = argmin_k ‖x_i − μ_k‖² with ties → lowest
 * k, run as blocked MatMuls on ONNX Runtime and still equal, index for index, to the host's float64
 * answer.
 *
 * The host defines the answer: Σ_j (x_ij − μ_kj)² summed in float64, which is what keeps a k-means
 * codebook bit for bit what it was. The runtime scores in float32, in the form of nearest-code.ts,
 *
 *   ŝ(i, k) ≈ s(i, k) = ‖μ_k‖² − 2 x_i·μ_k = ‖x_i − μ_k‖² − ‖x_i‖²,
 *
 * one MatMul of [x_i | 1] against [−2μ_k ; ‖μ_k‖²] (d + 1 terms, each operand rounded once from
 * float64). The error of a dot product of n terms in any summation order is at most γ_n·Σ|terms|,
 * γ_n = n·u/(1 − n·u), u = 2⁻²⁴ (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.,
 * §3.1), and Σ|terms| = Σ_j 2|x_ij||μ_kj| + ‖μ_k‖² ≤ (‖x_i‖ + E)² with E = max_k ‖μ_k‖
 * (Cauchy–Schwarz), so with the operands' own rounding
 *
 *   |ŝ(i, k) − s(i, k)| ≤ ε_i = (d + 2)·u·(‖x_i‖ + E)²,
 *
 * and the host's float64 sums are off by less than 10⁻¹³ of the same scale. The host's winner k*
 * therefore scores ŝ(i, k*) ≤ min_k ŝ(i, k) + 2ε_i + (that), and the search keeps the tolerance
 * τ_i = 4ε_i, twice what is needed:
 *   - one code within τ_i of the row's float32 minimum: it is the minimum and it is k*;
 *   - more than one (near ties, exact ties, duplicate centres), or a non-finite score: the row is
 *     searched again on the host, in float64 with the host's rule, over the blocks holding such
 *     codes. Those rows are few (a row needs two centres within ~10⁻⁵ of its scale), and the
 *     answer never depends on the runtime's summation order or thread count.
 *
 * Memory: the scores of one run are R rows × K' codes with R·K' ≤ 2²⁴ (64 MiB of float32), R at
 * most 1,024, cut into blocks of at most 4,096 codes; a run returns three [R, blocks] matrices
 * (each block's minimum, first index attaining it, and whether a second score lies within τ), and
 * the host combines them. So a K = 65,536 search takes 256 rows a run whatever M is.
 */
import { Graph } from '../graph/graph.js';
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { CompiledGraph } from '../runtime/session.js';
import { groupSizeFor, MAX_EXACT_INDEX } from './nearest-code.js';

/** Most float32 scores one run may hold: 2²⁴ (64 MiB). */
export const MAX_RUN_SCORES = 2 ** 24;
const MAX_RUN_ROWS = 1024;
const BLOCK_CODES = 4096;
const GROUP = 256;

/** Rows per run and codes per block for M rows searched among `codes` distinct centres. */
export interface AssignmentBlocking {
  readonly rows: number;
  readonly blockCodes: number;
}

export function assignmentBlocking(m: number, codes: number): AssignmentBlocking {
  const rows = Math.max(1, Math.min(m, MAX_RUN_ROWS, Math.floor(MAX_RUN_SCORES / codes)));
  return { rows, blockCodes: Math.min(codes, BLOCK_CODES) };
}

/**
 * The graph of one run: queries [R, d + 1] = [x | 1], centres [d + 1, K'] = [−2μ ; ‖μ‖²] and the
 * tolerances τ [R, 1] in; per block b of codes, `minima` (the row's smallest score), `first` (the
 * first local index attaining it, float32, exact below 2²⁴) and `near` (≥ 2 exactly when a second
 * score lies within τ of the minimum), each [R, blocks].
 */
export function assignmentGraph(d: number, codes: number, b: AssignmentBlocking): { graph: Graph; outputs: Record<'minima' | 'first' | 'near', Tensor> } {
  const g = new Graph();
  const queries = g.input('queries', [b.rows, d + 1]);
  const centres = g.input('centres', [d + 1, codes]);
  const tolerance = g.input('tolerance', [b.rows, 1]);
  const minima: Tensor[] = [];
  const first: Tensor[] = [];
  const near: Tensor[] = [];
  for (let s = 0; s < codes; s += b.blockCodes) {
    const w = blockMinimum(op.matmul(queries, op.slice(centres, 1, s, Math.min(codes, s + b.blockCodes))), tolerance);
    minima.push(w.min);
    first.push(w.first);
    near.push(w.near);
  }
  return { graph: g, outputs: { minima: op.concat(minima, 1), first: op.concat(first, 1), near: op.concat(near, 1) } };
}

/** 1 where `x` > `threshold`, else 0 (NaN counts as near, so a NaN row is searched on the host). */
function countAtMost(x: Tensor, threshold: Tensor, axis: number): Tensor {
  return op.reduceSum(op.where(op.greater(x, threshold), 0, 1), axis, true);
}

/**
 * A score block [R, W]'s row minima, first local indices and near-tie indicator, by the two-level
 * argmin of nearest-code.ts (ORT's ArgMin is a scalar loop): group minima, the first group
 * attaining the row minimum, ArgMin within that group. Near: the groups whose minimum is within τ,
 * plus the scores within τ inside the chosen group, minus one — at least 2 exactly when a second
 * score is within τ.
 */
function blockMinimum(scores: Tensor, tolerance: Tensor): { min: Tensor; first: Tensor; near: Tensor } {
  const [rows, width] = scores.shape as [number, number];
  const s = groupSizeFor(width, GROUP);
  if (s === undefined || rows * (width / s) > MAX_EXACT_INDEX) {
    const min = op.reduceMin(scores, 1, true);
    return { min, first: op.cast(op.argMin(scores, 1, true), 'float32'), near: countAtMost(scores, op.add(min, tolerance), 1) };
  }
  const groups = width / s;
  const groupMin = op.reduceMin(op.reshape(scores, [rows, groups, s]), 2); // [rows, groups]
  const min = op.reduceMin(groupMin, 1, true);
  const threshold = op.add(min, tolerance); // [rows, 1]
  const bestGroupF = op.cast(op.argMin(groupMin, 1, true), 'float32');
  const rowBase = scores.graph.constant(Float32Array.from({ length: rows }, (_, i) => i * groups), [rows, 1]);
  const candidates = op.gather(op.reshape(scores, [rows * groups, s]), op.cast(op.add(bestGroupF, rowBase), 'int64')); // [rows, 1, S]
  const within = op.cast(op.argMin(candidates, 2), 'float32'); // [rows, 1]
  const nearGroups = countAtMost(groupMin, threshold, 1);
  const nearWithin = op.reshape(countAtMost(candidates, op.reshape(threshold, [rows, 1, 1]), 2), [rows, 1]);
  return { min, first: op.add(op.mul(bestGroupF, s), within), near: op.sub(op.add(nearGroups, nearWithin), 1) };
}

/**
 * Row i's nearest centre by the host's rule: squared L2 summed in float64 over j = 0..d−1, the
 * first strictly smallest among `candidates` (ascending). A partial sum that reaches the best so far
 * stops early: the remaining terms are ≥ 0 and float addition of them never decreases the sum, so
 * that centre could not have won — the answer and every distance that wins are unchanged.
 */
export function nearestCenter(
  x: Float32Array, i: number, centers: Float64Array | Float32Array, d: number, candidates: ArrayLike<number>, from = 0, to = candidates.length,
): { index: number; distance: number } {
  let best = Infinity;
  let index = candidates[from] ?? 0;
  const row = i * d;
  for (let r = from; r < to; r++) {
    const c = candidates[r]!;
    const base = c * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[row + j]! - centers[base + j]!;
      s += t * t;
      if (s >= best) break;
    }
    if (s < best) {
      best = s;
      index = c;
    }
  }
  return { index, distance: best };
}

/**
 * Assigns the M rows of `x` [M, d] to their nearest centre among `candidates` (ascending indices
 * into `centers` [K, d], float64) through the runtime (file comment). Compiled per number of
 * candidates; `release` frees the session.
 */
export class KmeansAssignment {
  private compiled: CompiledGraph | undefined;
  private compiledCodes = 0;
  private blocking: AssignmentBlocking = { rows: 1, blockCodes: 1 };

  /** Whether every value of x is finite; otherwise every row is searched on the host. */
  private readonly finite: boolean;

  constructor(
    private readonly x: Float32Array,
    private readonly d: number,
    private readonly threads?: number,
  ) {
    this.finite = x.every(Number.isFinite);
  }

  /** Nearest centre of every row, as indices into `centers`. */
  async assign(centers: Float64Array, candidates: Int32Array, into: Int32Array): Promise<Int32Array> {
    const { x, d } = this;
    const m = x.length / d;
    const codes = candidates.length;
    if (!this.finite) {
      for (let i = 0; i < m; i++) into[i] = nearestCenter(x, i, centers, d, candidates).index;
      return into;
    }
    await this.compileFor(m, codes);
    const { rows, blockCodes } = this.blocking;
    const blocks = Math.ceil(codes / blockCodes);
    // [−2μ ; ‖μ‖²] of the candidates, [d + 1, K'] row-major, and E = max ‖μ‖.
    const table = new Float32Array((d + 1) * codes);
    let maxNormSq = 0;
    candidates.forEach((c, col) => {
      let normSq = 0;
      for (let j = 0; j < d; j++) {
        const v = centers[c * d + j]!;
        table[j * codes + col] = -2 * v;
        normSq += v * v;
      }
      table[d * codes + col] = normSq;
      if (!(normSq <= maxNormSq)) maxNormSq = normSq;
    });
    const maxNorm = Math.sqrt(maxNormSq);
    const queries = new Float32Array(rows * (d + 1));
    const tolerance = new Float32Array(rows);
    const slack = (d + 2) * 2 ** -22; // τ_i = 4ε_i = (d + 2)·2⁻²²·(‖x_i‖ + E)²
    for (let start = 0; start < m; start += rows) {
      const count = Math.min(rows, m - start);
      queries.fill(0);
      tolerance.fill(0);
      for (let r = 0; r < count; r++) {
        let normSq = 0;
        for (let j = 0; j < d; j++) {
          const v = x[(start + r) * d + j]!;
          queries[r * (d + 1) + j] = v;
          normSq += v * v;
        }
        queries[r * (d + 1) + d] = 1;
        const scale = Math.sqrt(normSq) + maxNorm;
        // The floor covers runtimes that flush subnormal results to zero.
        tolerance[r] = slack * scale * scale + 1e-30;
      }
      const out = await this.compiled!.run({ queries, centres: table, tolerance });
      const minima = out['minima'] as Float32Array;
      const first = out['first'] as Float32Array;
      const near = out['near'] as Float32Array;
      for (let r = 0; r < count; r++) {
        const i = start + r;
        let bestBlock = 0;
        let best = minima[r * blocks]!;
        for (let b = 1; b < blocks; b++) {
          const v = minima[r * blocks + b]!;
          if (v < best) {
            best = v;
            bestBlock = b;
          }
        }
        const reach = best + tolerance[r]!;
        let clear = Number.isFinite(best) && near[r * blocks + bestBlock] === 1;
        for (let b = 0; b < blocks && clear; b++) if (b !== bestBlock && !(minima[r * blocks + b]! > reach)) clear = false;
        if (clear) {
          into[i] = candidates[bestBlock * blockCodes + first[r * blocks + bestBlock]!]!;
          continue;
        }
        // Near tie: the host's float64 search over the blocks that can hold the winner, in order.
        let bestIndex = -1;
        let bestDistance = Infinity;
        for (let b = 0; b < blocks; b++) {
          if (Number.isFinite(best) && minima[r * blocks + b]! > reach) continue;
          const found = nearestCenter(x, i, centers, d, candidates, b * blockCodes, Math.min(codes, (b + 1) * blockCodes));
          if (bestIndex < 0 || found.distance < bestDistance) {
            bestIndex = found.index;
            bestDistance = found.distance;
          }
        }
        into[i] = bestIndex;
      }
    }
    return into;
  }

  private async compileFor(m: number, codes: number): Promise<void> {
    if (this.compiled && this.compiledCodes === codes) return;
    await this.release();
    this.blocking = assignmentBlocking(m, codes);
    const { graph, outputs } = assignmentGraph(this.d, codes, this.blocking);
    this.compiled = await CompiledGraph.create(graph, outputs, { threads: this.threads, graphName: 'kmeans_assignment' });
    this.compiledCodes = codes;
  }

  async release(): Promise<void> {
    await this.compiled?.release();
    this.compiled = undefined;
  }
}

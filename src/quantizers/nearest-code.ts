/**
 * Nearest-code search, k*(z) = argmin_k ‖z − e_k‖² (ties → lowest k), computed block by block so
 * that memory is O(chunkM·chunkK) instead of O(M·K).
 *
 * Scores. ‖z − e_k‖² = ‖z‖² + ‖e_k‖² − 2 z·e_k. The ‖z‖² term is the same for every k, so it cannot
 * change the argmin and is left out; the minimised score is
 *
 *     s(z, k) = ‖e_k‖² − 2 z·e_k = [z, 1] · [−2e_k, ‖e_k‖²]ᵀ,
 *
 * i.e. one MatMul of the queries augmented with a column of ones against the codebook augmented
 * with its squared norms (inner dimension d + 1). Folding ‖e_k‖² into the product saves a full
 * elementwise pass over every score block.
 *
 * Blocking. Query rows are split into M-blocks and codes into K-blocks. For each (M-block, K-block)
 * one MatMul writes a [chunkM, chunkK] score block, and `blockArgMin` finds each row's best score
 * and the first local index attaining it. The winners of one M-block's K-blocks are combined by an
 * ArgMin over the [chunkM, nK] matrix of block minima, which picks the first (lowest-index) block
 * attaining the row minimum. So the result is exactly "the lowest index among the codes with the
 * smallest score" — index for index the answer of one ArgMin over the whole [M, K] score matrix,
 * because every score is produced by the same MatMul arithmetic whatever the blocking (asserted
 * in test/quantizer-search.test.ts, including planted exact ties across block boundaries).
 *
 * Why block both axes: every score block is written once by the MatMul and read once by the
 * reduction. Blocks of a few MB stay in cache for that read, so the search costs little more than
 * the MatMul's arithmetic, while a plain [M, K] MatMul must stream all M·K outputs to memory
 * (4 GB for the 16,384 × 65,536 benchmark). Default sizes: see `defaultBlocking`.
 *
 * Gradients: the search reads stop-gradient inputs and returns int64 indices; quantizers gather
 * the chosen code afterwards, so blocking never changes a gradient.
 */
import * as op from '../graph/ops.js';
import { GraphError, type Tensor } from '../graph/tensor.js';

export interface SearchBlocking {
  /** Query rows per M-block (default: `defaultBlocking`). Clamped to M. */
  readonly chunkM?: number;
  /** Codes per K-block (default: `defaultBlocking`). Clamped to K. */
  readonly chunkK?: number;
  /**
   * Codes per group in the two-level argmin inside a block (default 256, see `blockArgMin`);
   * 1 disables grouping, so each block is reduced by one plain ArgMin.
   */
  readonly group?: number;
}

/** Resolved block sizes. */
export interface Blocking {
  readonly chunkM: number;
  readonly chunkK: number;
  readonly group: number;
}

const DEFAULT_CHUNK_M = 1024;
const DEFAULT_CHUNK_K = 4096;
const DEFAULT_GROUP = 256;
/** Largest default score block: 16M float32 elements (64 MB). */
const MAX_BLOCK_ELEMENTS = 16 * 1024 * 1024;
/** Above this many blocks the default M-block grows (graph size and compile time grow with it). */
const MAX_DEFAULT_BLOCKS = 256;
/** Indices are combined in float32 arithmetic (there is no int64 Add primitive): exact below 2^24. */
export const MAX_EXACT_INDEX = 2 ** 24;
/** Smallest group worth a two-level argmin; smaller divisors fall back to one ArgMin per block. */
const MIN_GROUP = 16;

/**
 * Default block sizes, measured with `bench/quantize.ts` on a 2-core AMD EPYC (1 MB L2 per core,
 * 32 MB L3): 1024 rows × 4096 codes (a 16 MB score block) ran as fast as any smaller block while
 * keeping the graph small (≈ 15 nodes per block; ORT's compile time grows faster than linearly in
 * the node count). When M·K would need more than 256 such blocks, the M-block doubles (up to
 * 64 MB blocks) to keep the graph and its compile time bounded.
 */
export function defaultBlocking(m: number, k: number): Blocking {
  const chunkK = Math.min(k, DEFAULT_CHUNK_K);
  let chunkM = Math.min(m, DEFAULT_CHUNK_M);
  const blocks = (cm: number): number => Math.ceil(m / cm) * Math.ceil(k / chunkK);
  while (blocks(chunkM) > MAX_DEFAULT_BLOCKS && chunkM < m && 2 * chunkM * chunkK <= MAX_BLOCK_ELEMENTS) chunkM *= 2;
  return { chunkM: Math.min(m, chunkM), chunkK, group: DEFAULT_GROUP };
}

/** Fill in and validate block sizes for an [M, d] × [K, d] search. */
export function resolveBlocking(m: number, k: number, b: SearchBlocking = {}): Blocking {
  const d = defaultBlocking(m, k);
  const checkPositive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new GraphError('nearestCode', `${name} must be an integer >= 1, got ${v}`);
  };
  if (b.chunkM !== undefined) checkPositive('chunkM', b.chunkM);
  if (b.chunkK !== undefined) checkPositive('chunkK', b.chunkK);
  if (b.group !== undefined) checkPositive('group', b.group);
  return { chunkM: Math.min(m, b.chunkM ?? d.chunkM), chunkK: Math.min(k, b.chunkK ?? d.chunkK), group: b.group ?? d.group };
}

/** [−2e | ‖e‖²]ᵀ: the codebook [K, d] as the [d + 1, K] right operand of the score MatMul. */
export function augmentedCodebook(codebook: Tensor): Tensor {
  const e = op.stopGradient(codebook);
  const k = e.shape[0]!;
  const norms = op.reshape(op.reduceSum(op.mul(e, e), 1), [1, k]);
  return op.concat([op.transpose(op.mul(e, -2), [1, 0]), norms], 0);
}

/** [z | 1]: queries [M, d] as the [M, d + 1] left operand of the score MatMul. */
export function augmentedQueries(z: Tensor): Tensor {
  const queries = op.stopGradient(z);
  // The column of ones takes its height from z's own first column instead of recording M, so a
  // graph exported with a dynamic batch (tokenize/batch-free-graph.ts) accepts any number of rows.
  const column = op.slice(queries, 1, 0, 1);
  const ones = op.where(op.equal(column, column), 1, 1);
  return op.concat([queries, ones], 1);
}

function checkSearchInputs(z: Tensor, codebook: Tensor): void {
  if (z.rank !== 2 || codebook.rank !== 2 || z.dtype !== 'float32' || codebook.dtype !== 'float32' || z.shape[1] !== codebook.shape[1]) {
    throw new GraphError(
      'nearestCode',
      `queries must be float32 [M, d] and the codebook float32 [K, d] with the same d, got ${z.toString()} and ${codebook.toString()}`,
    );
  }
  const k = codebook.shape[0]!;
  if (k > MAX_EXACT_INDEX) {
    throw new GraphError('nearestCode', `codebook size ${k} exceeds ${MAX_EXACT_INDEX}, the largest K whose indices the blocked search combines exactly`);
  }
}

/**
 * Indices int64 [M] of the nearest row of `codebook` [K, d] for each row of `z` [M, d] (squared L2,
 * ties → lowest index), searched block by block (see the file comment). With
 * `{ chunkM: M, chunkK: K, group: 1 }` it is the unblocked search: one MatMul and one ArgMin.
 */
export function nearestCode(z: Tensor, codebook: Tensor, blocking: SearchBlocking = {}): Tensor {
  checkSearchInputs(z, codebook);
  const m = z.shape[0]!;
  const k = codebook.shape[0]!;
  const { chunkM, chunkK, group } = resolveBlocking(m, k, blocking);
  const zAug = augmentedQueries(z);
  const eAug = augmentedCodebook(codebook);

  const kBlocks: { start: number; table: Tensor }[] = [];
  for (let s = 0; s < k; s += chunkK) kBlocks.push({ start: s, table: op.slice(eAug, 1, s, Math.min(k, s + chunkK)) });
  const g = z.graph;
  const blockIds = g.constant(BigInt64Array.from(kBlocks, (_, i) => BigInt(i)), [1, kBlocks.length]);
  const offsets = g.constant(Float32Array.from(kBlocks, (b) => b.start), [1, kBlocks.length]);

  const rowsOut: Tensor[] = [];
  for (let r = 0; r < m; r += chunkM) {
    const zBlock = op.slice(zAug, 0, r, Math.min(m, r + chunkM));
    if (kBlocks.length === 1) {
      rowsOut.push(blockArgMin(op.matmul(zBlock, kBlocks[0]!.table), group, false).index!);
      continue;
    }
    const winners = kBlocks.map((b) => blockArgMin(op.matmul(zBlock, b.table), group, true));
    const minMatrix = op.concat(winners.map((w) => w.min!), 1); // [rows, nK]
    const localMatrix = op.concat(winners.map((w) => w.localF!), 1); // [rows, nK], float32
    const bestBlock = op.argMin(minMatrix, 1, true); // [rows, 1]: first block attaining the minimum
    const chosen = op.equal(blockIds, bestBlock); // [rows, nK], one true per row
    // Global indices are ≥ 0, so the max over a row that is −1 except at the chosen block is that
    // block's local index plus its offset. Float32 arithmetic: exact below 2^24 (checked above).
    const picked = op.reduceMax(op.where(chosen, op.add(localMatrix, offsets), -1), 1);
    rowsOut.push(op.cast(picked, 'int64'));
  }
  return op.concat(rowsOut, 0);
}

interface BlockWinner {
  /** First local index attaining the minimum, int64 [rows] (single-block searches). */
  readonly index?: Tensor;
  /** Row minima [rows, 1] (multi-block searches). */
  readonly min?: Tensor;
  /** First local index attaining the minimum, as float32 [rows, 1] (multi-block searches). */
  readonly localF?: Tensor;
}

/**
 * First index of each row's minimum in a score block [R, W], and that minimum.
 *
 * ONNX Runtime's ArgMin is a scalar loop (Eigen minCoeff with an index, several times slower per
 * element than its vectorized ReduceMin: 0.57 s vs 0.04 s for the benchmark's 10⁹ scores on 2 threads). So the
 * block is cut into groups of S consecutive codes: one ReduceMin pass gives every group's minimum
 * [R, W/S]; an ArgMin over those picks the first group attaining the row minimum; and only that
 * group's S scores (one gathered row per query) go through ArgMin. The first group attaining the
 * minimum holds the first index attaining it, so this equals ArgMin over the whole row, ties
 * included, using the very same score values.
 */
function blockArgMin(scores: Tensor, group: number, combine: boolean): BlockWinner {
  const [rows, width] = scores.shape as [number, number];
  const s = groupSizeFor(width, group);
  // The gathered row index r·groups + g is float32 arithmetic; blocks too large for it to be exact
  // (only reachable with explicit huge chunk sizes) use the plain ArgMin.
  if (s === undefined || rows * (width / s) > MAX_EXACT_INDEX) {
    if (!combine) return { index: op.argMin(scores, 1) };
    return { min: op.reduceMin(scores, 1, true), localF: op.cast(op.argMin(scores, 1, true), 'float32') };
  }
  const groups = width / s;
  const groupMin = op.reduceMin(op.reshape(scores, [rows, groups, s]), 2); // [rows, groups]
  const bestGroupF = op.cast(op.argMin(groupMin, 1, true), 'float32'); // [rows, 1]
  // Row r's chosen group is row r·groups + bestGroup[r] of the [rows·groups, S] view.
  const rowBase = scores.graph.constant(Float32Array.from({ length: rows }, (_, i) => i * groups), [rows, 1]);
  const flat = op.cast(op.add(bestGroupF, rowBase), 'int64'); // [rows, 1]
  const candidates = op.gather(op.reshape(scores, [rows * groups, s]), flat); // [rows, 1, S]
  const within = op.cast(op.argMin(candidates, 2), 'float32'); // [rows, 1]
  const localF = op.add(op.mul(bestGroupF, s), within);
  if (!combine) return { index: op.reshape(op.cast(localF, 'int64'), [rows]) };
  return { min: op.reduceMin(groupMin, 1, true), localF };
}

/**
 * The group size for a block `width` codes wide: the largest divisor of `width` that is ≤ `group`
 * and ≥ 16, or undefined (one plain ArgMin) when the block is a single group.
 */
export function groupSizeFor(width: number, group: number): number | undefined {
  if (width <= group || group < MIN_GROUP) return undefined;
  for (let s = group; s >= MIN_GROUP; s--) if (width % s === 0) return s;
  return undefined;
}

/**
 * k-means initialization of a codebook from encoder outputs (the `kmeans_init` of
 * vector-quantize-pytorch; used for VQ codebooks since Łańcucki et al., 2020, "Robust Training of
 * Vector Quantized Bottleneck Models", §3.2, which shows that data-dependent initialization
 * avoids the early collapse of a randomly placed codebook).
 *
 * Lloyd's algorithm on the vectors x_1..x_M [M, d], started by k-means++ seeding (Arthur &
 * Vassilvitskii, 2007, "k-means++: The Advantages of Careful Seeding", §2.2):
 *
 *   μ_1 ← a seeded uniform choice of row;  μ_k ← row i with probability ∝ D(x_i)², the squared
 *                                           distance to the nearest centre chosen so far, so
 *                                           well-separated clusters each get a centre
 *   repeat `iterations` times:
 *     a_i = argmin_k ‖x_i − μ_k‖²           assignment (ties → lowest k)
 *     μ_k ← mean{x_i : a_i = k}             update; a cluster left empty keeps its centre
 *
 * Each iteration cannot increase Σ_i ‖x_i − μ_{a_i}‖² (the standard monotonicity of Lloyd's
 * algorithm), and the start is itself a set of data points, so the first batch is quantized
 * better than by a random codebook (asserted in test/quantizer-options.test.ts). The result is
 * defined by host arithmetic: distances Σ_j (x_ij − μ_kj)² and means summed in float64, in row
 * order. The work is M·K·d multiply-adds for the seeding and for each iteration (≈ 2.7·10¹¹ at
 * M = K = 65,536, d = 64), too much for scalar JavaScript: on a 2-vCPU AMD EPYC (AVX-512) shared
 * with other jobs, 68 s for the seeding and 41 s per iteration at K = 4,096, M = 65,536 (medians of
 * 3), so 2 to 4 hours at K = 65,536 with 10 iterations. Both run on ONNX Runtime instead (there:
 * 14 s and about 2 s at K = 4,096; 7.6 min and 28 s per iteration at K = 65,536, 12 min in all,
 * N(0, 1) vectors), as float32 MatMuls that only decide which float64 sums to take, never their
 * values:
 *  - seeding: each new centre's approximate distances to every row (row-distance-sweep.ts) skip
 *    the rows it cannot move by more than their rounding bound; the others are measured here;
 *  - assignment: blocked float32 scores give each row's nearest centre, and a row with a second
 *    centre within the rounding bound is searched again here (kmeans-assignment.ts);
 * and a float64 distance stops early once it reaches the bound it is compared with (its terms are
 * ≥ 0). So the centres are bit for bit those of the plain host algorithm, whatever the runtime's
 * summation order or thread count (test/kmeans.test.ts).
 *
 * More codes than vectors (K > M, e.g. K = 65,536 against one batch's 6,272 latents) make most
 * centres copies: seeding runs out of distinct rows after at most M centres, and every later centre
 * repeats a row. Two shortcuts keep that case cheap and leave every result bit for bit as above:
 *  - seeding stops measuring distances once every row is a centre (all D(x_i) = 0): the remaining
 *    choices are uniform, and the random draws happen in the same order either way;
 *  - an assignment skips a centre equal to an earlier one: its distance would be the very same
 *    float64 sum, which never beats the earlier centre under "ties → lowest k".
 */
import { Rng } from '../init/rng.js';
import { KmeansAssignment, nearestCenter } from './kmeans-assignment.js';
import { RowDistanceSweep } from './row-distance-sweep.js';

/** Seeded choice of `k` row indices of `m` rows: distinct when m ≥ k (partial Fisher–Yates). */
export function chooseRows(m: number, k: number, rng: Rng): number[] {
  if (m >= k) {
    const order = Array.from({ length: m }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(m - i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, k);
  }
  return Array.from({ length: k }, () => rng.int(m));
}

/**
 * Cluster centres [K, d] of the rows of `x` ([M, d] row-major) after `iterations` Lloyd steps. The
 * assignments run on the runtime (kmeans-assignment.ts), equal to the host's float64 ones; `threads`
 * is its intra-op thread count (default: the runtime's choice), which changes no result.
 */
export async function kmeans(x: Float32Array, d: number, k: number, iterations: number, seed: number, threads?: number): Promise<Float32Array> {
  const m = x.length / d;
  if (!Number.isInteger(m) || m < 1) throw new Error(`kmeans: ${x.length} values are not a whole number of ${d}-dimensional vectors`);
  const centers = await seedCenters(x, d, k, new Rng(seed), threads);
  if (iterations === 0) return Float32Array.from(centers);
  const sums = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  const nearest = new Int32Array(m);
  const assignment = new KmeansAssignment(x, d, threads);
  try {
    for (let it = 0; it < iterations; it++) {
      sums.fill(0);
      sizes.fill(0);
      await assignment.assign(centers, firstOccurrences(centers, k, d), nearest);
      for (let i = 0; i < m; i++) {
        const index = nearest[i]!;
        sizes[index]! += 1;
        for (let j = 0; j < d; j++) sums[index * d + j]! += x[i * d + j]!;
      }
      for (let c = 0; c < k; c++) {
        if (sizes[c] === 0) continue;
        for (let j = 0; j < d; j++) centers[c * d + j] = sums[c * d + j]! / sizes[c]!;
      }
    }
  } finally {
    await assignment.release();
  }
  return Float32Array.from(centers);
}

/**
 * The centres [K, d] that equal no earlier centre, ascending: the only ones an assignment can pick.
 * Rows are bucketed by a hash of their bits and compared value by value within a bucket.
 */
function firstOccurrences(centers: Float64Array, k: number, d: number): Int32Array {
  const words = new Uint32Array(centers.buffer, centers.byteOffset, k * d * 2);
  const buckets = new Map<number, number[]>();
  const keep: number[] = [];
  const equalRows = (a: number, b: number): boolean => {
    for (let j = 0; j < d; j++) if (centers[a * d + j] !== centers[b * d + j]) return false;
    return true;
  };
  for (let c = 0; c < k; c++) {
    let h = 0x811c9dc5; // FNV-1a over the row's 32-bit words
    for (let w = c * 2 * d; w < (c + 1) * 2 * d; w++) h = Math.imul(h ^ words[w]!, 0x01000193);
    const bucket = buckets.get(h);
    if (bucket?.some((e) => equalRows(e, c))) continue;
    if (bucket) bucket.push(c);
    else buckets.set(h, [c]);
    keep.push(c);
  }
  return Int32Array.from(keep);
}

/**
 * k-means++ seeding (file comment): M·K·d work, once. With fewer than K distinct rows, repeats.
 * Each new centre is a row of x, so the runtime's distances from it to every row (with their bound,
 * row-distance-sweep.ts) pick out the rows it can move; only those are measured in float64 here,
 * so every D(x_i) is the same float64 sum as when measuring all rows.
 */
async function seedCenters(x: Float32Array, d: number, k: number, rng: Rng, threads?: number): Promise<Float64Array> {
  const m = x.length / d;
  const centers = new Float64Array(k * d);
  let last = 0; // the row the latest centre was taken from
  const take = (row: number, c: number): void => {
    for (let j = 0; j < d; j++) centers[c * d + j] = x[row * d + j]!;
    last = row;
  };
  take(rng.int(m), 0);
  const nearest = new Float64Array(m).fill(Infinity);
  let exhausted = false; // every row is a centre: all D(x_i) are 0, and stay 0
  const sweep = k > 1 ? await RowDistanceSweep.create(x, d, threads) : undefined;
  try {
    for (let c = 1; c < k; c++) {
      let total = 0;
      if (!exhausted) {
        const approx = await sweep!.from(last);
        const base = (c - 1) * d;
        for (let i = 0; i < m; i++) {
          const bound = nearest[i]!;
          // A row with D(x_i) = 0 cannot move; one whose approximate distance is above D(x_i) by
          // more than its error bound cannot either (rows with NaN pass on to be measured).
          if (bound > 0 && !(approx[i]! > bound + sweep!.tolerance(i, last, bound))) {
            // Stops once the partial sum reaches D(x_i): the rest are ≥ 0 terms, so no update (as
            // in nearestCenter), and every D(x_i) that changes is the same float64 sum as in full.
            let s = 0;
            for (let j = 0; j < d; j++) {
              const t = x[i * d + j]! - centers[base + j]!;
              s += t * t;
              if (s >= bound) break;
            }
            if (s < bound) nearest[i] = s;
          }
          total += nearest[i]!;
        }
        exhausted = total === 0;
      }
      let row = rng.int(m);
      if (total > 0) {
        let target = rng.uniform() * total;
        for (let i = 0; i < m; i++) {
          target -= nearest[i]!;
          if (target < 0) {
            row = i;
            break;
          }
        }
      }
      take(row, c);
    }
  } finally {
    await sweep?.release();
  }
  return centers;
}

/** Mean over rows of min_k ‖x_i − μ_k‖²: the quantization error of `x` against `centers`. */
export function quantizationError(x: Float32Array, centers: Float32Array, d: number): number {
  const m = x.length / d;
  const all = Int32Array.from({ length: centers.length / d }, (_, c) => c);
  let total = 0;
  for (let i = 0; i < m; i++) total += nearestCenter(x, i, centers, d, all).distance;
  return total / m;
}

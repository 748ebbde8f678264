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
 * better than by a random codebook (asserted in test/quantizer-options.test.ts). Runs on the host
 * in float64 accumulation: M·K·d multiply-adds per iteration (≈ 0.4·10⁹ for the MNIST default
 * of M = 6,272, K = 1,024, d = 64), once per training run.
 */
import { Rng } from '../init/rng.js';

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

/** Index of the nearest row of `centers` [K, d] to row i of `x` (squared L2, ties → lowest). */
function nearestRow(x: Float32Array, i: number, centers: Float64Array | Float32Array, k: number, d: number): { index: number; distance: number } {
  let best = Infinity;
  let index = 0;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[i * d + j]! - centers[c * d + j]!;
      s += t * t;
    }
    if (s < best) {
      best = s;
      index = c;
    }
  }
  return { index, distance: best };
}

/** Cluster centres [K, d] of the rows of `x` ([M, d] row-major) after `iterations` Lloyd steps. */
export function kmeans(x: Float32Array, d: number, k: number, iterations: number, seed: number): Float32Array {
  const m = x.length / d;
  if (!Number.isInteger(m) || m < 1) throw new Error(`kmeans: ${x.length} values are not a whole number of ${d}-dimensional vectors`);
  const centers = seedCenters(x, d, k, new Rng(seed));
  const sums = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  for (let it = 0; it < iterations; it++) {
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < m; i++) {
      const { index } = nearestRow(x, i, centers, k, d);
      sizes[index]! += 1;
      for (let j = 0; j < d; j++) sums[index * d + j]! += x[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) continue;
      for (let j = 0; j < d; j++) centers[c * d + j] = sums[c * d + j]! / sizes[c]!;
    }
  }
  return Float32Array.from(centers);
}

/** k-means++ seeding (file comment): M·K·d work, once. With fewer than K distinct rows, repeats. */
function seedCenters(x: Float32Array, d: number, k: number, rng: Rng): Float64Array {
  const m = x.length / d;
  const centers = new Float64Array(k * d);
  const take = (row: number, c: number): void => {
    for (let j = 0; j < d; j++) centers[c * d + j] = x[row * d + j]!;
  };
  take(rng.int(m), 0);
  const nearest = new Float64Array(m).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = x[i * d + j]! - centers[(c - 1) * d + j]!;
        s += t * t;
      }
      if (s < nearest[i]!) nearest[i] = s;
      total += nearest[i]!;
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
  return centers;
}

/** Mean over rows of min_k ‖x_i − μ_k‖²: the quantization error of `x` against `centers`. */
export function quantizationError(x: Float32Array, centers: Float32Array, d: number): number {
  const m = x.length / d;
  const k = centers.length / d;
  let total = 0;
  for (let i = 0; i < m; i++) total += nearestRow(x, i, centers, k, d).distance;
  return total / m;
}

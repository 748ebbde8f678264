/**
 * Codebook usage diagnostics: exact per-code counts accumulated over a dataset or an epoch.
 *
 * Every quantizer outputs `counts` (float32 [K], how many vectors of the batch chose each code;
 * exact integers up to 2^24 per batch). `CodeUsage` sums them in float64 — exact up to 2^53 — and
 * derives:
 *
 *   utilization  = |{k : c_k ≥ 1}| / K                    fraction of codes used at least once
 *   perplexity   = exp(H),  H = −Σ_k p_k ln p_k,  p = c/Σc  effective number of codes in use
 *                  (1 when one code takes everything, K when usage is uniform; VQ-VAE-2, Jukebox)
 *   effective bits = log2(perplexity) = H / ln 2           bits an index carries (log2 K when uniform)
 *   codes covering q % = the fewest codes whose counts sum to ≥ q % of all latents (the largest
 *                  counts first): tells a book spread over many codes from one where a few carry
 *                  most latents and the rest are used a handful of times each, which utilization
 *                  and perplexity alone can confuse
 *   dead codes   = {k : c_k = 0}
 *   histogram    = the counts sorted in descending order (a rank-frequency curve, as data)
 *
 * Typical use: `const usage = new CodeUsage(K)`; after each batch `usage.add(metrics.counts)`;
 * at the end of the epoch read the statistics, then `usage.reset()`. Accumulators of several
 * workers or shards combine with `merge`.
 */
import type { Quantizer } from './quantizer.js';

export interface CodeUsageSummary {
  readonly codebookSize: number;
  /** Number of vectors counted. */
  readonly total: number;
  readonly usedCodes: number;
  readonly utilization: number;
  readonly perplexity: number;
  /** Entropy of the usage distribution in nats. */
  readonly entropy: number;
}

/**
 * The fewest codes whose counts, largest first, sum to at least `percent` % of the total (0 when
 * nothing was counted). `percent` is an integer in [1, 100], so the comparison 100·Σ ≥ percent·total
 * is exact for integer counts.
 */
function codesCovering(counts: ArrayLike<number>, percent: number): number {
  if (!(Number.isInteger(percent) && percent >= 1 && percent <= 100)) throw new Error(`codesCovering: percent must be an integer in [1, 100], got ${percent}`);
  const sorted = Float64Array.from(counts).sort().reverse();
  const total = sorted.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let sum = 0;
  for (let n = 0; n < sorted.length; n++) {
    sum += sorted[n]!;
    if (100 * sum >= percent * total) return n + 1;
  }
  return sorted.length;
}

export class CodeUsage {
  /** Accumulated counts per code. */
  readonly counts: Float64Array;
  private totalCount = 0;

  constructor(readonly codebookSize: number) {
    if (!Number.isInteger(codebookSize) || codebookSize < 1) throw new Error(`CodeUsage: codebook size must be an integer >= 1, got ${codebookSize}`);
    this.counts = new Float64Array(codebookSize);
  }

  /** An accumulator sized for `quantizer`'s codebook. */
  static for(quantizer: Pick<Quantizer, 'codebookSize'>): CodeUsage {
    return new CodeUsage(quantizer.codebookSize);
  }

  /** Number of vectors counted so far. */
  get total(): number {
    return this.totalCount;
  }

  /** Add one batch's `counts` output ([K] non-negative integers, as the quantizers produce them). */
  add(batchCounts: ArrayLike<number>): this {
    if (batchCounts.length !== this.codebookSize) {
      throw new Error(`CodeUsage.add: counts have ${batchCounts.length} entries but the codebook has ${this.codebookSize} codes`);
    }
    // Validate the whole batch before changing anything, so a bad batch leaves the totals intact.
    let sum = 0;
    for (let k = 0; k < batchCounts.length; k++) {
      const c = batchCounts[k]!;
      if (!(Number.isInteger(c) && c >= 0)) throw new Error(`CodeUsage.add: count of code ${k} is ${c}; counts must be non-negative integers`);
      sum += c;
    }
    for (let k = 0; k < batchCounts.length; k++) this.counts[k]! += batchCounts[k]!;
    this.totalCount += sum;
    return this;
  }

  /** Count chosen indices directly (e.g. a tokenizer's output). */
  addIndices(indices: BigInt64Array | ArrayLike<number>): this {
    const k = this.codebookSize;
    const local = new Float64Array(k);
    for (let i = 0; i < indices.length; i++) {
      const v = Number(indices[i]!);
      if (!(Number.isInteger(v) && v >= 0 && v < k)) throw new Error(`CodeUsage.addIndices: index ${v} at position ${i} is outside [0, ${k})`);
      local[v]! += 1;
    }
    return this.add(local);
  }

  /** Add another accumulator's counts (same K) to this one. */
  merge(other: CodeUsage): this {
    if (other.codebookSize !== this.codebookSize) {
      throw new Error(`CodeUsage.merge: cannot merge usage of ${other.codebookSize} codes into usage of ${this.codebookSize} codes`);
    }
    for (let k = 0; k < this.codebookSize; k++) this.counts[k]! += other.counts[k]!;
    this.totalCount += other.totalCount;
    return this;
  }

  reset(): this {
    this.counts.fill(0);
    this.totalCount = 0;
    return this;
  }

  /** Number of codes used at least once. */
  usedCodes(): number {
    let n = 0;
    for (const c of this.counts) if (c > 0) n++;
    return n;
  }

  /** Fraction of codes used at least once, in [0, 1]. */
  utilization(): number {
    return this.usedCodes() / this.codebookSize;
  }

  /** −Σ p log p in nats (0 when nothing was counted). */
  entropy(): number {
    if (this.totalCount === 0) return 0;
    let h = 0;
    for (const c of this.counts) {
      if (c > 0) {
        const p = c / this.totalCount;
        h -= p * Math.log(p);
      }
    }
    return h;
  }

  /** exp(entropy): between 1 and K once something was counted; 0 before anything was counted. */
  perplexity(): number {
    return this.totalCount === 0 ? 0 : Math.exp(this.entropy());
  }

  /** log2(perplexity): the bits of information an index carries (0 before anything was counted). */
  effectiveBits(): number {
    return this.entropy() / Math.LN2;
  }

  /** The fewest codes that together take at least `percent` % of the latents counted (see `codesCovering`). */
  codesCovering(percent: number): number {
    return codesCovering(this.counts, percent);
  }

  /** Indices of the codes never used, ascending. */
  deadCodes(): number[] {
    const dead: number[] = [];
    this.counts.forEach((c, k) => {
      if (c === 0) dead.push(k);
    });
    return dead;
  }

  /** The counts sorted in descending order (the rank-frequency curve), as a new array. */
  histogram(): Float64Array {
    return Float64Array.from(this.counts).sort().reverse();
  }

  summary(): CodeUsageSummary {
    return {
      codebookSize: this.codebookSize,
      total: this.totalCount,
      usedCodes: this.usedCodes(),
      utilization: this.utilization(),
      perplexity: this.perplexity(),
      entropy: this.entropy(),
    };
  }
}

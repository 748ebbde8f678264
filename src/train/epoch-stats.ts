/**
 * Per-epoch accumulation of the step metrics: mean of every loss term over the epoch's steps, the
 * exact per-code counts (summed from each step's `counts` in a `CodeUsage`), from which the
 * epoch's code utilization, perplexity and dead codes follow, and the codes re-seeded between steps.
 */
import type { EpochProgress } from '../persistence/checkpoint.js';
import { CodeUsage } from '../quantizers/usage.js';

export class EpochStats {
  private readonly sums = new Map<string, number>();
  private steps = 0;
  private reseeded = 0;
  readonly usage: CodeUsage;

  constructor(codebookSize: number) {
    this.usage = new CodeUsage(codebookSize);
  }

  /** One step: its loss terms, its per-code counts, and the codes its host step re-seeded. */
  add(losses: Readonly<Record<string, number>>, counts: Float32Array, reseededCodes = 0): void {
    for (const [k, v] of Object.entries(losses)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    this.usage.add(counts);
    this.reseeded += reseededCodes;
    this.steps++;
  }

  /** The totals so far, to save in a mid-epoch checkpoint. */
  progress(stepMs: number): EpochProgress {
    return { steps: this.steps, lossSums: Object.fromEntries(this.sums), codeCounts: Array.from(this.usage.counts), reseededCodes: this.reseeded, stepMs };
  }

  /** Totals saved by `progress`, so the resumed epoch reports the same means and usage. */
  static restore(codebookSize: number, p: EpochProgress): EpochStats {
    const stats = new EpochStats(codebookSize);
    for (const [k, v] of Object.entries(p.lossSums)) stats.sums.set(k, v);
    if (p.codeCounts.length === codebookSize && p.steps > 0) stats.usage.add(p.codeCounts);
    stats.steps = p.steps;
    stats.reseeded = p.reseededCodes ?? 0;
    return stats;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Codes re-seeded by the quantizer's host step over the epoch's steps so far. */
  get reseededCodes(): number {
    return this.reseeded;
  }

  /** Mean of each loss term over the steps so far. */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.sums) out[k] = v / Math.max(1, this.steps);
    return out;
  }
}

/** Share of codes with a non-zero count in one batch's counts. */
export function batchUtilization(counts: Float32Array): number {
  let used = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) used++;
  return used / counts.length;
}

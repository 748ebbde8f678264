/**
 * The metrics that tell a codebook spread over many codes from one where a few codes carry most
 * latents (eval/evaluator.ts): effective bits, log2(perplexity), and the fewest codes covering 50 %
 * and 90 % of the latents. Results written before they were recorded lack the keys; for the test
 * set they are recomputed exactly from what such a file does keep (the perplexity and the sorted
 * per-code counts `usage`), for the training set only effective bits can be (its counts are not
 * kept), and the coverage counts stay missing rather than guessed.
 */
import { codesCoveringRuns } from './count-runs.js';
import type { RunResult } from './types.js';

export type CoveragePercent = 50 | 90;

/** log2 of the test-set perplexity. */
export function testEffectiveBits(r: RunResult): number {
  return r.metrics.effective_bits ?? Math.log2(r.metrics.perplexity);
}

/** The fewest codes taking `percent` % of the test latents. */
export function testCodesCovering(r: RunResult, percent: CoveragePercent): number {
  return r.metrics[`codes_covering_${percent}`] ?? codesCoveringRuns(r.usage, percent);
}

/** log2 of the training-set perplexity; null when the training set was not measured. */
export function trainSetEffectiveBits(r: RunResult): number | null {
  const t = r.metrics.train_set;
  return t === undefined ? null : t.effective_bits ?? Math.log2(t.perplexity);
}

/** The fewest codes taking `percent` % of the training latents; null when the result does not record it. */
export function trainSetCodesCovering(r: RunResult, percent: CoveragePercent): number | null {
  return r.metrics.train_set?.[`codes_covering_${percent}`] ?? null;
}

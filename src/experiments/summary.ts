/**
 * Aggregation of runs across seeds: for each (variant, x) cell — x being K, β or whatever the
 * experiment sweeps — the mean ± std of every reported metric. Tables and figures both read these
 * cells, so they always show the same numbers.
 */
import { TRAIN_UTILIZATION_KEY } from './metrics-log.js';
import { codebookSizeOf, gridPointOf } from './run-quantizer.js';
import { testCodesCovering, testEffectiveBits, trainSetCodesCovering, trainSetEffectiveBits } from './spread-metrics.js';
import { groupBy, summarize, type Summary } from './stats.js';
import type { RunResult } from './types.js';

export interface MetricDef {
  readonly key: string;
  /** Whether the full table and the HTML report show it for these runs; always when absent. */
  readonly shownFor?: (runs: readonly RunResult[]) => boolean;
  /** Column / axis label, with unit. */
  readonly label: string;
  readonly digits: number;
  readonly get: (r: RunResult) => number | null;
}

/** A value from the last epoch of the training log (scaled), or null when it was not logged. */
function lastEpochValue(r: RunResult, key: string, scale = 1): number | null {
  const v = r.curves[r.curves.length - 1]?.values[key];
  return v === undefined ? null : v * scale;
}

/** Codes with a nonzero count in the run's test-set usage (exact; independent of the nominal K). */
function usedTestCodes(r: RunResult): number {
  return r.usage.reduce((n, [count, repeat]) => n + (count > 0 ? repeat : 0), 0);
}

/**
 * Codes the run's quantizer has, which utilization is a share of. Differs from the nominal K where a
 * quantizer can only approximate it: FSQ's levels multiply to 1,000 for 1,024, 4,375 for 4,096,
 * 15,360 for 16,384 and 64,000 for 65,536 (FSQ_LEVELS_FOR_SIZE).
 */
function codebookCodes(r: RunResult): number {
  return codebookSizeOf(r.spec.quantizer);
}

/** Where some run has the metric (the speech metrics), so image reports keep their columns. */
function wherePresent(get: MetricDef['get']): (runs: readonly RunResult[]) => boolean {
  return (runs) => runs.some((r) => get(r) !== null);
}

function speechMetric(key: string, label: string, digits: number, get: MetricDef['get']): MetricDef {
  return { key, label, digits, get, shownFor: wherePresent(get) };
}

export const METRICS: readonly MetricDef[] = [
  // Where it says more than the K column: some quantizer only approximates its K.
  { key: 'codes', label: 'codes in the codebook', digits: 0, get: codebookCodes, shownFor: (runs) => runs.some((r) => codebookCodes(r) !== gridPointOf(r.spec).codebookSize) },
  // Two decimals: at K = 65,536 a handful of used codes is a few hundredths of a percent.
  { key: 'utilization', label: 'test utilization (%)', digits: 2, get: (r) => 100 * r.metrics.utilization },
  { key: 'usedCodes', label: 'test used codes', digits: 0, get: usedTestCodes },
  // The final model over every training image: not capped by the test set's sample size.
  { key: 'trainUtilization', label: 'train-set utilization (%)', digits: 2, get: (r) => (r.metrics.train_set ? 100 * r.metrics.train_set.utilization : null) },
  { key: 'trainUsedCodes', label: 'train-set used codes', digits: 0, get: (r) => r.metrics.train_set?.used_codes ?? null },
  // Codes chosen at least once by the last epoch's training batches (a codebook still moving).
  { key: 'epochUtilization', label: 'last-epoch utilization (%)', digits: 2, get: (r) => lastEpochValue(r, TRAIN_UTILIZATION_KEY, 100) },
  { key: 'perplexity', label: 'perplexity', digits: 1, get: (r) => r.metrics.perplexity },
  // Spread versus collapse (spread-metrics.ts): few codes covering most latents is a skewed book
  // however many codes are used once.
  { key: 'effectiveBits', label: 'effective bits', digits: 2, get: testEffectiveBits },
  { key: 'codes50', label: 'codes for 50 % of test latents', digits: 0, get: (r) => testCodesCovering(r, 50) },
  { key: 'codes90', label: 'codes for 90 % of test latents', digits: 0, get: (r) => testCodesCovering(r, 90) },
  { key: 'trainPerplexity', label: 'train-set perplexity', digits: 1, get: (r) => r.metrics.train_set?.perplexity ?? null },
  { key: 'trainEffectiveBits', label: 'train-set effective bits', digits: 2, get: trainSetEffectiveBits },
  { key: 'trainCodes50', label: 'codes for 50 % of train latents', digits: 0, get: (r) => trainSetCodesCovering(r, 50) },
  { key: 'trainCodes90', label: 'codes for 90 % of train latents', digits: 0, get: (r) => trainSetCodesCovering(r, 90) },
  { key: 'deadCodes', label: 'dead codes', digits: 0, get: (r) => r.metrics.dead_codes },
  { key: 'mse', label: 'test MSE', digits: 5, get: (r) => r.metrics.mse },
  { key: 'psnr', label: 'PSNR (dB)', digits: 2, get: (r) => r.metrics.psnr },
  { key: 'ssim', label: 'SSIM', digits: 3, get: (r) => r.metrics.ssim },
  // Speech runs (SimVQ's Table 2): means over the test utterances.
  speechMetric('stoi', 'STOI', 3, (r) => r.metrics.stoi ?? null),
  speechMetric('siSnr', 'SI-SNR (dB)', 2, (r) => r.metrics.si_snr ?? null),
  speechMetric('melDistance', 'mel distance', 3, (r) => r.metrics.mel_distance ?? null),
  // Less than the cap when --until-plateau stopped the run early.
  { key: 'epochs', label: 'epochs trained', digits: 0, get: (r) => r.curves[r.curves.length - 1]?.epoch ?? null },
  { key: 'trainSeconds', label: 'train time (s)', digits: 0, get: (r) => r.timing.train_seconds },
];

/** The METRICS that `runs` report: all but those whose `shownFor` these runs fail. */
export function metricsOf(runs: readonly RunResult[]): MetricDef[] {
  return METRICS.filter((m) => m.shownFor === undefined || m.shownFor(runs));
}

export function metric(key: string): MetricDef {
  const m = METRICS.find((d) => d.key === key);
  if (!m) throw new Error(`unknown metric '${key}'; choose from ${METRICS.map((d) => d.key).join(', ')}`);
  return m;
}

export interface Cell {
  readonly variant: string;
  readonly x: number;
  readonly runs: readonly RunResult[];
  readonly stats: Readonly<Record<string, Summary>>;
}

/** Cells in the order variants and x values first appear in `runs` (the plan's order). */
export function aggregate(runs: readonly RunResult[], xOf: (r: RunResult) => number): Cell[] {
  const groups = groupBy(runs, (r) => `${r.spec.variant}\u0000${xOf(r)}`);
  return [...groups.values()].map((rs) => {
    const stats: Record<string, Summary> = {};
    for (const m of METRICS) stats[m.key] = summarize(rs.map(m.get));
    return { variant: rs[0]!.spec.variant, x: xOf(rs[0]!), runs: rs, stats };
  });
}

/**
 * Figures for a single run: its training loss terms per epoch, and its sorted per-code usage on the
 * test set. They sit next to the run's reconstruction grid in the report.
 */
import { lossKeys } from './metrics-log.js';
import { gridPointOf } from './run-quantizer.js';
import type { RunResult } from './types.js';
import type { AxisSpec } from '../report/axis.js';
import { lineChart } from '../report/line-chart.js';
import { usageChart } from '../report/usage-chart.js';

const SMALL = { width: 420, height: 260 } as const;

export function runLabel(r: RunResult): string {
  const { codebookSize, beta } = gridPointOf(r.spec);
  return `${r.spec.variant}, K=${codebookSize}, β=${beta}, seed ${r.spec.seed}`;
}

/** Every logged loss term per epoch on a log-scale y axis (the terms differ by orders of magnitude). */
export function lossCurveSvg(r: RunResult): string {
  const keys = lossKeys(r.curves);
  const epochs = r.curves.map((c) => c.epoch);
  const lo = Math.min(...epochs, Infinity);
  const hi = Math.max(...epochs, -Infinity);
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 8));
  const x: AxisSpec = epochs.length
    ? { label: 'epoch', domain: lo < hi ? [lo, hi] : [lo - 1, hi + 1], ticks: epochs.filter((e) => (e - lo) % step === 0), format: (v) => String(v) }
    : { label: 'epoch' };
  return lineChart({
    ...SMALL,
    title: `Training losses: ${runLabel(r)}`,
    x,
    y: { label: 'loss (log scale)', scale: 'log10' },
    series: keys.map((k) => ({ label: k, points: r.curves.filter((c) => k in c.values).map((c) => ({ x: c.epoch, y: c.values[k]! })) })),
    legend: true,
  });
}

export function usageSvg(r: RunResult): string {
  return usageChart({ ...SMALL, title: `Code usage (test set): ${runLabel(r)}`, runs: r.usage });
}

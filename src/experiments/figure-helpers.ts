/**
 * Summary figures built from aggregated cells (mean ± std across seeds): a metric against the swept
 * variable as lines (one per variant) or as grouped bars, and a training-log quantity per epoch.
 */
import type { AxisSpec } from '../report/axis.js';
import { barChart } from '../report/bar-chart.js';
import { lineChart, type Series } from '../report/line-chart.js';
import type { ExperimentDefinition, Figure } from './definition.js';
import { RECONSTRUCTION_LOSS_KEY, TRAIN_UTILIZATION_KEY } from './metrics-log.js';
import { groupBy, summarize, unique } from './stats.js';
import { aggregate, metric } from './summary.js';
import type { ExperimentResults, RunResult } from './types.js';

export interface MetricFigureOptions {
  readonly name: string;
  readonly metricKey: string;
  readonly title: string;
  readonly caption: string;
  readonly x: AxisSpec;
  readonly y?: Partial<AxisSpec>;
  /** Extra series drawn after the measured ones (e.g. the ideal perplexity = K). */
  readonly extra?: readonly Series[];
}

/** A value of the swept variable as a legend names it, e.g. "K = 1024" or "β = 0.5". */
function sweptValue(def: ExperimentDefinition, x: number): string {
  return `${def.xLabel} = ${def.formatX(x)}`;
}

/** One line per variant: metric mean ± std at each x. */
export function metricLineFigure(def: ExperimentDefinition, results: ExperimentResults, o: MetricFigureOptions): Figure {
  const m = metric(o.metricKey);
  const cells = aggregate(results.runs, (r) => def.xOf(r));
  const series: Series[] = [...groupBy(cells, (c) => c.variant).entries()].map(([variant, cs]) => ({
    label: variant,
    points: cs.filter((c) => c.stats[m.key]!.mean !== null).map((c) => {
      const s = c.stats[m.key]!;
      return { x: c.x, y: s.mean!, yErr: s.std ?? undefined };
    }),
  }));
  const svg = lineChart({ title: o.title, x: o.x, y: { label: m.label, ...o.y }, series: [...series, ...(o.extra ?? [])], legend: true });
  return { name: o.name, caption: o.caption, svg };
}

/** Grouped bars: categories are variants, groups are the x values (a single group when x is fixed). */
export function metricBarFigure(def: ExperimentDefinition, results: ExperimentResults, o: Omit<MetricFigureOptions, 'x' | 'extra'>): Figure {
  const m = metric(o.metricKey);
  const cells = aggregate(results.runs, (r) => def.xOf(r));
  const variants = unique(cells.map((c) => c.variant));
  const xs = unique(cells.map((c) => c.x));
  const groups = xs.map((x) => {
    const at = variants.map((v) => cells.find((c) => c.variant === v && c.x === x)?.stats[m.key]);
    return {
      label: sweptValue(def, x),
      values: at.map((s) => s?.mean ?? null),
      errors: at.map((s) => s?.std ?? null),
    };
  });
  const svg = barChart({ title: o.title, xLabel: 'variant', categories: variants, groups, y: { label: m.label, ...o.y }, legend: xs.length > 1 });
  return { name: o.name, caption: o.caption, svg };
}

/** What `curveFigure` plots, for the two quantities every experiment follows per epoch. */
export interface CurveQuantity {
  readonly key: string;
  readonly scale?: number;
  readonly y: AxisSpec;
}

/** Utilization of the training batches, in percent of the codebook. */
export const UTILIZATION_CURVE: CurveQuantity = { key: TRAIN_UTILIZATION_KEY, scale: 100, y: { label: 'utilization (%)', domain: [0, 100] } };

/** Mean reconstruction loss of the training batches, on a log scale. */
export const RECONSTRUCTION_LOSS_CURVE: CurveQuantity = { key: RECONSTRUCTION_LOSS_KEY, y: { label: 'reconstruction loss', scale: 'log10' } };

/**
 * A per-epoch quantity from the training logs, one line per (variant, x) averaged across seeds —
 * e.g. how utilization evolves during training at each K.
 */
export function curveFigure(def: ExperimentDefinition, results: ExperimentResults, o: CurveQuantity & {
  readonly name: string; readonly title: string; readonly caption: string; readonly filter?: (r: RunResult) => boolean;
}): Figure {
  const runs = results.runs.filter(o.filter ?? (() => true));
  const key = runs.some((r) => r.curves.some((c) => o.key in c.values)) ? o.key : undefined;
  const series: Series[] = [];
  const multiX = unique(runs.map((r) => def.xOf(r))).length > 1;
  const multiVariant = unique(runs.map((r) => r.spec.variant)).length > 1;
  if (key) {
    for (const [, rs] of groupBy(runs, (r) => `${r.spec.variant}\u0000${def.xOf(r)}`)) {
      const byEpoch = groupBy(rs.flatMap((r) => r.curves.filter((c) => key in c.values)), (c) => String(c.epoch));
      const points = [...byEpoch.values()].map((cs) => {
        const s = summarize(cs.map((c) => c.values[key]! * (o.scale ?? 1)));
        return { x: cs[0]!.epoch, y: s.mean!, yErr: s.std ?? undefined };
      });
      const r0 = rs[0]!;
      const x = sweptValue(def, def.xOf(r0));
      series.push({ label: !multiX ? r0.spec.variant : multiVariant ? `${r0.spec.variant}, ${x}` : x, points });
    }
  }
  // Integer epoch ticks; a single epoch gets a little room on both sides instead of a zero-width axis.
  const epochs = unique(series.flatMap((s) => s.points.map((p) => p.x))).sort((a, b) => a - b);
  const lo = epochs[0] ?? 0;
  const hi = epochs[epochs.length - 1] ?? 1;
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 10));
  const ticks = epochs.filter((e) => (e - lo) % step === 0);
  const x: AxisSpec = { label: 'epoch', domain: lo < hi ? [lo, hi] : [lo - 1, hi + 1], ticks, format: (v) => String(v) };
  const svg = lineChart({ title: o.title, x, y: o.y, series, legend: true });
  return { name: o.name, caption: key ? o.caption : `${o.caption} (the training log has no such column)`, svg };
}

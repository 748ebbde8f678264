/**
 * The summary table (mean ± std across seeds per variant and swept value) as Markdown, so the
 * numbers quoted in EXPERIMENTS.md are printed from results.json rather than copied by hand.
 */
import { formatMeanStd } from '../report/format.js';
import { markdownTable } from '../report/markdown-table.js';
import type { ExperimentDefinition } from './definition.js';
import { aggregate, metric, metricsOf } from './summary.js';
import type { ExperimentResults } from './types.js';

/**
 * The table with every metric, or only those named in `keys` (METRICS keys), in that order. Rows
 * come in the plan's order, or with `byVariant` grouped by variant (in order of first appearance)
 * and then by ascending x.
 */
export function markdownSummary(results: ExperimentResults, def: ExperimentDefinition, keys?: readonly string[], byVariant = false): string {
  const planned = aggregate(results.runs, (r) => def.xOf(r));
  const variants = [...new Set(planned.map((c) => c.variant))];
  const cells = byVariant ? [...planned].sort((a, b) => variants.indexOf(a.variant) - variants.indexOf(b.variant) || a.x - b.x) : planned;
  const columns = keys === undefined ? metricsOf(results.runs) : keys.map((k) => metric(k));
  const head = ['variant', def.xLabel, 'seeds', ...columns.map((m) => m.label)];
  const rows = cells.map((c) => [c.variant, def.formatX(c.x), String(c.runs.length), ...columns.map((m) => {
    const s = c.stats[m.key]!;
    return formatMeanStd(s.mean, s.std, s.n, m.digits);
  })]);
  return markdownTable(head, rows, 2);
}

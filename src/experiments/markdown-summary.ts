/**
 * The summary table (mean ± std across seeds per variant and swept value) as Markdown, so the
 * numbers quoted in EXPERIMENTS.md are printed from results.json rather than copied by hand.
 */
import { formatMeanStd } from '../report/format.js';
import { markdownTable } from '../report/markdown-table.js';
import type { ExperimentDefinition } from './definition.js';
import { aggregate, METRICS } from './summary.js';
import type { ExperimentResults } from './types.js';

export function markdownSummary(results: ExperimentResults, def: ExperimentDefinition): string {
  const cells = aggregate(results.runs, (r) => def.xOf(r));
  const head = ['variant', def.xLabel, 'seeds', ...METRICS.map((m) => m.label)];
  const rows = cells.map((c) => [c.variant, def.formatX(c.x), String(c.runs.length), ...METRICS.map((m) => {
    const s = c.stats[m.key]!;
    return formatMeanStd(s.mean, s.std, s.n, m.digits);
  })]);
  return markdownTable(head, rows, 2);
}

/**
 * The summary table (mean ± std across seeds per variant and swept value) as Markdown, so the
 * numbers quoted in EXPERIMENTS.md are printed from results.json rather than copied by hand.
 */
import type { ExperimentDefinition } from '../experiments/definition.js';
import { aggregate, METRICS } from '../experiments/summary.js';
import type { ExperimentResults } from '../experiments/types.js';
import { formatMeanStd } from './format.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownSummary(results: ExperimentResults, def: ExperimentDefinition): string {
  const cells = aggregate(results.runs, (r) => def.xOf(r));
  const head = ['variant', def.xLabel, 'seeds', ...METRICS.map((m) => m.label)];
  const lines = [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const c of cells) {
    const row = [c.variant, def.formatX(c.x), String(c.runs.length), ...METRICS.map((m) => {
      const s = c.stats[m.key]!;
      return formatMeanStd(s.mean, s.std, s.n, m.digits);
    })];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

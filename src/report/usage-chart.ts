/**
 * Per-code usage "histogram": every code's count on the test set, sorted from most to least used,
 * as a step curve over code rank with a log-scale count axis. Codes nobody chose (dead codes) are
 * shaded, and a dashed line marks the count every code would have under perfectly uniform use.
 *
 * Runs of equal counts are drawn as one horizontal step, so even K = 65,536 needs only as many path
 * segments as there are distinct counts (≲ √(2·tokens)), not one bar per code.
 */
import { makeAxis } from './axis.js';
import { layout, legendEl, titleEl, xAxisEl, yAxisEl, type SizeOptions } from './chart-frame.js';
import { formatSi } from './format.js';
import { el, fmtCoord, svgRoot, textEl } from './svg.js';

/** [count, how many consecutive codes have it], in descending count order. */
export type CountStep = readonly [count: number, codes: number];

export interface UsageChartOptions extends SizeOptions {
  readonly title: string;
  /** Descending steps: equal counts of consecutive codes collapsed into one. */
  readonly runs: readonly CountStep[];
  readonly color?: string;
}

export function usageChart(o: UsageChartOptions): string {
  const l = layout(o, o.legend ? ['count'] : []);
  const k = o.runs.reduce((s, [, n]) => s + n, 0);
  const total = o.runs.reduce((s, [c, n]) => s + c * n, 0);
  const used = o.runs.reduce((s, [c, n]) => s + (c > 0 ? n : 0), 0);
  const maxCount = o.runs.length ? o.runs[0]![0] : 1;
  const xAxis = makeAxis({ label: 'code rank (most used first)', format: formatSi, domain: [0, Math.max(k, 1)] }, [], [l.left, l.right]);
  // The axis starts at ½ so that codes used once stand visibly above dead codes (drawn at the floor).
  const top = 10 ** Math.max(1, Math.ceil(Math.log10(Math.max(maxCount, 1)) - 1e-9));
  const yAxis = makeAxis({ label: 'test-set count', scale: 'log10', domain: [0.5, top] }, [], [l.bottom, l.top]);
  const color = o.color ?? '#4e79a7';
  const yOf = (c: number): number => (c > 0 ? yAxis.map(c) : l.bottom);
  const marks: string[] = [];
  if (used < k) {
    marks.push(el('rect', { x: xAxis.map(used), y: l.top, width: Math.max(l.right - xAxis.map(used), 0.5), height: l.bottom - l.top, fill: '#e15759', 'fill-opacity': 0.12, class: 'dead-region' }));
    marks.push(textEl('text', { x: Math.min(xAxis.map(used) + 6, l.right - 90), y: l.top + 14, fill: '#b03030', class: 'note' }, `${k - used} dead codes`));
  }
  if (o.runs.length) {
    let rank = 0;
    let d = `M${fmtCoord(l.left)},${fmtCoord(l.bottom)}`;
    for (const [c, n] of o.runs) {
      d += `V${fmtCoord(yOf(c))}H${fmtCoord(xAxis.map(rank + n))}`;
      rank += n;
    }
    d += `V${fmtCoord(l.bottom)}Z`;
    marks.push(el('path', { d, fill: color, 'fill-opacity': 0.35, stroke: color, 'stroke-width': 1.2, class: 'usage' }));
  }
  if (k > 0 && total > 0) {
    const uniform = total / k;
    if (yAxis.accepts(uniform)) {
      const y = yAxis.map(uniform);
      marks.push(el('line', { x1: l.left, x2: l.right, y1: y, y2: y, stroke: '#333', 'stroke-dasharray': '4 3', class: 'uniform' }));
      marks.push(textEl('text', { x: l.right - 4, y: y - 4, 'text-anchor': 'end', fill: '#333', class: 'note' }, `uniform use: ${uniform.toPrecision(3)} per code`));
    }
  }
  const subtitle = `${used} / ${k} codes used (${k ? ((100 * used) / k).toFixed(1) : '0'}%)`;
  const children = [
    titleEl(l, o.title),
    xAxisEl(l, xAxis),
    yAxisEl(l, yAxis),
    ...marks,
    textEl('text', { x: (l.left + l.right) / 2, y: l.top - 4, 'text-anchor': 'middle', fill: '#555', class: 'subtitle' }, subtitle),
  ];
  if (o.legend) children.push(legendEl(l, [{ label: 'count', color, mark: 'box' }]));
  return svgRoot(l.width, l.height, children, o.title);
}

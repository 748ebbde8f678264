/**
 * Grouped bar charts: categories along x (e.g. SimVQ optimize = W / C / both, vanilla VQ), one bar
 * per group inside each category (e.g. K or β), with optional ± error bars across seeds.
 */
import { scaleBand } from 'd3-scale';
import { makeAxis, type AxisSpec } from './axis.js';
import { colorAt, layout, legendEl, noteEl, titleEl, yAxisEl, type SizeOptions } from './chart-frame.js';
import { el, fmtCoord, svgRoot, textEl } from './svg.js';

export interface BarGroup {
  readonly label: string;
  /** One value per category; null where there is no measurement (no bar is drawn). */
  readonly values: readonly (number | null)[];
  readonly errors?: readonly (number | null)[];
  readonly color?: string;
}

export interface BarChartOptions extends SizeOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly categories: readonly string[];
  readonly groups: readonly BarGroup[];
  /** Linear axes start at 0; a log10 axis is allowed for counts. */
  readonly y: AxisSpec;
}

export function barChart(o: BarChartOptions): string {
  for (const g of o.groups) {
    if (g.values.length !== o.categories.length) throw new Error(`barChart '${o.title}': group '${g.label}' has ${g.values.length} values for ${o.categories.length} categories`);
  }
  const showLegend = o.legend ?? o.groups.length > 1;
  const l = layout(o, showLegend ? o.groups.map((g) => g.label) : []);
  const values = o.groups.flatMap((g) => g.values.flatMap((v, i) => {
    const e = g.errors?.[i] ?? 0;
    return v === null ? [] : [v - e, v + e];
  }));
  const yAxis = makeAxis({ zero: true, ...o.y }, values, [l.bottom, l.top]);
  const outer = scaleBand<string>().domain(o.categories.map((c, i) => `${i}`)).range([l.left, l.right]).paddingInner(0.2).paddingOuter(0.1);
  const inner = scaleBand<string>().domain(o.groups.map((g, i) => `${i}`)).range([0, outer.bandwidth()]).padding(0.08);
  const baseline = yAxis.kind === 'linear' ? yAxis.map(Math.max(0, yAxis.domain[0])) : l.bottom;
  const marks: string[] = [];
  let drawn = 0;
  o.groups.forEach((g, gi) => {
    const color = g.color ?? colorAt(gi);
    const parts: string[] = [];
    g.values.forEach((v, ci) => {
      if (v === null || !yAxis.accepts(v)) return;
      drawn++;
      const x = outer(`${ci}`)! + inner(`${gi}`)!;
      const w = inner.bandwidth();
      const y = yAxis.map(v);
      parts.push(el('rect', { x, y: Math.min(y, baseline), width: w, height: Math.max(Math.abs(baseline - y), 0.5), fill: color, class: 'bar' },
        [textEl('title', {}, `${g.label} / ${o.categories[ci]}: ${v}${g.errors?.[ci] ? ` ± ${g.errors[ci]}` : ''}`)]));
      const err = g.errors?.[ci];
      if (err !== null && err !== undefined && err > 0) {
        const cx = x + w / 2;
        const lo = v - err;
        const [a, b, c, y1, y2] = [cx - 3, cx + 3, cx, yAxis.accepts(lo) ? yAxis.map(lo) : l.bottom, yAxis.map(v + err)].map(fmtCoord);
        parts.push(el('path', { d: `M${a},${y1}H${b}M${c},${y1}V${y2}M${a},${y2}H${b}`, stroke: '#222', fill: 'none', class: 'error-bar' }));
      }
    });
    marks.push(el('g', { class: 'group', 'data-label': g.label }, parts));
  });
  // Category labels sit under each band; there is no numeric x axis.
  const xParts: string[] = [el('line', { x1: l.left, x2: l.right, y1: l.bottom, y2: l.bottom, stroke: '#333' })];
  o.categories.forEach((c, i) => {
    xParts.push(textEl('text', { x: outer(`${i}`)! + outer.bandwidth() / 2, y: l.bottom + 16, 'text-anchor': 'middle', class: 'tick x-tick' }, c));
  });
  xParts.push(textEl('text', { x: (l.left + l.right) / 2, y: l.height - 10, 'text-anchor': 'middle', class: 'axis-label' }, o.xLabel));
  const children = [titleEl(l, o.title), yAxisEl(l, yAxis), el('g', { class: 'x-axis' }, xParts), ...marks];
  if (drawn === 0) children.push(noteEl(l, 'no data'));
  if (showLegend) children.push(legendEl(l, o.groups.map((g, i) => ({ label: g.label, color: g.color ?? colorAt(i), mark: 'box' as const }))));
  return svgRoot(l.width, l.height, children, o.title);
}

/**
 * Line charts: one polyline per series with a marker per point and optional ± error bars
 * (e.g. mean ± std across seeds). Used for utilization/PSNR vs K and for loss curves per epoch.
 */
import { line } from 'd3-shape';
import { makeAxis, type AxisSpec } from './axis.js';
import { colorAt, hollowAt, layout, legendEl, noteEl, titleEl, xAxisEl, yAxisEl, type SizeOptions } from './chart-frame.js';
import { el, fmtCoord, svgRoot, textEl } from './svg.js';

export interface Point {
  readonly x: number;
  readonly y: number;
  /** Half-length of the error bar (drawn y − yErr … y + yErr). */
  readonly yErr?: number | undefined;
}

export interface Series {
  readonly label: string;
  readonly points: readonly Point[];
  readonly color?: string;
  readonly dashed?: boolean;
  /** Draw point markers (default true; off for long curves such as per-step losses). */
  readonly markers?: boolean;
}

export interface LineChartOptions extends SizeOptions {
  readonly title: string;
  readonly x: AxisSpec;
  readonly y: AxisSpec;
  readonly series: readonly Series[];
}

export function lineChart(o: LineChartOptions): string {
  const showLegend = o.legend ?? o.series.length > 1;
  const l = layout(o, showLegend ? o.series.map((s) => s.label) : []);
  const all = o.series.flatMap((s) => s.points);
  const yValues = all.flatMap((p) => (p.yErr ? [p.y - p.yErr, p.y + p.yErr] : [p.y]));
  const xAxis = makeAxis(o.x, all.map((p) => p.x), [l.left, l.right]);
  const yAxis = makeAxis(o.y, yValues, [l.bottom, l.top]);
  const marks: string[] = [];
  let drawn = 0;
  o.series.forEach((s, i) => {
    const color = s.color ?? colorAt(i);
    // Points a log axis cannot show (≤ 0) or that are not finite are left out rather than faked.
    const pts = s.points.filter((p) => xAxis.accepts(p.x) && yAxis.accepts(p.y)).slice().sort((a, b) => a.x - b.x);
    drawn += pts.length;
    const path = line<Point>().digits(2).x((p) => xAxis.map(p.x)).y((p) => yAxis.map(p.y))(pts);
    const parts: string[] = [];
    if (path && pts.length > 1) {
      parts.push(el('path', { d: path, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '5 3' : undefined, class: 'series-line' }));
    }
    for (const p of pts) {
      const cx = xAxis.map(p.x);
      if (p.yErr !== undefined && p.yErr > 0) {
        const lo = p.y - p.yErr;
        const y1 = yAxis.accepts(lo) ? yAxis.map(lo) : l.bottom;
        const y2 = yAxis.map(p.y + p.yErr);
        const [a, b, c, d1, d2] = [cx - 4, cx + 4, cx, y1, y2].map(fmtCoord);
        parts.push(el('path', { d: `M${a},${d1}H${b}M${c},${d1}V${d2}M${a},${d2}H${b}`, stroke: color, fill: 'none', class: 'error-bar' }));
      }
      const fill = hollowAt(i) ? { fill: 'white', stroke: color, 'stroke-width': 1.5 } : { fill: color };
      if (s.markers ?? true) parts.push(el('circle', { cx, cy: yAxis.map(p.y), r: 3.5, ...fill, class: 'point' }, [textEl('title', {}, `${s.label}: (${p.x}, ${p.y}${p.yErr ? ` ± ${p.yErr}` : ''})`)]));
    }
    marks.push(el('g', { class: 'series', 'data-label': s.label }, parts));
  });
  const children = [
    titleEl(l, o.title),
    xAxisEl(l, xAxis),
    yAxisEl(l, yAxis),
    ...marks,
  ];
  if (drawn === 0) children.push(noteEl(l, 'no data'));
  if (showLegend) children.push(legendEl(l, o.series.map((s, i) => ({ label: s.label, color: s.color ?? colorAt(i), dashed: s.dashed, mark: 'line' as const, hollow: (s.markers ?? true) && hollowAt(i) }))));
  return svgRoot(l.width, l.height, children, o.title);
}

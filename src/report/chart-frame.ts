/**
 * The parts every chart shares: layout (plot area inside margins), title, axes with ticks and grid
 * lines, and a legend to the right of the plot. Line, bar and usage charts only draw their marks.
 */
import type { Axis } from './axis.js';
import { el, textEl } from './svg.js';

/** Tableau 10: distinguishable, and readable by most colour-blind viewers. */
const PALETTE: readonly string[] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/**
 * Whether series i gets hollow markers: from the 11th series on the colours repeat, so the second
 * round of colours is told apart from the first by white-filled markers (line charts).
 */
export function hollowAt(i: number): boolean {
  return Math.floor(i / PALETTE.length) % 2 === 1;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Plot area. */
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export interface SizeOptions {
  readonly width?: number;
  readonly height?: number;
  /** Reserve room on the right for a legend (default: when there is more than one series). */
  readonly legend?: boolean;
}

/** Room right of the plot for a legend of short labels, and for none. */
const LEGEND_ROOM = 130;
const NO_LEGEND_ROOM = 16;
/**
 * Upper estimate of a label's width in px at the charts' 11 px Helvetica/Arial: most glyphs are
 * 0.5–0.6 em, so 0.62 em a character does not cut a label off (SVG cannot measure text itself).
 */
const LABEL_PX_PER_CHAR = 0.62 * 11;

/**
 * Plot area inside the margins. `legendLabels` are the legend's entries (none: no legend); the
 * legend gets the room its longest label needs, widening the chart rather than narrowing the plot.
 */
export function layout(o: SizeOptions, legendLabels: readonly string[]): Layout {
  const height = o.height ?? 320;
  const longest = Math.max(0, ...legendLabels.map((label) => label.length));
  // Mark (24 px from the legend's x, itself 12 px right of the plot) + text + a margin.
  const needed = 12 + 24 + Math.ceil(longest * LABEL_PX_PER_CHAR) + 8;
  const legendRoom = legendLabels.length === 0 ? NO_LEGEND_ROOM : Math.max(LEGEND_ROOM, needed);
  const width = (o.width ?? 520) + (legendLabels.length === 0 ? 0 : legendRoom - LEGEND_ROOM);
  return { width, height, left: 62, right: width - legendRoom, top: 34, bottom: height - 46 };
}

export function titleEl(l: Layout, title: string): string {
  return textEl('text', { x: l.width / 2, y: 18, 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold', class: 'title' }, title);
}

/** X axis line, ticks, labels, vertical grid lines and the axis title. */
export function xAxisEl(l: Layout, axis: Axis, grid = true): string {
  const parts: string[] = [el('line', { x1: l.left, x2: l.right, y1: l.bottom, y2: l.bottom, stroke: '#333' })];
  for (const t of axis.ticks) {
    if (grid) parts.push(el('line', { x1: t.position, x2: t.position, y1: l.top, y2: l.bottom, stroke: '#e5e5e5' }));
    parts.push(el('line', { x1: t.position, x2: t.position, y1: l.bottom, y2: l.bottom + 4, stroke: '#333' }));
    parts.push(textEl('text', { x: t.position, y: l.bottom + 16, 'text-anchor': 'middle', class: 'tick x-tick' }, t.label));
  }
  parts.push(textEl('text', { x: (l.left + l.right) / 2, y: l.height - 10, 'text-anchor': 'middle', class: 'axis-label' }, axis.spec.label));
  return el('g', { class: 'x-axis' }, parts);
}

/** Y axis line, ticks, labels, horizontal grid lines and the (rotated) axis title. */
export function yAxisEl(l: Layout, axis: Axis, grid = true): string {
  const parts: string[] = [el('line', { x1: l.left, x2: l.left, y1: l.top, y2: l.bottom, stroke: '#333' })];
  for (const t of axis.ticks) {
    if (grid) parts.push(el('line', { x1: l.left, x2: l.right, y1: t.position, y2: t.position, stroke: '#e5e5e5' }));
    parts.push(el('line', { x1: l.left - 4, x2: l.left, y1: t.position, y2: t.position, stroke: '#333' }));
    parts.push(textEl('text', { x: l.left - 7, y: t.position + 4, 'text-anchor': 'end', class: 'tick y-tick' }, t.label));
  }
  const cy = (l.top + l.bottom) / 2;
  parts.push(textEl('text', { x: 14, y: cy, 'text-anchor': 'middle', transform: `rotate(-90 14 ${cy})`, class: 'axis-label' }, axis.spec.label));
  return el('g', { class: 'y-axis' }, parts);
}

export interface LegendEntry {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean | undefined;
  /** 'line' for line charts, 'box' for bars. */
  readonly mark: 'line' | 'box';
  /** A hollow marker on the line, for a series whose colour an earlier series already has. */
  readonly hollow?: boolean;
}

export function legendEl(l: Layout, entries: readonly LegendEntry[]): string {
  const x = l.right + 12;
  const parts = entries.map((e, i) => {
    const y = l.top + 6 + i * 18;
    const mark = e.mark === 'line'
      ? el('line', { x1: x, x2: x + 18, y1: y, y2: y, stroke: e.color, 'stroke-width': 2, 'stroke-dasharray': e.dashed ? '5 3' : undefined })
      : el('rect', { x, y: y - 5, width: 14, height: 10, fill: e.color });
    const hollow = e.hollow ? [el('circle', { cx: x + 9, cy: y, r: 3.5, fill: 'white', stroke: e.color, 'stroke-width': 1.5 })] : [];
    return el('g', { class: 'legend-entry' }, [mark, ...hollow, textEl('text', { x: x + 24, y: y + 4 }, e.label)]);
  });
  return el('g', { class: 'legend' }, parts);
}

/** A note in the plot's top-left corner (e.g. "no data"). */
export function noteEl(l: Layout, note: string): string {
  return textEl('text', { x: l.left + 8, y: l.top + 14, fill: '#666', class: 'note' }, note);
}

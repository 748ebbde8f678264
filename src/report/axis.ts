/**
 * Axes for the SVG charts: a d3 scale from data space to pixels plus tick positions and labels.
 *
 * Log axes put their ticks exactly at powers of the base (2 for codebook sizes, 10 for counts), so a
 * reader sees K = 256, 1024, … at equal spacing; d3's own log ticks add unlabeled minor ticks that
 * would crowd a static figure.
 */
import { extent } from 'd3-array';
import { scaleLinear, scaleLog } from 'd3-scale';
import { formatPlain, formatSi } from './format.js';

export type ScaleKind = 'linear' | 'log2' | 'log10';

export interface AxisSpec {
  readonly label: string;
  readonly scale?: ScaleKind;
  /** Fixed data domain; otherwise derived from the data (log axes snap outwards to powers of the base). */
  readonly domain?: readonly [number, number];
  /** Explicit tick values (e.g. the β values of an experiment) instead of automatic ones. */
  readonly ticks?: readonly number[];
  /** Tick label formatter (default: plain numbers on linear/log2 axes, SI suffixes on log10). */
  readonly format?: (v: number) => string;
  /** Linear axes only: include 0 in the domain (bar charts, utilization in %). */
  readonly zero?: boolean;
}

export interface Tick {
  readonly value: number;
  readonly position: number;
  readonly label: string;
}

export interface Axis {
  readonly spec: AxisSpec;
  readonly kind: ScaleKind;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  /** Data value → pixel; values outside the domain are clamped so marks stay inside the frame. */
  map(v: number): number;
  /** Whether a value can be drawn on this axis (log axes cannot show values ≤ 0). */
  accepts(v: number): boolean;
  readonly ticks: readonly Tick[];
}

function logBase(kind: ScaleKind): number {
  return kind === 'log2' ? 2 : 10;
}

/** Domain for a log axis: the enclosing powers of the base, widened by one power if degenerate. */
function logDomain(values: readonly number[], base: number): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [1, base];
  const [lo, hi] = extent(positive) as [number, number];
  let a = Math.floor(Math.log(lo) / Math.log(base) + 1e-9);
  let b = Math.ceil(Math.log(hi) / Math.log(base) - 1e-9);
  if (a === b) { a -= 1; b += 1; }
  return [base ** a, base ** b];
}

function linearDomain(values: readonly number[], zero: boolean): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  let [lo, hi] = finite.length ? (extent(finite) as [number, number]) : [0, 1];
  if (zero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad; hi += pad;
  }
  return [lo, hi];
}

/** Ticks at every power of the base inside [lo, hi], thinned to at most ~10 labels. */
function powerTicks(lo: number, hi: number, base: number): number[] {
  const a = Math.ceil(Math.log(lo) / Math.log(base) - 1e-9);
  const b = Math.floor(Math.log(hi) / Math.log(base) + 1e-9);
  const step = Math.max(1, Math.ceil((b - a + 1) / 10));
  const out: number[] = [];
  for (let e = a; e <= b; e += step) out.push(base ** e);
  return out;
}

/**
 * Build an axis mapping `values` (the data shown on it) onto the pixel `range`.
 * For a vertical axis pass the range bottom-first ([bottom, top]) so larger values go up.
 */
export function makeAxis(spec: AxisSpec, values: readonly number[], range: readonly [number, number]): Axis {
  const kind = spec.scale ?? 'linear';
  const tickValues = spec.ticks ?? [];
  if (kind === 'linear') {
    const raw = spec.domain ? [spec.domain[0], spec.domain[1]] as [number, number] : linearDomain([...values, ...tickValues], spec.zero ?? false);
    const scale = scaleLinear().domain(raw).range([range[0], range[1]]).clamp(true);
    if (!spec.domain) scale.nice(6);
    const domain = scale.domain() as [number, number];
    const fmt = spec.format ?? scale.tickFormat(6);
    const ticks = (spec.ticks ?? scale.ticks(6)).map((value) => ({ value, position: scale(value), label: fmt(value) }));
    return { spec, kind, domain, range, map: (v) => scale(v), accepts: (v) => Number.isFinite(v), ticks };
  }
  const base = logBase(kind);
  const domain = spec.domain ? [spec.domain[0], spec.domain[1]] as [number, number] : logDomain([...values, ...tickValues], base);
  if (!(domain[0] > 0 && domain[1] > domain[0])) throw new Error(`axis '${spec.label}': log domain must be positive and increasing, got [${domain.join(', ')}]`);
  const scale = scaleLog().base(base).domain(domain).range([range[0], range[1]]).clamp(true);
  const fmt = spec.format ?? (kind === 'log10' ? formatSi : formatPlain);
  const ticks = (spec.ticks ?? powerTicks(domain[0], domain[1], base))
    .filter((v) => v > 0)
    .map((value) => ({ value, position: scale(value), label: fmt(value) }));
  return { spec, kind, domain, range, map: (v) => scale(v), accepts: (v) => Number.isFinite(v) && v > 0, ticks };
}

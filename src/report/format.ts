/** Number formatting shared by axis tick labels, tables and CSV. */

/** Integers as they are (powers of two such as 65536 stay recognizable); fractions with ≤ 3 significant digits. */
export function formatPlain(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

/** Powers of ten with SI suffixes (1, 10, 100, 1k, 10k, 100k, 1M, …); other values plainly. */
export function formatSi(v: number): string {
  const a = Math.abs(v);
  const units: readonly [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) {
    if (a >= scale) return `${formatPlain(v / scale)}${suffix}`;
  }
  return formatPlain(v);
}

/** A fixed number of decimals, or '–' for a missing/non-finite value. */
export function formatFixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** "mean ± std" (std omitted when only one value was measured). */
export function formatMeanStd(mean: number | null, std: number | null, n: number, digits: number): string {
  if (mean === null || !Number.isFinite(mean)) return '–';
  if (n < 2 || std === null || !Number.isFinite(std)) return mean.toFixed(digits);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/** Seconds as "42 s", "3.5 min" or "1.2 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

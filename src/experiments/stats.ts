/** Mean ± sample standard deviation across seeds, and grouping of runs for tables and figures. */

export interface Summary {
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n − 1); null with fewer than two values. */
  readonly std: number | null;
}

export function summarize(values: readonly (number | null | undefined)[]): Summary {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, std: null };
  const mean = xs.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { n, mean, std: null };
  const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, std: Math.sqrt(variance) };
}

/** Group items by a string key, keeping the order in which keys first appear. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Distinct values in first-appearance order. */
export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

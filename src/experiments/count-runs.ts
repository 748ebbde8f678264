/**
 * A run's per-code counts in the compact form results.json keeps and the usage chart draws:
 * sorted from most to least used, equal neighbours collapsed, so K = 65,536 codes need only as many
 * entries as there are distinct counts.
 */

/** [count, how many consecutive codes have it] in descending count order. */
export type CountRun = readonly [number, number];

/** Sort counts descending and collapse equal neighbours. */
export function sortedRuns(counts: ArrayLike<number>): CountRun[] {
  const sorted = Array.from(counts).sort((a, b) => b - a);
  const runs: [number, number][] = [];
  for (const c of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[0] === c) last[1]++;
    else runs.push([c, 1]);
  }
  return runs;
}

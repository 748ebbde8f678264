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

/**
 * The fewest codes that take at least `percent` % of the counted latents (as `codesCovering` in
 * quantizers/usage.ts), from the sorted runs directly; 0 when nothing was counted.
 */
export function codesCoveringRuns(runs: readonly CountRun[], percent: number): number {
  if (!(Number.isInteger(percent) && percent >= 1 && percent <= 100)) throw new Error(`codesCoveringRuns: percent must be an integer in [1, 100], got ${percent}`);
  const total = runs.reduce((t, [count, repeat]) => t + count * repeat, 0);
  if (total === 0) return 0;
  let sum = 0;
  let codes = 0;
  for (const [count, repeat] of runs) {
    // Codes of this run still needed: the least m with 100·(sum + m·count) ≥ percent·total.
    const needed = count > 0 ? Math.ceil((percent * total - 100 * sum) / (100 * count)) : Infinity;
    if (needed <= repeat) return codes + Math.max(needed, 1);
    sum += count * repeat;
    codes += repeat;
  }
  return codes;
}

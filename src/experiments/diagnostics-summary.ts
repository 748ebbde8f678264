/**
 * The training-set diagnostics of each run that took them (run-diagnostics.ts), one Markdown table
 * per run with a row per diagnosed epoch, so that EXPERIMENTS.md quotes how a long run settled from
 * results.json rather than by hand.
 */
import { markdownTable } from '../report/markdown-table.js';
import type { DiagnosticsRecord } from '../eval/diagnostics.js';
import type { ExperimentResults } from './types.js';

/**
 * W's singular values at least 1 % of the largest: the dimensions SimVQ's codebook C·W still spans
 * in practice (its rank is at most d, and a collapsing W loses dimensions).
 */
function spannedDimensions(sigma: readonly number[]): number {
  const top = sigma[0] ?? 0;
  return sigma.filter((s) => s >= 0.01 * top).length;
}

function row(r: DiagnosticsRecord): string[] {
  const sigma = r.singular_values;
  return [
    String(r.epoch), String(r.step), `${(100 * r.utilization).toFixed(2)} %`, String(r.used_codes), r.perplexity.toFixed(1),
    r.effective_bits.toFixed(2), String(r.codes_covering_50), String(r.codes_covering_90), r.mse.toFixed(5),
    sigma === undefined ? '–' : `${sigma[0]!.toPrecision(3)} … ${sigma[sigma.length - 1]!.toPrecision(3)}`,
    sigma === undefined ? '–' : `${spannedDimensions(sigma)} of ${sigma.length}`,
  ];
}

/** A heading and table per run with diagnostics, in the plan's order; an empty string when no run has any. */
export function diagnosticsSummary(results: ExperimentResults): string {
  const head = ['epoch', 'step', 'utilization', 'codes used', 'perplexity', 'effective bits', 'codes for 50 %', 'codes for 90 %', 'MSE', "W's σ, largest … smallest", 'σ ≥ 1 % of largest'];
  return results.runs
    .filter((run) => run.diagnostics !== undefined && run.diagnostics.length > 0)
    .map((run) => `${run.spec.id}, over the training set (${run.diagnostics![0]!.latents.toLocaleString('en-US')} latents):\n\n${markdownTable(head, run.diagnostics!.map(row), 1)}`)
    .join('\n');
}

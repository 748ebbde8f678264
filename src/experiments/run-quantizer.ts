/**
 * A run's quantizer: the one `QuantizerConfig` an experiment makes when it plans the run (and that
 * the trainer receives unchanged), and the axes its tables, figures and results.csv read from it —
 * the codebook size K, the commitment weight β and SimVQ's optimize mode.
 */
import { quantizerOptionsFor } from '../models/quantizer-settings.js';
import { resolveQuantizerConfig, type QuantizerConfig } from '../quantizers/registry.js';
import type { QuantizerName } from '../quantizers/quantizer.js';
import type { SimVQOptimize } from '../quantizers/simvq.js';
import type { GridPoint, RunSpec } from './types.js';

/**
 * The number of codes K: the codebookSize option, or FSQ's Π levels (its K follows from them). A
 * residual quantizer's is that of each of its `depth` stages.
 */
export function codebookSizeOf(config: QuantizerConfig): number {
  return config.kind === 'fsq' ? config.levels.reduce((a, b) => a * b, 1) : config.codebookSize;
}

/** The commitment weight β, or undefined for a quantizer without a commitment loss (FSQ). */
export function betaOf(config: QuantizerConfig): number | undefined {
  if (config.kind === 'fsq') return undefined;
  return typeof config.beta === 'number' ? config.beta : undefined;
}

/** Which factor of SimVQ's codebook C·W is trained; undefined for the other quantizers. */
export function simvqOptimizeOf(config: QuantizerConfig): SimVQOptimize | undefined {
  return config.kind === 'simvq' ? config.optimize : undefined;
}

/**
 * The quantizer `kind` with `options` at grid point `at` of an experiment, with code dimension
 * `dim`: K, β and d become the options of those names where the quantizer has them (FSQ has
 * neither K nor β), `options` win, and the result is validated and resolved. Where the resolved
 * quantizer's own K or β differ from the point, the run records the point as `nominal`, so it is
 * still placed there in tables and figures.
 */
export function quantizerAt(kind: QuantizerName, options: Readonly<Record<string, unknown>>, at: GridPoint, dim: number): Pick<RunSpec, 'quantizer' | 'nominal'> {
  const quantizer = resolveQuantizerConfig(kind, quantizerOptionsFor(kind, { codebookSize: at.codebookSize, dim, beta: at.beta }, options));
  const placed = codebookSizeOf(quantizer) === at.codebookSize && betaOf(quantizer) === at.beta;
  return placed ? { quantizer } : { quantizer, nominal: { codebookSize: at.codebookSize, beta: at.beta } };
}

/** Where a run stands in its experiment's grid: its `nominal` point, or its quantizer's own K and β. */
export function gridPointOf(spec: RunSpec): GridPoint {
  if (spec.nominal !== undefined) return spec.nominal;
  const beta = betaOf(spec.quantizer);
  if (beta === undefined) throw new Error(`run '${spec.id}': quantizer '${spec.quantizer.kind}' has no β and the spec no nominal grid point; plan the run again`);
  return { codebookSize: codebookSizeOf(spec.quantizer), beta };
}

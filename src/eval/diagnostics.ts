/**
 * Codebook diagnostics of a model at one point of its training: code usage over the whole training
 * set (every training latent counts, unlike an epoch's batches, which see a moving codebook) and,
 * for SimVQ, the singular values of its learned projection W (q = C·W + b). A W whose singular
 * values spread over orders of magnitude maps the codebook into fewer effective dimensions — codes
 * crowd onto a low-dimensional subspace — which is the mechanism behind a codebook that uses many
 * codes yet concentrates its latents on few.
 *
 * The trainer appends one such record every `diagnoseEvery` epochs to diagnostics.jsonl in the run
 * directory; `vqlab eval DIR --diagnostics` prints the record of any checkpoint.
 */
import { QUANTIZER_SCOPE } from '../models/config.js';
import type { VqvaeModel } from '../models/model.js';
import type { ExampleSet } from '../modality/modality.js';
import { SIMVQ_PROJECTION, SimVQ } from '../quantizers/simvq.js';
import { singularValueDecomposition } from '../quantizers/singular-values.js';
import type { VariableStore } from '../runtime/variables.js';
import type { Evaluator } from './evaluator.js';

export const DIAGNOSTICS_FILE = 'diagnostics.jsonl';

/** One line of diagnostics.jsonl. */
export interface DiagnosticsRecord {
  /** Epochs the model had trained (0 before the first). */
  readonly epoch: number;
  readonly step: number;
  /** The split the usage is counted over. */
  readonly split: 'train' | 'test';
  /** Latent vectors counted. */
  readonly latents: number;
  readonly utilization: number;
  readonly used_codes: number;
  readonly perplexity: number;
  readonly effective_bits: number;
  readonly codes_covering_50: number;
  readonly codes_covering_90: number;
  /** Reconstruction error over the same set. */
  readonly mse: number;
  /** SimVQ only: σ of W, descending. */
  readonly singular_values?: number[];
}

/** σ of SimVQ's W, descending; undefined for other quantizers. */
function projectionSingularValues(model: VqvaeModel, store: VariableStore): number[] | undefined {
  if (!(model.quantizer instanceof SimVQ)) return undefined;
  const d = model.quantizer.dim;
  const w = store.require(`${QUANTIZER_SCOPE}.${SIMVQ_PROJECTION}`).value;
  return Array.from(singularValueDecomposition(w, d, d).values);
}

/** The diagnostics of the model `evaluator` runs, over `set` (`split` names it), after `epoch` epochs and `step` steps. */
export async function diagnose(evaluator: Evaluator, model: VqvaeModel, store: VariableStore, set: ExampleSet, where: { epoch: number; step: number; split: 'train' | 'test' }): Promise<DiagnosticsRecord> {
  const { metrics, usage } = await evaluator.evaluate(set, { slowMetrics: false });
  const singular = projectionSingularValues(model, store);
  return {
    ...where,
    latents: usage.total,
    utilization: metrics.utilization,
    used_codes: usage.usedCodes(),
    perplexity: metrics.perplexity,
    effective_bits: metrics.effective_bits,
    codes_covering_50: metrics.codes_covering_50,
    codes_covering_90: metrics.codes_covering_90,
    mse: metrics.mse,
    ...(singular !== undefined ? { singular_values: singular } : {}),
  };
}

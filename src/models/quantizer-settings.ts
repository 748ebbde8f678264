/**
 * The quantizer part of a model config, and its construction through the quantizer registry.
 */
import { createQuantizer, QUANTIZER_KINDS, SIMVQ_OPTIMIZE_MODES, type Quantizer, type QuantizerName, type SearchBlocking, type SimVQOptimize } from '../quantizers/index.js';

export const QUANTIZER_NAMES: readonly QuantizerName[] = QUANTIZER_KINDS;
export const SIMVQ_OPTIMIZE = SIMVQ_OPTIMIZE_MODES;
export type SimvqOptimize = SimVQOptimize;

export interface QuantizerSettings {
  readonly name: QuantizerName;
  /** Number of codes K. */
  readonly codebookSize: number;
  /** Code dimension d (the encoder's output channels). */
  readonly dim: number;
  /** Commitment weight β. */
  readonly beta: number;
  /** SimVQ only: which factor of the codebook C·W is trained. */
  readonly optimize?: SimvqOptimize;
}

export class UnknownQuantizerError extends Error {
  constructor(name: string) {
    super(`unknown quantizer '${name}'; choose one of ${QUANTIZER_NAMES.join(', ')}`);
    this.name = 'UnknownQuantizerError';
  }
}

export function createModelQuantizer(s: QuantizerSettings, search?: SearchBlocking): Quantizer {
  if (!QUANTIZER_NAMES.includes(s.name)) throw new UnknownQuantizerError(String(s.name));
  const common = { codebookSize: s.codebookSize, dim: s.dim, beta: s.beta, ...(search !== undefined ? { search } : {}) };
  return s.name === 'simvq' ? createQuantizer('simvq', { ...common, optimize: s.optimize ?? 'W' }) : createQuantizer(s.name, common);
}

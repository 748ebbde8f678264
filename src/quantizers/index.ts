/**
 * The quantizers of vqlab and their factory (the registry, registry.ts).
 *
 *   createQuantizer('vq',    { codebookSize: 512, dim: 64 })                  VQ-VAE (§3.2)
 *   createQuantizer('ema',   { codebookSize: 512, dim: 64, decay: 0.95 })     EMA codebook (A.1)
 *   createQuantizer('simvq', { codebookSize: 65536, dim: 64, optimize: 'both' }) SimVQ, C and W trained
 *   createQuantizer('fsq',   { dim: 64, levels: [8, 8, 8, 6, 5] })             FSQ, 15,360 codes
 *   createQuantizer('lfq',   { codebookSize: 1024, dim: 64 })                  LFQ, 10 sign bits
 *   createQuantizer('residual', { base: 'vq', depth: 8, codebookSize: 256, dim: 64 })  RVQ
 *
 * The factory validates the options against the quantizer's schema before anything is built: an
 * unknown name lists the valid ones; an unknown option name lists the valid options (so a typo
 * such as `betta` fails instead of silently using the default); K < 1, a negative or non-finite β,
 * a decay outside [0, 1) and so on throw errors that name the option and the value. Options whose
 * value is `undefined` are ignored. `resolveQuantizerConfig` does the same and returns the
 * resolved `QuantizerConfig` a run carries; `buildQuantizer` builds one.
 */
export {
  buildQuantizer,
  createQuantizer,
  describeQuantizers,
  optionsOf,
  parseQuantizerOptions,
  parseQuantizerSpec,
  QUANTIZERS,
  quantizerFromConfig,
  requireQuantizerName,
  resolveQuantizerConfig,
  savedQuantizerConfig,
  type QuantizerConfig,
  type QuantizerEntry,
} from './registry.js';
export { CodeSearch, type CodeSearchOptions, type CodeSearchResult } from './code-search.js';
export { EmaVectorQuantizer, type EmaVectorQuantizerOptions } from './ema-vector-quantizer.js';
export {
  augmentedCodebook,
  augmentedQueries,
  defaultBlocking,
  nearestCode,
  resolveBlocking,
  type Blocking,
  type SearchBlocking,
} from './nearest-code.js';
export type { CodebookInit, CommonQuantizerOptions } from './options.js';
export {
  describeDefault,
  type OptionDefinition,
  type OptionInput,
  type OptionSchema,
  type OptionValues,
} from './option-schema.js';
export { CODEBOOK_OPTIONS } from './codebook-options.js';
export { FSQ, type FSQOptions } from './fsq.js';
export { LFQ, type LFQOptions } from './lfq.js';
export { ResidualQuantizer, RESIDUAL_BASES, type ResidualOptions } from './residual.js';
export { kmeans, quantizationError } from './kmeans.js';
export { rotateTo } from './rotation-trick.js';
export { orthogonalLoss } from './orthogonal-regularization.js';
export {
  assertFiniteQuantizerInput,
  codeCounts,
  flattenNCHW,
  nonFiniteCount,
  quantizeFeatureMap,
  quantizeVectors,
  QUANTIZER_KINDS,
  unflattenToNCHW,
  type HostStepInput,
  type HostStepOutcome,
  type Quantizer,
  type QuantizerName,
  type QuantizerOutput,
  type ShapedQuantizerOutput,
} from './quantizer.js';
export { SIMVQ_OPTIMIZE_MODES, SimVQ, type SimVQOptimize, type SimVQOptions } from './simvq.js';
export { CodeUsage, type CodeUsageSummary } from './usage.js';
export { VectorQuantizer, type VectorQuantizerOptions } from './vector-quantizer.js';

/**
 * The quantizers of vqlab and their factory.
 *
 *   createQuantizer('vq',    { codebookSize: 512, dim: 64 })                  VQ-VAE (§3.2)
 *   createQuantizer('ema',   { codebookSize: 512, dim: 64, decay: 0.99 })     EMA codebook (A.1)
 *   createQuantizer('simvq', { codebookSize: 65536, dim: 64, optimize: 'W' }) SimVQ
 *
 * The factory validates the options before anything is built: an unknown name lists the valid
 * ones; an unknown option name lists the valid options (so a typo such as `betta` fails instead of
 * silently using the default); K < 1, a negative or non-finite β, a decay outside [0, 1) and so on
 * throw errors that name the option and the value. Options whose value is `undefined` are ignored.
 */
import { EMA_OPTION_KEYS, EmaVectorQuantizer, type EmaVectorQuantizerOptions } from './ema-vector-quantizer.js';
import { rejectUnknownKeys } from './options.js';
import { QUANTIZER_KINDS, type Quantizer, type QuantizerName } from './quantizer.js';
import { SIMVQ_OPTION_KEYS, SimVQ, type SimVQOptions } from './simvq.js';
import { VQ_OPTION_KEYS, VectorQuantizer, type VectorQuantizerOptions } from './vector-quantizer.js';

export interface QuantizerOptionsByName {
  vq: VectorQuantizerOptions;
  ema: EmaVectorQuantizerOptions;
  simvq: SimVQOptions;
}

const OPTION_KEYS: Record<QuantizerName, readonly string[]> = { vq: VQ_OPTION_KEYS, ema: EMA_OPTION_KEYS, simvq: SIMVQ_OPTION_KEYS };

/** Build a quantizer by name, validating its options (see the file comment). */
export function createQuantizer<N extends QuantizerName>(name: N, options: QuantizerOptionsByName[N]): Quantizer;
export function createQuantizer(name: string, options: object): Quantizer;
export function createQuantizer(name: string, options: object): Quantizer {
  if (!(QUANTIZER_KINDS as readonly string[]).includes(name)) {
    throw new Error(`createQuantizer: unknown quantizer '${name}'; valid names: ${QUANTIZER_KINDS.join(', ')}`);
  }
  const kind = name as QuantizerName;
  if (options === null || typeof options !== 'object') throw new Error(`createQuantizer('${kind}'): options must be an object with at least codebookSize and dim`);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  rejectUnknownKeys(`createQuantizer('${kind}')`, defined, OPTION_KEYS[kind]);
  for (const required of ['codebookSize', 'dim']) {
    if (!(required in defined)) throw new Error(`createQuantizer('${kind}'): missing required option '${required}'`);
  }
  switch (kind) {
    case 'vq':
      return new VectorQuantizer(defined as unknown as VectorQuantizerOptions);
    case 'ema':
      return new EmaVectorQuantizer(defined as unknown as EmaVectorQuantizerOptions);
    case 'simvq':
      return new SimVQ(defined as unknown as SimVQOptions);
  }
}

/** Rebuild a quantizer from its `config` (as saved in a checkpoint). */
export function quantizerFromConfig(config: Readonly<Record<string, unknown>>): Quantizer {
  const { kind, ...options } = config;
  if (typeof kind !== 'string') throw new Error(`quantizerFromConfig: config has no 'kind'; valid kinds: ${QUANTIZER_KINDS.join(', ')}`);
  return createQuantizer(kind, options);
}

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
  assertFiniteQuantizerInput,
  codeCounts,
  flattenNCHW,
  nonFiniteCount,
  quantizeFeatureMap,
  quantizeVectors,
  QUANTIZER_KINDS,
  unflattenToNCHW,
  type Quantizer,
  type QuantizerName,
  type QuantizerOutput,
  type ShapedQuantizerOutput,
} from './quantizer.js';
export { SIMVQ_OPTIMIZE_MODES, SimVQ, type SimVQOptimize, type SimVQOptions } from './simvq.js';
export { CodeUsage, type CodeUsageSummary } from './usage.js';
export { VectorQuantizer, type VectorQuantizerOptions } from './vector-quantizer.js';

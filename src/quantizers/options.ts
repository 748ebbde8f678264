/**
 * The options every quantizer shares (K, d, β, the loss weight, the search blocking), the bounds on
 * the sizes a config may ask for, and `QuantizerBase`, which keeps the shared resolved options as
 * fields. Each option is defined once, in a schema (option-schema.ts); the registry resolves a
 * quantizer's options against its schema before the constructor sees them.
 */
import { derived, type OptionSchema, type OptionValues } from './option-schema.js';
import type { SearchBlocking } from './nearest-code.js';

/**
 * Codebook initialization of VQ and EMA-VQ: U(±s), N(0, s²), or 'unit', every code a uniformly
 * random direction of norm s (1 by default). 'unit' is for cosine and factorized (codebookDim)
 * codes: at U(±1/K) their norms are about √c/K (2·10⁻⁵ at K = 65,536, c = 8), so Adam's first
 * steps, about lr per coordinate whatever the gradient's size, move a touched code to ≈ lr·(±1, …,
 * ±1) — a diagonal of the c-cube, 2^c directions for K codes; at norm 1 those steps barely turn it.
 */
export type CodebookInit = 'uniform' | 'normal' | 'unit';
export const CODEBOOK_INITS: readonly CodebookInit[] = ['uniform', 'normal', 'unit'];

/**
 * Bounds on the sizes a config may ask for, checked before any variable is allocated, so that a
 * config with K = 10¹² or d = 10⁹ is refused in one line rather than by an allocation failure.
 * Within them, whether a model fits this machine is train/memory.ts's question.
 *
 * - K ≤ 2²⁴ (16,777,216): the codes whose indices the blocked nearest-code search combines
 *   exactly (MAX_EXACT_INDEX, nearest-code.ts); it refuses larger codebooks anyway.
 * - K·d ≤ 2³⁰ values: a codebook of at most 4 GiB of float32, 12 GiB with Adam's two moments,
 *   more than any machine this library trains on gives one model.
 * - d ≤ 2¹⁴ (16,384): 32 times the widest latents of the VQ-VAE literature (VQGAN's 256–512
 *   channels); SimVQ's d × d layer W then holds at most 2²⁸ values.
 */
export const SIZE_BOUNDS = { maxCodebookSize: 2 ** 24, maxDim: 2 ** 14, maxCodebookValues: 2 ** 30 } as const;

/**
 * Refuses codebooks of more than SIZE_BOUNDS.maxCodebookValues floats in all; `factors` name the
 * sizes whose product that is, e.g. [['K', 1024], ['d', 64]].
 */
export function checkCodebookValues(name: string, factors: readonly (readonly [string, number])[]): void {
  const values = factors.reduce((n, [, v]) => n * v, 1);
  if (values > SIZE_BOUNDS.maxCodebookValues) {
    const names = factors.map(([n]) => n).join(' × ');
    throw new Error(`${name}: codebooks of ${names} = ${factors.map(([, v]) => v).join(' × ')} values are more than the ${SIZE_BOUNDS.maxCodebookValues} (4 GiB of float32) allowed; make ${factors.map(([n]) => n).join(' or ')} smaller`);
  }
}

/** The code dimension d, an option of every quantizer. */
export const DIM_OPTION = { type: 'integer', min: 1, max: SIZE_BOUNDS.maxDim, required: true, doc: "d, the code dimension (= the encoder's output channels)" } as const;

/** The options every codebook quantizer (VQ, EMA-VQ, SimVQ, LFQ) shares. */
export const COMMON_OPTIONS = {
  codebookSize: { type: 'integer', min: 1, max: SIZE_BOUNDS.maxCodebookSize, required: true, doc: 'K, the number of codes' },
  dim: DIM_OPTION,
  // 0.25: the VQ-VAE paper's β (van den Oord et al. 2017, §3.2), which found 0.1 to 2.0 to work alike.
  beta: { type: 'number', min: 0, default: 0.25, doc: 'β, weight of the commitment loss ‖z_e − sg(q)‖²' },
  weight: { type: 'number', min: 0, default: 1, doc: 'overall weight of the quantizer loss' },
} as const;

/**
 * The nearest-code search's block sizes (nearest-code.ts), last in every schema that searches a
 * codebook, so that a config lists them after the options that change the model.
 */
export const SEARCH_OPTION = {
  search: {
    type: 'search',
    doc: 'block sizes {chunkM, chunkK, group} of the nearest-code search (speed and memory only; unset: chosen per shape)',
    saved: (o) => {
      const search = o.value('search');
      return typeof search === 'object' && search !== null && Object.keys(search).length > 0;
    },
  },
} as const satisfies OptionSchema;

export type CommonQuantizerOptions = OptionValues<typeof COMMON_OPTIONS & typeof SEARCH_OPTION>;

/** The initialization scale of VQ and EMA-VQ: a uniform bound or a normal standard deviation. */
export const INIT_SCALE_OPTION = {
  type: 'number',
  min: 0,
  minExclusive: true,
  default: derived('1/K (uniform), 1 (normal, unit)', (o) => (o.string('init') === 'uniform' ? 1 / o.number('codebookSize') : 1)),
  doc: 's, the bound, standard deviation or code norm of the initialization',
  saved: 'unless-default',
} as const;

/** The K·d bound of a codebook of K codes in d dimensions. */
export function checkCodebookShape(name: string, o: { readonly codebookSize: number; readonly dim: number }): void {
  checkCodebookValues(name, [['K', o.codebookSize], ['d', o.dim]]);
}

/**
 * The options every codebook quantizer shares, kept as fields. VectorQuantizer, EmaVectorQuantizer
 * and SimVQ extend it.
 */
export abstract class QuantizerBase {
  readonly codebookSize: number;
  readonly dim: number;
  readonly beta: number;
  readonly weight: number;
  readonly search: SearchBlocking;

  protected constructor(o: CommonQuantizerOptions) {
    this.codebookSize = o.codebookSize;
    this.dim = o.dim;
    this.beta = o.beta;
    this.weight = o.weight;
    this.search = o.search ?? {};
  }
}

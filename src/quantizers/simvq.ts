/**
 * SimVQ (Zhu et al., 2024, "Addressing Representation Collapse in Vector Quantized Models with
 * One Linear Layer", arXiv:2411.02038): the codebook is reparameterized as a frozen random basis C
 * times one learned linear layer,
 *
 *   C ∈ R^{K×d},  C_kj ~ N(0, 1/d) (std d^−½), frozen
 *   W ∈ R^{d×d},  b ∈ R^d                              one linear layer (b optional)
 *   q_k = C_k·W + b                                    effective codebook, recomputed every step
 *   k_i = argmin_k ‖z_e,i − q_k‖²                      nearest code (squared L2, ties → lowest k)
 *   z_q = z_e + sg(q_k − z_e)                          straight-through estimator
 *   L   = weight · (β·‖z_e − sg(q_k)‖² + ‖sg(z_e) − q_k‖²)
 *
 * Why it prevents collapse (the paper's analysis): in vanilla VQ, the codebook loss moves only the
 * chosen rows e_k, so unchosen codes never follow the encoder and die. Here the gradient of
 * ‖sg(z_e) − q_k‖² reaches W, and updating W moves every q_k = C_k·W at once — the whole codebook
 * rotates and scales with the latent space, so (almost) all codes stay in use.
 *
 * `optimize` chooses which factor is trained (the trainable flag of the variable store):
 *   'W'     SimVQ: C frozen, W and b trained.
 *   'C'     W and b frozen, C trained. With `frozenW: 'identity'` (the default) W = I and b = 0:
 *           exactly vanilla VQ with codebook C (C·I + 0 reproduces C bit for bit). With
 *           `frozenW: 'random'` W and b keep their random nn.Linear initialization: the paper's
 *           literal first scenario (C optimized, W a frozen random matrix), a VQ whose codes are
 *           C_k·W + b for a fixed random W, so its gradient steps on C are shaped by W·Wᵀ.
 *   'both'  C, W and b all trained.
 * W and b are initialized as PyTorch's nn.Linear (U(±1/√d)), as in the official code; in 'C'
 * mode with the identity they are the identity and zero instead.
 *
 * The loss is the official implementation's (non-legacy) form: β weights the commitment term
 * ‖z_e − sg(q)‖², and the codebook term ‖sg(z_e) − q‖² trains W (and/or C). Squared norms are
 * averaged over all elements.
 *
 * Decoding from indices (`lookup`) applies W and b. (The official repository's
 * `get_codebook_entry` returns rows of C without the projection, which decodes to the wrong
 * vectors; this does not repeat that.) For fewer indices than codes it computes gather(C, idx)·W + b,
 * never materializing the K×d codebook; otherwise it gathers from C·W + b.
 *
 * Options: SIMVQ_OPTIONS below; orthogonalWeight applies to the effective codebook C·W + b.
 * `preNorm` (pre-norm.ts) standardizes z before the search. An encoder whose outputs at
 * initialization share an offset several times their spread (the SEANet speech encoder: offset
 * norm 0.63, spread 0.12, against codes of norm ≈ 0.8 about 1.1 apart) sends nearly every latent to
 * the same few codes (6 of 4,096 for 200 latents of speech). It is not a cure for SimVQ on speech:
 * on festvox-ru (K = 4,096, batch 8 × 1 s, L1 + mel) 'batch' raised the first epoch's utilization
 * from 1.1 % to 38.7 %, but over the next two the codes in use fell again (perplexity 18.7, 10.4,
 * 5.8) to where the run without it was (4.0, 1.1, 25.1 in its first three epochs). What did help
 * there is a smaller d: at d = 8 the same set-up chose codes at perplexity 94.5–118.9 in epochs 2–4
 * and 92.5 % of them over the training set after 20 epochs (EXPERIMENTS.md, the speech probes and
 * Table 2). The encoder's latents vary along few directions, and a codebook C·W spread over d = 64
 * directions leaves most of its codes far from all of them.
 *
 * What k-means and dead-code replacement re-seed. The effective code is q_k = C_k·W + b, and W, b
 * are shared by all codes: changing them would move every live code. So the row C_k of the basis
 * is rewritten, solved so that the effective code equals the chosen vector v:
 * C_k = (v − b)·W⁻¹ (W is d×d; its LU factorization is computed once per host step). In the
 * default 'W' mode C is frozen, so a basis row whose code no input ever chooses would stay dead
 * forever; re-seeding it is the only way such a code returns. (If W is numerically singular the
 * step throws, naming the problem: the projection has collapsed.)
 *
 * Variables (under the context it is given): `codebook` C [K, d], `proj.weight` W [d, d] (x·W
 * convention, W is [in, out]), `proj.bias` b [d]. All without weight decay: decaying W would
 * shrink the whole codebook towards 0.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { identity, normal, uniform, zeros, type Initializer } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { VariableView } from '../runtime/variable-view.js';
import { checkCodebookOptions, CODEBOOK_OPTIONS, CodebookQuantizer, trackUsage } from './codebook-options.js';
import { derived, savedOptions, type OptionInput, type OptionSchema, type OptionValues } from './option-schema.js';
import { checkCodebookShape, COMMON_OPTIONS, SEARCH_OPTION } from './options.js';
import {
  checkQuantizerInput,
  l2NormalizeRows,
  quantizeAgainst,
  type Quantizer,
  type QuantizerOutput,
} from './quantizer.js';
import { solveRowsAgainst } from './linear-solve.js';
import { checkPreNorm, PRE_NORM_OPTION, preNormalize, type PreNorm } from './pre-norm.js';

/** The local name of the projection W [d, d] in the quantizer's scope. */
export const SIMVQ_PROJECTION = 'proj.weight';

export const SIMVQ_OPTIMIZE_MODES = ['W', 'C', 'both'] as const;
export type SimVQOptimize = (typeof SIMVQ_OPTIMIZE_MODES)[number];
export const SIMVQ_FROZEN_W = ['identity', 'random'] as const;
export type SimVQFrozenW = (typeof SIMVQ_FROZEN_W)[number];

export const SIMVQ_OPTIONS = {
  ...COMMON_OPTIONS,
  optimize: { type: 'choice', choices: SIMVQ_OPTIMIZE_MODES, default: 'W', doc: "which factor of q = C·W + b is trained: 'W' (SimVQ), 'C' (= vanilla VQ), 'both'" },
  frozenW: { type: 'choice', choices: SIMVQ_FROZEN_W, default: 'identity', saved: 'unless-default', doc: "with optimize 'C', the frozen W and b: 'identity' (W = I, b = 0: vanilla VQ) or 'random' (their nn.Linear init: the paper's scenario 1)" },
  bias: { type: 'boolean', default: true, doc: 'use the bias b of the linear layer' },
  // N(0, 1/d): the official code's initialization of the basis C.
  initScale: { type: 'number', min: 0, minExclusive: true, default: derived('d^-1/2', (o) => o.number('dim') ** -0.5), doc: 'standard deviation of the frozen basis C' },
  preNorm: PRE_NORM_OPTION,
  ...CODEBOOK_OPTIONS,
  ...SEARCH_OPTION,
} as const satisfies OptionSchema;

/** What `createQuantizer('simvq', …)` takes. */
export type SimVQOptions = OptionInput<typeof SIMVQ_OPTIONS>;
/** The resolved options a SimVQ is built from (its `config` without `kind`). */
export type SimVQConfig = OptionValues<typeof SIMVQ_OPTIONS>;

/** The rules between SimVQ's options that no single option's bounds express. */
export function checkSimVQOptions(o: SimVQConfig): void {
  checkCodebookShape('SimVQ', o);
  checkPreNorm('SimVQ', o.preNorm, o.dim);
  if (o.frozenW !== 'identity' && o.optimize !== 'C') {
    throw new Error(`SimVQ: frozenW '${o.frozenW}' says how W is frozen, but optimize '${o.optimize}' trains W; use optimize 'C' or drop frozenW`);
  }
  checkCodebookOptions('SimVQ', o);
}

export class SimVQ extends CodebookQuantizer implements Quantizer {
  readonly kind = 'simvq' as const;
  readonly depth = 1;
  readonly optimize: SimVQOptimize;
  readonly frozenW: SimVQFrozenW;
  readonly bias: boolean;
  readonly initScale: number;
  readonly preNorm: PreNorm;

  private readonly resolved: SimVQConfig;

  /** `o`: resolved options (createQuantizer('simvq', …) resolves and checks them). */
  constructor(o: SimVQConfig) {
    super(o, o);
    this.resolved = o;
    this.optimize = o.optimize;
    this.frozenW = o.frozenW;
    this.bias = o.bias;
    this.initScale = o.initScale;
    this.preNorm = o.preNorm;
  }

  /** C_k = (v − b)·W⁻¹ for each rewritten code (file comment). */
  async writeCodes(variables: VariableView, codes: readonly number[], vectors: Float32Array): Promise<void> {
    const d = this.dim;
    const w = await variables.read(SIMVQ_PROJECTION);
    const b = this.bias ? await variables.read('proj.bias') : new Float32Array(d);
    const targets = new Float64Array(codes.length * d);
    for (let i = 0; i < codes.length; i++) for (let j = 0; j < d; j++) targets[i * d + j] = vectors[i * d + j]! - b[j]!;
    const rows = solveRowsAgainst(w, d, targets, 'SimVQ: cannot re-seed codes because the projection W is singular (the codebook has collapsed); lower the learning rate');
    variables.writeRows('codebook', codes, Float32Array.from(rows));
    variables.resetOptimizerRows('codebook', codes);
  }

  get config(): Readonly<Record<string, unknown>> {
    return { kind: this.kind, ...savedOptions(SIMVQ_OPTIONS, this.resolved) };
  }

  /** The factors C [K, d], W [d, d] and b [d] (undefined without bias), created on first use. */
  factors(ctx: BuildContext): { c: Tensor; w: Tensor; b: Tensor | undefined } {
    const d = this.dim;
    const trainC = this.optimize !== 'W';
    const trainW = this.optimize !== 'C';
    const bound = 1 / Math.sqrt(d);
    const random = trainW || this.frozenW === 'random';
    const wInit: Initializer = random ? uniform(-bound, bound) : identity;
    const bInit: Initializer = random ? uniform(-bound, bound) : zeros;
    const c = ctx.param('codebook', [this.codebookSize, d], normal(this.initScale), { trainable: trainC, decay: false });
    const w = ctx.param(SIMVQ_PROJECTION, [d, d], wInit, { trainable: trainW, decay: false });
    const b = this.bias ? ctx.param('proj.bias', [d], bInit, { trainable: trainW, decay: false }) : undefined;
    return { c, w, b };
  }

  private project(x: Tensor, w: Tensor, b: Tensor | undefined): Tensor {
    const y = op.matmul(x, w);
    return b ? op.add(y, b) : y;
  }

  /** The effective codebook C·W + b [K, d]. */
  codebook(ctx: BuildContext): Tensor {
    const { c, w, b } = this.factors(ctx);
    return this.project(c, w, b);
  }

  /** q_idx = C_idx·W + b for int64 indices of any shape: [...indices, d]. */
  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    const { c, w, b } = this.factors(ctx);
    if (this.options.cosine) return op.gather(l2NormalizeRows(this.project(c, w, b)), indices);
    if (indices.size >= this.codebookSize) return op.gather(this.project(c, w, b), indices);
    // Few indices: project only the gathered rows (|idx|·d² instead of K·d² multiply-adds).
    const rows = op.reshape(op.gather(c, indices), [indices.size, this.dim]);
    return op.reshape(this.project(rows, w, b), [...indices.shape, this.dim]);
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('SimVQ', z, this.dim);
    // The loss is the same as VQ's with q_k = C_k·W + b in place of e_k; its codebook term is what
    // trains W (and/or C). With preNorm the normalized ẑ is what is searched, committed and
    // passed on (straight-through to z through the normalization).
    const out = quantizeAgainst(preNormalize(ctx, z, this.preNorm), this.codebook(ctx), { ...this, ...this.options });
    trackUsage(ctx, this.options, out.counts);
    return out;
  }
}

/**
 * Vector quantization as in VQ-VAE (van den Oord et al., 2017, "Neural Discrete Representation
 * Learning", §3.1–3.2, eq. 1–3).
 *
 * Given encoder outputs z_e [M, d] and a learned codebook e [K, d]:
 *
 *   k_i   = argmin_k ‖z_e,i − e_k‖²                  nearest code, squared L2, ties → lowest k (eq. 1–2)
 *   z_q   = z_e + sg(e_k − z_e)                       straight-through estimator: forward e_k,
 *                                                     backward ∂L/∂z_q copied to z_e unchanged
 *   L_cb  = ‖sg(z_e) − e_k‖²                          codebook loss: moves the chosen codes to their inputs
 *   L_com = ‖z_e − sg(e_k)‖²                          commitment loss: keeps z_e near its code
 *   L     = weight · (L_cb + β·L_com)                 (eq. 3)
 *
 * ‖·‖² is averaged over all M·d elements, as in the reference implementations (Sonnet's
 * `tf.reduce_mean`), so the loss scale does not depend on the batch size. Only codes some z_e
 * chooses receive gradient from L_cb (every other row of ∂L/∂e is exactly zero); that is why large
 * codebooks collapse, and what EMA-VQ and SimVQ address.
 *
 * Options: VQ_OPTIONS below (type, default, bounds and doc of each). The low-dimensional codebook
 * `codebookDim` = c is VQGAN-FC (Yu et al., 2021, "Vector-quantized Image Modeling with Improved
 * VQGAN", §3.2 "factorized codes"): z' = z_e·W_in + b_in [M, c] is quantized against e [K, c], and
 * the straight-through output z' + sg(e_k − z') is mapped back by W_out, b_out:
 * z_q = (z' + sg(e_k − z'))·W_out + b_out. The losses are computed in the c-space. Typically
 * combined with `cosine` (the paper's l2-normalized codes) and c = 8–32. The uniform
 * initialization U(±1/K) is the common VQ-VAE reference initialization; `init: 'unit'` starts
 * cosine and factorized codes at norm 1 instead (options.ts, `CodebookInit`, says why). The search blocking
 * changes memory and speed, never the result.
 *
 * Variables (under the context it is given): `codebook` [K, d] (or [K, c]), a trainable parameter
 * without weight decay (shrinking codes towards 0 would change the nearest-code geometry); with
 * codebookDim also `proj_in.weight` [d, c], `proj_in.bias` [c], `proj_out.weight` [c, d],
 * `proj_out.bias` [d] (PyTorch nn.Linear initialization U(±1/√fan_in)); with deadCodeThreshold
 * or deadCodeShare the state `code_usage` [K].
 *
 * Input: z_e [M, d] (use `flattenNCHW`, `quantizeFeatureMap` or `quantizeVectors` for other
 * layouts). Output: see `QuantizerOutput`; terms = { codebook: L_cb, commitment: L_com }.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { normal, sphere, uniform, type Initializer } from '../init/initializers.js';
import { linearLayer } from '../layers/linear.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { VariableView } from '../runtime/variable-view.js';
import {
  checkCodebookOptions,
  CODEBOOK_OPTIONS,
  CodebookQuantizer,
  trackUsage,
} from './codebook-options.js';
import { derived, savedOptions, type OptionInput, type OptionSchema, type OptionValues } from './option-schema.js';
import {
  checkCodebookShape,
  checkCodebookValues,
  CODEBOOK_INITS,
  COMMON_OPTIONS,
  INIT_SCALE_OPTION,
  SEARCH_OPTION,
  SIZE_BOUNDS,
  type CodebookInit,
} from './options.js';
import {
  checkQuantizerInput,
  quantizeAgainst,
  l2NormalizeRows,
  type Quantizer,
  type QuantizerOutput,
} from './quantizer.js';

export const VQ_OPTIONS = {
  ...COMMON_OPTIONS,
  init: { type: 'choice', choices: CODEBOOK_INITS, default: 'uniform', doc: "codebook initialization: 'uniform' U(±s), 'normal' N(0, s²), 'unit' random directions of norm s (for cosine and codebookDim codes)" },
  initScale: INIT_SCALE_OPTION,
  codebookDim: {
    type: 'integer',
    min: 1,
    max: SIZE_BOUNDS.maxDim,
    default: derived('d (no projection)', (o) => o.number('dim')),
    saved: 'unless-default',
    doc: 'c, a low-dimensional codebook with learned projections d→c→d (VQGAN-FC)',
  },
  ...CODEBOOK_OPTIONS,
  ...SEARCH_OPTION,
} as const satisfies OptionSchema;

/** What `createQuantizer('vq', …)` takes. */
export type VectorQuantizerOptions = OptionInput<typeof VQ_OPTIONS>;
/** The resolved options a VectorQuantizer is built from (its `config` without `kind`). */
export type VectorQuantizerConfig = OptionValues<typeof VQ_OPTIONS>;

/** The rules between VQ's options that no single option's bounds express. */
export function checkVectorQuantizerOptions(o: VectorQuantizerConfig): void {
  checkCodebookShape('VectorQuantizer', o);
  checkCodebookValues('VectorQuantizer', [['K', o.codebookSize], ['codebookDim', o.codebookDim]]);
  checkCodebookOptions('VectorQuantizer', o);
}

/** The codebook initializer for `init` and `initScale` (shared with the EMA quantizer). */
export function codebookInitializer(init: CodebookInit, initScale: number): Initializer {
  switch (init) {
    case 'uniform':
      return uniform(-initScale, initScale);
    case 'normal':
      return normal(initScale);
    case 'unit':
      return sphere(initScale);
  }
}

export class VectorQuantizer extends CodebookQuantizer implements Quantizer {
  readonly kind = 'vq' as const;
  readonly depth = 1;
  readonly init: CodebookInit;
  readonly initScale: number;
  /** c, the dimension codes live in (= dim without projection). */
  readonly codebookDim: number;
  private readonly initializer: Initializer;
  private readonly resolved: VectorQuantizerConfig;

  /** `o`: resolved options (createQuantizer('vq', …) resolves and checks them). */
  constructor(o: VectorQuantizerConfig) {
    super(o, o);
    this.resolved = o;
    this.init = o.init;
    this.initScale = o.initScale;
    this.initializer = codebookInitializer(this.init, this.initScale);
    this.codebookDim = o.codebookDim;
  }

  get config(): Readonly<Record<string, unknown>> {
    return { kind: this.kind, ...savedOptions(VQ_OPTIONS, this.resolved) };
  }

  private get projected(): boolean {
    return this.codebookDim !== this.dim;
  }

  /** The codebook e [K, c] that the search uses (c = d without projection). */
  codebook(ctx: BuildContext): Tensor {
    return ctx.param('codebook', [this.codebookSize, this.codebookDim], this.initializer, { decay: false });
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    let codes = this.codebook(ctx);
    if (this.options.cosine) codes = l2NormalizeRows(codes);
    const rows = op.gather(codes, indices);
    return this.projected ? linearLayer(ctx.scope('proj_out'), rows, { outFeatures: this.dim }) : rows;
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('VectorQuantizer', z, this.dim);
    const inner = this.projected ? linearLayer(ctx.scope('proj_in'), z, { outFeatures: this.codebookDim }) : z;
    const out = quantizeAgainst(inner, this.codebook(ctx), { ...this, ...this.options });
    trackUsage(ctx, this.options, out.counts);
    if (!this.projected) return out;
    return { ...out, quantized: linearLayer(ctx.scope('proj_out'), out.quantized, { outFeatures: this.dim }), nonFinite: out.nonFinite };
  }

  writeCodes(variables: VariableView, codes: readonly number[], vectors: Float32Array): Promise<void> {
    variables.writeRows('codebook', codes, vectors);
    variables.resetOptimizerRows('codebook', codes);
    return Promise.resolve();
  }
}


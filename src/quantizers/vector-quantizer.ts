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
 * Options (`VectorQuantizerOptions`):
 *   codebookSize  K, the number of codes (≥ 1).
 *   dim           d, the code dimension; must equal the encoder's output channels.
 *   beta          β, the commitment weight (default 0.25, the paper's value; ≥ 0).
 *   weight        overall weight of the quantizer loss (default 1).
 *   init          'uniform': U(−s, s) with s = initScale ?? 1/K, the common VQ-VAE reference
 *                 initialization; 'normal': N(0, s²) with s = initScale ?? 1 (default 'uniform').
 *   initScale     bound (uniform) or standard deviation (normal) of the initialization.
 *   search        block sizes of the nearest-code search (nearest-code.ts); they change memory and
 *                 speed, never the result.
 *
 * Variables (under the context it is given): `codebook` [K, d], a trainable parameter without
 * weight decay (shrinking codes towards 0 would change the nearest-code geometry).
 *
 * Input: z_e [M, d] (use `flattenNCHW`, `quantizeFeatureMap` or `quantizeVectors` for other
 * layouts). Output: see `QuantizerOutput`; terms = { codebook: L_cb, commitment: L_com }.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { normal, uniform, type Initializer } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import {
  CODEBOOK_INITS,
  COMMON_OPTION_KEYS,
  QuantizerBase,
  validateChoice,
  type CodebookInit,
  type CommonQuantizerOptions,
} from './options.js';
import {
  checkQuantizerInput,
  quantizeAgainst,
  type Quantizer,
  type QuantizerOutput,
} from './quantizer.js';

export interface VectorQuantizerOptions extends CommonQuantizerOptions {
  /** Codebook initialization: 'uniform' U(±1/K) or 'normal' N(0, 1) (default 'uniform'). */
  readonly init?: CodebookInit;
  /** Uniform bound or normal standard deviation (defaults 1/K and 1). */
  readonly initScale?: number;
}

export const VQ_OPTION_KEYS: readonly string[] = [...COMMON_OPTION_KEYS, 'init', 'initScale'];

/** The codebook initializer for `init` and `initScale` (shared with the EMA quantizer). */
export function codebookInitializer(name: string, init: CodebookInit, initScale: number | undefined, codebookSize: number): Initializer {
  validateChoice(name, 'init', init, CODEBOOK_INITS);
  if (initScale !== undefined && !(Number.isFinite(initScale) && initScale > 0)) {
    throw new Error(`${name}: initScale must be a finite number > 0, got ${initScale}`);
  }
  if (init === 'uniform') {
    const s = initScale ?? 1 / codebookSize;
    return uniform(-s, s);
  }
  return normal(initScale ?? 1);
}

export class VectorQuantizer extends QuantizerBase implements Quantizer {
  readonly kind = 'vq' as const;
  readonly init: CodebookInit;
  readonly initScale: number | undefined;
  private readonly initializer: Initializer;

  constructor(o: VectorQuantizerOptions) {
    super('VectorQuantizer', o);
    this.init = o.init ?? 'uniform';
    this.initScale = o.initScale;
    this.initializer = codebookInitializer('VectorQuantizer', this.init, this.initScale, this.codebookSize);
  }

  get config(): Readonly<Record<string, unknown>> {
    return this.configWith(this.kind, {
      init: this.init,
      ...(this.initScale !== undefined ? { initScale: this.initScale } : {}),
    });
  }

  codebook(ctx: BuildContext): Tensor {
    return ctx.param('codebook', [this.codebookSize, this.dim], this.initializer, { decay: false });
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    return op.gather(this.codebook(ctx), indices);
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('VectorQuantizer', z, this.dim);
    return quantizeAgainst(z, this.codebook(ctx), this);
  }
}

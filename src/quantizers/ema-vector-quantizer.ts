/**
 * Vector quantization with an exponential-moving-average codebook (VQ-VAE, van den Oord et al.,
 * 2017, appendix A.1; DeepMind Sonnet's `VectorQuantizerEMA`).
 *
 * The codebook is not trained by gradients. Each training step, for every code i, with n_i the
 * number of batch vectors assigned to it and Σ_j z_i,j their sum:
 *
 *   N_i ← γ·N_i + (1 − γ)·n_i                          EMA cluster size
 *   m_i ← γ·m_i + (1 − γ)·Σ_j z_i,j                     EMA sum of the assigned z
 *   Ñ_i = (N_i + ε) / (n + K·ε) · n,   n = Σ_i N_i      Laplace smoothing (Sonnet), so that an
 *                                                      unused code never divides by zero
 *   e_i = m_i / Ñ_i                                     the new code: mean of its (smoothed) EMA
 *
 * The search and the output use the codebook from before the update (as Sonnet does); the update
 * is part of the same training-step graph (`ctx.setState`) and is applied by ORT's single run
 * together with the optimizer step. Inference graphs (mode 'eval') read the state and never
 * change it. n_i and Σ_j z_i,j come from ScatterAdd over the chosen indices, never from a dense
 * [M, K] one-hot, so K can be 65,536 or more.
 *
 * Loss: only the commitment term reaches the encoder, L = weight · β·‖z_e − sg(e_k)‖²; the
 * straight-through output z_e + sg(e_k − z_e) passes the decoder gradient to z_e unchanged.
 *
 * Initialization (a documented choice). Sonnet draws e from a distribution and starts its EMAs
 * at N = 0 and m = e, but its moving averages are zero-debiased (divided by 1 − γ^t), which makes
 * the first update overwrite them: in effect N = n and m = Σz after step 1, so unused codes
 * collapse to 0. Taken literally without debiasing (the equations above), N = 0 with m = e is
 * unstable: an unused code gets e_i = γ·e_i/Ñ_i with Ñ_i ≈ ε, i.e. it is multiplied by ~10⁵.
 * vqlab therefore starts from a state that is already consistent with the codebook:
 *
 *   e ~ init,   N_i = c,   m_i = c·e_i     (c = `initialCount`)
 *
 * so at step 0, Ñ_i = c and m_i/Ñ_i = e_i exactly: every code behaves as if it had been assigned
 * c vectors equal to itself. The prior fades at rate γ per step; unused codes stay where they were
 * initialized (decaying towards 0 only once γ^t falls below ε), and used codes move to the mean
 * of their assigned vectors. `initialCount: 0` reproduces Sonnet's effective (debiased) behavior.
 *
 * Options: EMA_OPTIONS below. The 'normal' initialization with std 1 is Sonnet's choice of a
 * unit-scale distribution.
 *
 * State variables (under the context it is given): `codebook` e [K, d], `ema_cluster_size`
 * N [K], `ema_sum` m [K, d]. The quantizer has no parameters.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import type { Initializer } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { nearestCode } from './nearest-code.js';
import type { VariableView } from '../runtime/variable-view.js';
import { checkCodebookOptions, CODEBOOK_OPTIONS, CodebookQuantizer, trackUsage } from './codebook-options.js';
import { savedOptions, type OptionInput, type OptionSchema, type OptionValues } from './option-schema.js';
import { checkCodebookShape, COMMON_OPTIONS, INIT_SCALE_OPTION, SEARCH_OPTION, type CodebookInit } from './options.js';
import {
  checkQuantizerInput,
  codeCounts,
  meanSquaredError,
  nonFiniteCount,
  straightThrough,
  type Quantizer,
  type QuantizerOutput,
} from './quantizer.js';
import { rotateTo } from './rotation-trick.js';
import { codebookInitializer, VQ_OPTIONS } from './vector-quantizer.js';

export const EMA_OPTIONS = {
  ...COMMON_OPTIONS,
  decay: { type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.99, doc: 'γ, decay of the EMA cluster sizes and sums' },
  epsilon: { type: 'number', min: 0, minExclusive: true, default: 1e-5, doc: 'ε, Laplace smoothing of the cluster sizes' },
  init: { ...VQ_OPTIONS.init, default: 'normal' },
  initScale: INIT_SCALE_OPTION,
  initialCount: { type: 'number', min: 0, default: 1, doc: "c, initial EMA cluster size of every code (m = c·e); 0 = Sonnet's effective start" },
  rotationTrick: CODEBOOK_OPTIONS.rotationTrick,
  kmeansIters: CODEBOOK_OPTIONS.kmeansIters,
  kmeansSamples: CODEBOOK_OPTIONS.kmeansSamples,
  deadCodeThreshold: CODEBOOK_OPTIONS.deadCodeThreshold,
  deadCodeShare: CODEBOOK_OPTIONS.deadCodeShare,
  usageDecay: CODEBOOK_OPTIONS.usageDecay,
  ...SEARCH_OPTION,
} as const satisfies OptionSchema;

/** What `createQuantizer('ema', …)` takes. */
export type EmaVectorQuantizerOptions = OptionInput<typeof EMA_OPTIONS>;
/** The resolved options an EmaVectorQuantizer is built from (its `config` without `kind`). */
export type EmaVectorQuantizerConfig = OptionValues<typeof EMA_OPTIONS>;

/** The rules between EMA-VQ's options that no single option's bounds express. */
export function checkEmaVectorQuantizerOptions(o: EmaVectorQuantizerConfig): void {
  checkCodebookShape('EmaVectorQuantizer', o);
  checkCodebookOptions('EmaVectorQuantizer', o);
}

export class EmaVectorQuantizer extends CodebookQuantizer implements Quantizer {
  readonly kind = 'ema' as const;
  readonly depth = 1;
  readonly decay: number;
  readonly epsilon: number;
  readonly init: CodebookInit;
  readonly initScale: number;
  readonly initialCount: number;
  private readonly initializer: Initializer;
  private readonly resolved: EmaVectorQuantizerConfig;

  /** `o`: resolved options (createQuantizer('ema', …) resolves and checks them). */
  constructor(o: EmaVectorQuantizerConfig) {
    // The EMA codebook is not trained by a loss, so the cosine and orthogonal options are off.
    super(o, { ...o, cosine: false, orthogonalWeight: 0 });
    this.resolved = o;
    this.decay = o.decay;
    this.epsilon = o.epsilon;
    this.init = o.init;
    this.initScale = o.initScale;
    this.initialCount = o.initialCount;
    this.initializer = codebookInitializer(this.init, this.initScale);
  }

  writeCodes(variables: VariableView, codes: readonly number[], vectors: Float32Array): Promise<void> {
    variables.writeRows('codebook', codes, vectors);
    variables.writeRows('ema_sum', codes, vectors);
    variables.writeRows('ema_cluster_size', codes, new Float32Array(codes.length).fill(1));
    return Promise.resolve();
  }

  get config(): Readonly<Record<string, unknown>> {
    return { kind: this.kind, ...savedOptions(EMA_OPTIONS, this.resolved) };
  }

  /** The codebook e [K, d] (state, not a parameter). */
  codebook(ctx: BuildContext): Tensor {
    return this.variables(ctx).e;
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    return op.gather(this.codebook(ctx), indices);
  }

  /**
   * The three state variables. m starts as c·e (file comment), which no constant initializer can
   * express, so its initial value is computed from the codebook's when the store creates it (the
   * three are created together, so that is the codebook's initial value); a checkpoint load
   * overwrites all three afterwards as usual.
   */
  private variables(ctx: BuildContext): { e: Tensor; clusterSize: Tensor; sum: Tensor } {
    const k = this.codebookSize;
    const c = this.initialCount;
    const e = ctx.state('codebook', [k, this.dim], this.initializer);
    const clusterSize = ctx.state('ema_cluster_size', [k], { kind: 'constant', value: c });
    const sum = ctx.state('ema_sum', [k, this.dim], c === 0 ? { kind: 'constant', value: 0 } : () => Float32Array.from(ctx.variable('codebook').value, (v) => c * v));
    return { e, clusterSize, sum };
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('EmaVectorQuantizer', z, this.dim);
    const { e, clusterSize, sum } = this.variables(ctx);
    const k = this.codebookSize;
    const indices = nearestCode(z, e, this.search);
    const q = op.gather(e, indices);
    const commitment = meanSquaredError(z, op.stopGradient(q));
    const loss = op.mul(commitment, this.beta * this.weight);
    const counts = codeCounts(indices, k);

    // EMA update (file comment). Σ_j z_i,j by ScatterAdd of the (gradient-free) inputs.
    const g = z.graph;
    const zs = op.stopGradient(z);
    const batchSum = op.scatterAdd(op.expand(g.scalar(0), [k, this.dim]), indices, zs);
    const nextN = op.add(op.mul(clusterSize, this.decay), op.mul(counts, 1 - this.decay));
    const nextM = op.add(op.mul(sum, this.decay), op.mul(batchSum, 1 - this.decay));
    const n = op.reduceSum(nextN);
    const smoothed = op.mul(op.div(op.add(nextN, this.epsilon), op.add(n, k * this.epsilon)), n);
    const nextE = op.div(nextM, op.reshape(smoothed, [k, 1]));
    ctx.setState('ema_cluster_size', nextN);
    ctx.setState('ema_sum', nextM);
    ctx.setState('codebook', nextE);
    trackUsage(ctx, this.options, counts);

    return {
      quantized: this.options.rotationTrick ? rotateTo(z, q) : straightThrough(z, q),
      indices,
      loss,
      terms: { commitment },
      counts,
      nonFinite: nonFiniteCount(z),
      searchInputs: zs,
    };
  }
}

/**
 * Lookup-Free Quantization (Yu et al., 2023, "Language Model Beats Diffusion — Tokenizer is Key to
 * Visual Generation" (MAGVIT-v2), arXiv:2310.05737, §3.1, eq. 1–3).
 *
 * The codebook is implicit: the corners {−1, 1}^b of a b-dimensional cube, K = 2^b codes. With
 * encoder outputs z [M, d]:
 *
 *   h     = N(z)·W_in + b_in                       projection d → b (omitted when d = b), after the
 *                                                  normalization N of `preNorm` (pre-norm.ts; default none)
 *   q_j   = sign(h_j)  (+1 for h_j > 0, −1 otherwise)                           (eq. 1)
 *   index = Σ_j [q_j > 0]·2^(b−1−j)                first dimension = most significant bit (eq. 2)
 *   z_q   = (h + sg(q − h))·W_out + b_out          straight-through, projected back
 *
 * Entropy loss (eq. 3), from the code distribution of each vector,
 *   p(k | h_i) = softmax_k(2·⟨h_i, c_k⟩ / τ)       (= softmax of −‖h_i − c_k‖²/τ, since ‖c_k‖² = b)
 *   L_ent = E_i[H(p(· | h_i))] − γ·H(E_i[p(· | h_i)])
 * lowers the per-sample entropy (each vector commits to one code) and raises the entropy of the
 * batch-averaged distribution (all codes get used; γ = `diversityGamma`). The total loss is
 *
 *   L = weight · (λ_ent·L_ent + β·‖h − sg(q)‖²)
 *
 * with λ_ent = `entropyWeight` and β the commitment weight, whose defaults (LFQ_OPTIONS) are
 * those of the reference PyTorch implementation (vector-quantize-pytorch's LFQ), as is the
 * inverse temperature 1/τ = 100. Entropies are in nats; H(p) of the
 * per-sample term is computed as logsumexp(l) − Σ p·l (exact, no log of 0), the batch term as
 * −Σ p̄ log(p̄ + 1e-12).
 *
 * Bit groups. A dense [M, K] softmax costs M·K memory and time: 1.6 GB per tensor at K = 2^16 and
 * M = 6,272, too slow to train on a CPU. Because ⟨h, c_k⟩ = Σ_j h_j·c_kj, the code distribution of
 * one vector is a product over the bits, p(k | h) = Π_j p_j(c_kj | h_j), so it also factorizes
 * over any partition of the b bits into groups G_1 … G_n (each group a softmax over its 2^|G|
 * corners). Hence
 *   - the per-sample term is exact for any grouping: H(p(· | h)) = Σ_g H(p_g(· | h_G_g));
 *   - the batch term becomes Σ_g H(E_i[p_g]), an upper bound on H(E_i[p]) (subadditivity of
 *     entropy), equal to it when the groups are independent under the batch average. Maximizing it
 *     spreads each group's usage over its 2^|G| corners but cannot spread the joint codes directly.
 * `entropyGroupBits` = B sets the largest group: the b bits are split into ⌈b/B⌉ consecutive groups
 * whose sizes differ by at most one (b = 16, B = 12 → 8 + 8). With b ≤ B (every K ≤ 4,096 at the
 * default B) there is one group and the loss is eq. 3 exactly. Cost: M·Σ_g 2^|G_g|.
 *
 * terms = { entropy: L_ent, sampleEntropy, batchEntropy, commitment }.
 *
 * Options: LFQ_OPTIONS below. Variables: with projection `proj_in.*` [d, b],
 * [b] and `proj_out.*` [b, d], [d]; with preNorm 'batch' the state `pre_norm.mean`, `pre_norm.var` [d].
 */
import { logSumExp, softmax } from '../graph/composites.js';
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { linearLayer } from '../layers/linear.js';
import type { BuildContext } from '../runtime/build-context.js';
import { savedOptions, type OptionInput, type OptionSchema, type OptionValues } from './option-schema.js';
import { COMMON_OPTIONS } from './options.js';
import { checkPreNorm, PRE_NORM_OPTION, preNormalize, type PreNorm } from './pre-norm.js';
import { checkQuantizerInput, codeCounts, meanSquaredError, nonFiniteCount, straightThrough, type Quantizer, type QuantizerOutput } from './quantizer.js';

/** Largest b: usage counts and the implicit codebook constant are [2^b] and [2^b, b]. */
const MAX_BITS = 16;

export const LFQ_OPTIONS = {
  codebookSize: { ...COMMON_OPTIONS.codebookSize, min: 2, max: 2 ** MAX_BITS, doc: 'K = 2^b, a power of two: b sign bits per vector' },
  dim: COMMON_OPTIONS.dim,
  beta: COMMON_OPTIONS.beta,
  weight: COMMON_OPTIONS.weight,
  entropyWeight: { type: 'number', min: 0, default: 0.1, doc: 'λ_ent, weight of the entropy loss E[H(p)] − γ·H(E[p])' },
  diversityGamma: { type: 'number', min: 0, default: 1, doc: 'γ, weight of the batch (codebook) entropy inside the entropy loss' },
  temperature: { type: 'number', min: 0, minExclusive: true, default: 0.01, doc: 'τ of the code distribution softmax(2⟨h, c_k⟩/τ)' },
  entropyGroupBits: { type: 'integer', min: 1, default: 12, doc: 'largest bit group of the entropy loss: b bits split into ⌈b/B⌉ near-equal groups; exact when b ≤ B, factorized batch entropy above' },
  preNorm: PRE_NORM_OPTION,
} as const satisfies OptionSchema;

/** What `createQuantizer('lfq', …)` takes. */
export type LFQOptions = OptionInput<typeof LFQ_OPTIONS>;
/** The resolved options an LFQ is built from (its `config` without `kind`). */
export type LFQConfig = OptionValues<typeof LFQ_OPTIONS>;

/** The rules no single option's bounds express: K is a power of two; a normalization needs d ≥ 2. */
export function checkLFQOptions(o: LFQConfig): void {
  checkPreNorm('LFQ', o.preNorm, o.dim);
  if (!Number.isInteger(Math.log2(o.codebookSize))) {
    throw new Error(`LFQ: codebookSize must be a power of two between 2 and 2^${MAX_BITS} (K = 2^bits), got ${o.codebookSize}`);
  }
}

export class LFQ implements Quantizer {
  readonly kind = 'lfq' as const;
  readonly depth = 1;
  readonly codebookSize: number;
  readonly dim: number;
  readonly bits: number;
  readonly beta: number;
  readonly weight: number;
  readonly entropyWeight: number;
  readonly diversityGamma: number;
  readonly temperature: number;
  readonly entropyGroupBits: number;
  readonly preNorm: PreNorm;

  private readonly resolved: LFQConfig;

  /** `o`: resolved options (createQuantizer('lfq', …) resolves and checks them). */
  constructor(o: LFQConfig) {
    this.resolved = o;
    this.codebookSize = o.codebookSize;
    this.bits = Math.log2(o.codebookSize);
    this.dim = o.dim;
    this.beta = o.beta;
    this.weight = o.weight;
    this.entropyWeight = o.entropyWeight;
    this.diversityGamma = o.diversityGamma;
    this.temperature = o.temperature;
    this.entropyGroupBits = o.entropyGroupBits;
    this.preNorm = o.preNorm;
  }

  get countsSize(): number {
    return this.codebookSize;
  }

  get config(): Readonly<Record<string, unknown>> {
    return { kind: this.kind, ...savedOptions(LFQ_OPTIONS, this.resolved) };
  }

  private get projected(): boolean {
    return this.dim !== this.bits;
  }

  /** The corners c_k ∈ {−1, 1}^b [K, b], bit j of k (most significant first) → +1. */
  implicitCodebook(): Float32Array {
    return cubeCorners(this.bits);
  }

  /** Sizes of the consecutive bit groups of the entropy loss (file comment), most significant first. */
  entropyGroups(): number[] {
    const n = Math.ceil(this.bits / this.entropyGroupBits);
    const small = Math.floor(this.bits / n);
    return Array.from({ length: n }, (_, g) => small + (g < this.bits - small * n ? 1 : 0));
  }

  private corners(ctx: BuildContext): Tensor {
    return ctx.graph.constant(this.implicitCodebook(), [this.codebookSize, this.bits]);
  }

  codebook(ctx: BuildContext): Tensor {
    const c = this.corners(ctx);
    return this.projected ? linearLayer(ctx.scope('proj_out'), c, { outFeatures: this.dim }) : c;
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    const rows = op.gather(this.corners(ctx), indices);
    return this.projected ? linearLayer(ctx.scope('proj_out'), rows, { outFeatures: this.dim }) : rows;
  }

  /** The entropy terms of eq. 3 for h [M, b], summed over the bit groups (file comment). */
  entropyTerms(ctx: BuildContext, h: Tensor): { sampleEntropy: Tensor; batchEntropy: Tensor; entropy: Tensor } {
    const sample: Tensor[] = [];
    const batch: Tensor[] = [];
    let start = 0;
    for (const size of this.entropyGroups()) {
      const hg = size === this.bits ? h : op.slice(h, 1, start, start + size);
      const corners = ctx.graph.constant(cubeCorners(size), [2 ** size, size]);
      const logits = op.mul(op.matmul(hg, op.transpose(corners, [1, 0])), 2 / this.temperature); // [M, 2^|G|]
      const p = softmax(logits, 1);
      sample.push(op.reduceMean(op.sub(logSumExp(logits, 1), op.reduceSum(op.mul(p, logits), 1))));
      const mean = op.reduceMean(p, 0);
      batch.push(op.neg(op.reduceSum(op.mul(mean, op.log(op.add(mean, 1e-12))))));
      start += size;
    }
    const sampleEntropy = sample.reduce((a, t) => op.add(a, t));
    const batchEntropy = batch.reduce((a, t) => op.add(a, t));
    return { sampleEntropy, batchEntropy, entropy: op.sub(sampleEntropy, op.mul(batchEntropy, this.diversityGamma)) };
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('LFQ', z, this.dim);
    const input = preNormalize(ctx, z, this.preNorm);
    const h = this.projected ? linearLayer(ctx.scope('proj_in'), input, { outFeatures: this.bits }) : input;
    const positive = op.greater(op.stopGradient(h), 0);
    const q = op.where(positive, 1, -1);
    const bitValues = Float32Array.from({ length: this.bits }, (_, j) => 2 ** (this.bits - 1 - j));
    const flat = op.matmul(op.where(positive, 1, 0), ctx.graph.constant(bitValues, [this.bits, 1]));
    const indices = op.cast(op.reshape(flat, [z.shape[0]!]), 'int64');
    const commitment = meanSquaredError(h, op.stopGradient(q));
    const { sampleEntropy, batchEntropy, entropy } = this.entropyTerms(ctx, h);
    const loss = op.mul(op.add(op.mul(entropy, this.entropyWeight), op.mul(commitment, this.beta)), this.weight);
    const st = straightThrough(h, q);
    return {
      quantized: this.projected ? linearLayer(ctx.scope('proj_out'), st, { outFeatures: this.dim }) : st,
      indices,
      loss,
      terms: { entropy, sampleEntropy, batchEntropy, commitment },
      counts: codeCounts(indices, this.codebookSize),
      nonFinite: nonFiniteCount(z),
    };
  }
}

/** The 2^b corners of {−1, 1}^b as rows [2^b, b]: bit j of k (most significant first) → +1. */
function cubeCorners(b: number): Float32Array {
  const out = new Float32Array(2 ** b * b);
  for (let k = 0; k < 2 ** b; k++) {
    for (let j = 0; j < b; j++) out[k * b + j] = (k >> (b - 1 - j)) & 1 ? 1 : -1;
  }
  return out;
}

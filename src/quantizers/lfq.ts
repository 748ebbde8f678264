/**
 * Lookup-Free Quantization (Yu et al., 2023, "Language Model Beats Diffusion — Tokenizer is Key to
 * Visual Generation" (MAGVIT-v2), arXiv:2310.05737, §3.1, eq. 1–3).
 *
 * The codebook is implicit: the corners {−1, 1}^b of a b-dimensional cube, K = 2^b codes. With
 * encoder outputs z [M, d]:
 *
 *   h     = z·W_in + b_in                          projection d → b (omitted when d = b)
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
 * with λ_ent = `entropyWeight` (default 0.1) and β the commitment weight (default 0.25), the
 * defaults of the reference PyTorch implementation (vector-quantize-pytorch's LFQ), whose
 * inverse temperature 1/τ = 100 is also the default here. Entropies are in nats; H(p) of the
 * per-sample term is computed as logsumexp(l) − Σ p·l (exact, no log of 0), the batch term as
 * −Σ p̄ log(p̄ + 1e-12). p is a dense [M, K] softmax: affordable for K up to ~2^14 at MNIST's
 * M = 6,272; larger b would need the factorized form.
 *
 * terms = { entropy: L_ent, sampleEntropy, batchEntropy, commitment }.
 *
 * Options (`LFQOptions`): codebookSize K (a power of two), dim d, beta, weight, entropyWeight,
 * diversityGamma, temperature τ. Variables: with projection `proj_in.*` [d, b], [b] and
 * `proj_out.*` [b, d], [d].
 */
import { linear, logSumExp, softmax } from '../graph/composites.js';
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { uniform } from '../init/initializers.js';
import type { BuildContext } from '../runtime/build-context.js';
import { checkOptions, COMMON_OPTIONS, type OptionSpecs } from './options.js';
import { checkQuantizerInput, codeCounts, meanSquaredError, nonFiniteCount, straightThrough, type Quantizer, type QuantizerOutput } from './quantizer.js';

export interface LFQOptions {
  /** K = 2^b codes (a power of two ≥ 2). */
  readonly codebookSize: number;
  readonly dim: number;
  readonly beta?: number;
  readonly weight?: number;
  readonly entropyWeight?: number;
  readonly diversityGamma?: number;
  readonly temperature?: number;
}

export const LFQ_OPTIONS: OptionSpecs = {
  codebookSize: { ...COMMON_OPTIONS.codebookSize!, min: 2, doc: 'K = 2^b, a power of two: b sign bits per vector' },
  dim: COMMON_OPTIONS.dim!,
  beta: COMMON_OPTIONS.beta!,
  weight: COMMON_OPTIONS.weight!,
  entropyWeight: { type: 'number', min: 0, default: '0.1', doc: 'λ_ent, weight of the entropy loss E[H(p)] − γ·H(E[p])' },
  diversityGamma: { type: 'number', min: 0, default: '1', doc: 'γ, weight of the batch (codebook) entropy inside the entropy loss' },
  temperature: { type: 'number', min: 0, minExclusive: true, default: '0.01', doc: 'τ of the code distribution softmax(2⟨h, c_k⟩/τ)' },
};

/** Largest b with a dense [M, 2^b] code distribution. */
const MAX_BITS = 16;

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

  constructor(o: LFQOptions) {
    checkOptions('LFQ', { ...o }, LFQ_OPTIONS);
    this.codebookSize = o.codebookSize;
    this.bits = Math.log2(o.codebookSize);
    if (!Number.isInteger(this.bits) || this.bits > MAX_BITS) {
      throw new Error(`LFQ: codebookSize must be a power of two between 2 and 2^${MAX_BITS} (K = 2^bits), got ${o.codebookSize}`);
    }
    this.dim = o.dim;
    this.beta = o.beta ?? 0.25;
    this.weight = o.weight ?? 1;
    this.entropyWeight = o.entropyWeight ?? 0.1;
    this.diversityGamma = o.diversityGamma ?? 1;
    this.temperature = o.temperature ?? 0.01;
  }

  get countsSize(): number {
    return this.codebookSize;
  }

  get config(): Readonly<Record<string, unknown>> {
    return {
      kind: this.kind,
      codebookSize: this.codebookSize,
      dim: this.dim,
      beta: this.beta,
      weight: this.weight,
      entropyWeight: this.entropyWeight,
      diversityGamma: this.diversityGamma,
      temperature: this.temperature,
    };
  }

  private get projected(): boolean {
    return this.dim !== this.bits;
  }

  private project(ctx: BuildContext, name: string, x: Tensor, inDim: number, outDim: number): Tensor {
    const bound = 1 / Math.sqrt(inDim);
    const w = ctx.param(`${name}.weight`, [inDim, outDim], uniform(-bound, bound));
    const b = ctx.param(`${name}.bias`, [outDim], uniform(-bound, bound));
    return linear(x, w, b);
  }

  /** The corners c_k ∈ {−1, 1}^b [K, b], bit j of k (most significant first) → +1. */
  implicitCodebook(): Float32Array {
    const b = this.bits;
    const out = new Float32Array(this.codebookSize * b);
    for (let k = 0; k < this.codebookSize; k++) {
      for (let j = 0; j < b; j++) out[k * b + j] = (k >> (b - 1 - j)) & 1 ? 1 : -1;
    }
    return out;
  }

  private corners(ctx: BuildContext): Tensor {
    return ctx.graph.constant(this.implicitCodebook(), [this.codebookSize, this.bits]);
  }

  codebook(ctx: BuildContext): Tensor {
    const c = this.corners(ctx);
    return this.projected ? this.project(ctx, 'proj_out', c, this.bits, this.dim) : c;
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    const rows = op.gather(this.corners(ctx), indices);
    return this.projected ? this.project(ctx, 'proj_out', rows, this.bits, this.dim) : rows;
  }

  /** The entropy terms of eq. 3 for h [M, b] (file comment). */
  entropyTerms(ctx: BuildContext, h: Tensor): { sampleEntropy: Tensor; batchEntropy: Tensor; entropy: Tensor } {
    const logits = op.mul(op.matmul(h, op.transpose(this.corners(ctx), [1, 0])), 2 / this.temperature); // [M, K]
    const p = softmax(logits, 1);
    const perSample = op.sub(logSumExp(logits, 1), op.reduceSum(op.mul(p, logits), 1));
    const sampleEntropy = op.reduceMean(perSample);
    const mean = op.reduceMean(p, 0);
    const batchEntropy = op.neg(op.reduceSum(op.mul(mean, op.log(op.add(mean, 1e-12)))));
    return { sampleEntropy, batchEntropy, entropy: op.sub(sampleEntropy, op.mul(batchEntropy, this.diversityGamma)) };
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('LFQ', z, this.dim);
    const h = this.projected ? this.project(ctx, 'proj_in', z, this.dim, this.bits) : z;
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
      quantized: this.projected ? this.project(ctx, 'proj_out', st, this.bits, this.dim) : st,
      indices,
      loss,
      terms: { entropy, sampleEntropy, batchEntropy, commitment },
      counts: codeCounts(indices, this.codebookSize),
      nonFinite: nonFiniteCount(z),
    };
  }
}

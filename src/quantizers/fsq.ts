/**
 * Finite Scalar Quantization (Mentzer et al., 2023, "Finite Scalar Quantization: VQ-VAE Made
 * Simple", arXiv:2309.15505, §3 and appendix A.1).
 *
 * The codebook is implicit: a grid with L_j levels in each of D = |levels| dimensions, so
 * K = Π_j L_j codes (8,5,5,5 → 1,000; 8,8,8,6,5 → 15,360). With encoder outputs z [M, d]:
 *
 *   h     = N(z)·W_in + b_in                             projection d → D (omitted when d = D), after
 *                                                        the normalization N of `preNorm` (pre-norm.ts;
 *                                                        default none)
 *   f_j   = tanh(h_j + s_j)·a_j − o_j                     bound (appendix A.1):
 *           a_j = (L_j − 1)(1 + ε)/2,  o_j = ½ if L_j even else 0,  s_j = atanh(o_j / a_j),
 *           so f_j ∈ (−⌊L_j/2⌋ − ½, ⌊L_j/2⌋ + ½) − o_j and rounds to exactly L_j integers
 *   q_j   = round(f_j)                                   forward; gradient straight-through:
 *           f_j + sg(round(f_j) − f_j)
 *   ẑ_j   = q_j / ⌊L_j/2⌋                                 normalized to about [−1, 1]
 *   z_q   = ẑ·W_out + b_out                              projection D → d (omitted when d = D)
 *   index = Σ_j (q_j + ⌊L_j/2⌋)·Π_{i<j} L_i              mixed-radix digits, first dimension fastest
 *
 * There is no codebook to learn and no codebook or commitment loss (§3: the loss is the
 * reconstruction alone), so `loss` is 0 and `terms` is empty. Utilization, perplexity and dead
 * codes are counted over the K implicit codes exactly as for a learned codebook.
 *
 * Rounding. The graph has no Round primitive; for the bounded f_j, round(f) = trunc(f + ½ + B) − B
 * with B = max_j L_j (so the argument of trunc is positive and truncation is floor); trunc is a
 * float → int64 → float Cast, which passes no gradient. Halfway cases round up, which only
 * matters on a set of measure zero.
 *
 * Options: FSQ_OPTIONS below. Variables: with projection
 * `proj_in.weight` [d, D], `proj_in.bias` [D], `proj_out.weight` [D, d], `proj_out.bias` [d]
 * (nn.Linear initialization U(±1/√fan_in)); with preNorm 'batch' the state `pre_norm.mean`,
 * `pre_norm.var` [d].
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import { linearLayer } from '../layers/linear.js';
import type { BuildContext } from '../runtime/build-context.js';
import { MAX_EXACT_INDEX } from './nearest-code.js';
import { savedOptions, type OptionInput, type OptionSchema, type OptionValues } from './option-schema.js';
import { DIM_OPTION } from './options.js';
import { checkPreNorm, PRE_NORM_OPTION, preNormalize, type PreNorm } from './pre-norm.js';
import { checkQuantizerInput, codeCounts, nonFiniteCount, type Quantizer, type QuantizerOutput } from './quantizer.js';

/**
 * The levels the FSQ paper recommends for a target codebook size of 2^8 … 2^16 codes (Mentzer et
 * al. 2023, §4.1, "recommended sets of levels"); K = Π L_j is close to, not equal to, 2^b.
 */
export const FSQ_LEVELS_FOR_SIZE: Readonly<Record<number, readonly number[]>> = {
  256: [8, 6, 5],
  1024: [8, 5, 5, 5],
  4096: [7, 5, 5, 5, 5],
  16384: [8, 8, 8, 6, 5],
  65536: [8, 8, 8, 5, 5, 5],
};

export const FSQ_OPTIONS = {
  dim: { ...DIM_OPTION, doc: "d, the encoder's output channels (projected to |levels| dims when different)" },
  // The paper's recommendation for about 2^10 codes (1,000).
  levels: { type: 'integer-list', min: 2, default: FSQ_LEVELS_FOR_SIZE[1024]!, doc: 'levels L_j per dimension; K = Π L_j (e.g. 8,5,5,5 → 1,000; 8,8,8,6,5 → 15,360)' },
  preNorm: PRE_NORM_OPTION,
} as const satisfies OptionSchema;

/** What `createQuantizer('fsq', …)` takes. */
export type FSQOptions = OptionInput<typeof FSQ_OPTIONS>;
/** The resolved options an FSQ is built from (its `config` without `kind`). */
export type FSQConfig = OptionValues<typeof FSQ_OPTIONS>;

/** The rules no single option's bounds express: K = Π levels must stay an exact index; a normalization needs d ≥ 2. */
export function checkFSQOptions(o: FSQConfig): void {
  checkPreNorm('FSQ', o.preNorm, o.dim);
  const codebookSize = o.levels.reduce((a, b) => a * b, 1);
  if (codebookSize > MAX_EXACT_INDEX) throw new Error(`FSQ: levels ${o.levels.join(',')} give ${codebookSize} codes, more than the ${MAX_EXACT_INDEX} whose indices are exact; use fewer or smaller levels`);
}

/** Tie-breaking slack of the bound: a_j = (L_j − 1)(1 + ε)/2 (the reference implementation's 1e-3). */
const BOUND_EPS = 1e-3;

export class FSQ implements Quantizer {
  readonly kind = 'fsq' as const;
  readonly depth = 1;
  readonly levels: readonly number[];
  readonly dim: number;
  readonly codebookSize: number;
  readonly preNorm: PreNorm;

  /** `o`: resolved options (createQuantizer('fsq', …) resolves and checks them). */
  constructor(o: FSQConfig) {
    this.levels = [...o.levels];
    this.dim = o.dim;
    this.preNorm = o.preNorm;
    this.codebookSize = this.levels.reduce((a, b) => a * b, 1);
  }

  get countsSize(): number {
    return this.codebookSize;
  }

  get config(): Readonly<Record<string, unknown>> {
    return { kind: this.kind, ...savedOptions(FSQ_OPTIONS, { dim: this.dim, levels: this.levels, preNorm: this.preNorm }) };
  }

  /** D = |levels|, the number of scalar-quantized dimensions. */
  get latentDim(): number {
    return this.levels.length;
  }

  private get projected(): boolean {
    return this.dim !== this.latentDim;
  }

  /** Per-dimension constants as [1, D] rows. */
  private row(ctx: BuildContext, f: (level: number) => number): Tensor {
    return ctx.graph.constant(Float32Array.from(this.levels, f), [1, this.latentDim]);
  }

  /** Every code's normalized grid point ẑ [K, D], digit j of code k = ⌊k / Π_{i<j} L_i⌋ mod L_j. */
  implicitCodebook(): Float32Array {
    const dims = this.latentDim;
    const out = new Float32Array(this.codebookSize * dims);
    for (let k = 0; k < this.codebookSize; k++) {
      let rest = k;
      this.levels.forEach((l, j) => {
        const half = Math.floor(l / 2);
        out[k * dims + j] = ((rest % l) - half) / half;
        rest = Math.floor(rest / l);
      });
    }
    return out;
  }

  /** The effective codebook [K, d]: the grid, projected out. */
  codebook(ctx: BuildContext): Tensor {
    const grid = ctx.graph.constant(this.implicitCodebook(), [this.codebookSize, this.latentDim]);
    return this.projected ? linearLayer(ctx.scope('proj_out'), grid, { outFeatures: this.dim }) : grid;
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    const grid = ctx.graph.constant(this.implicitCodebook(), [this.codebookSize, this.latentDim]);
    const rows = op.gather(grid, indices);
    return this.projected ? linearLayer(ctx.scope('proj_out'), rows, { outFeatures: this.dim }) : rows;
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('FSQ', z, this.dim);
    const input = preNormalize(ctx, z, this.preNorm);
    const h = this.projected ? linearLayer(ctx.scope('proj_in'), input, { outFeatures: this.latentDim }) : input;
    const halfL = (l: number): number => ((l - 1) * (1 + BOUND_EPS)) / 2;
    const offset = (l: number): number => (l % 2 === 0 ? 0.5 : 0);
    // tanh(x) = 2σ(2x) − 1.
    const shifted = op.add(h, this.row(ctx, (l) => Math.atanh(offset(l) / halfL(l))));
    const tanh = op.sub(op.mul(op.sigmoid(op.mul(shifted, 2)), 2), 1);
    const bounded = op.sub(op.mul(tanh, this.row(ctx, halfL)), this.row(ctx, offset));
    const big = Math.max(...this.levels);
    const rounded = op.sub(op.cast(op.cast(op.add(op.stopGradient(bounded), 0.5 + big), 'int64'), 'float32'), big);
    const q = op.add(bounded, op.stopGradient(op.sub(rounded, bounded)));
    const normalized = op.div(q, this.row(ctx, (l) => Math.floor(l / 2)));
    // Mixed-radix index from the (exact, small) integer digits q_j + ⌊L_j/2⌋.
    const basis: number[] = [];
    this.levels.reduce((acc, l) => (basis.push(acc), acc * l), 1);
    const digits = op.add(rounded, this.row(ctx, (l) => Math.floor(l / 2)));
    const flatIndex = op.matmul(digits, ctx.graph.constant(Float32Array.from(basis), [this.latentDim, 1]));
    const indices = op.cast(op.reshape(flatIndex, [z.shape[0]!]), 'int64');
    const quantized = this.projected ? linearLayer(ctx.scope('proj_out'), normalized, { outFeatures: this.dim }) : normalized;
    return {
      quantized,
      indices,
      loss: ctx.graph.scalar(0),
      terms: {},
      counts: codeCounts(indices, this.codebookSize),
      nonFinite: nonFiniteCount(z),
    };
  }
}

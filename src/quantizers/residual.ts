/**
 * Residual quantization over any codebook quantizer (Zeghidour et al., 2021, "SoundStream: An
 * End-to-End Neural Audio Codec", §3.3, Algorithm 1; Lee et al., 2022, "Autoregressive Image
 * Generation using Residual Quantization", §3.1): D stages, each with its own codebook, each
 * quantizing what the previous stages left over.
 *
 *   r_0 = z_e
 *   for s = 1..D:  k_s = Q_s(r_{s−1}),  e_s = codebook_s[k_s],  r_s = r_{s−1} − e_s
 *   ẑ   = Σ_s e_s                            (r_D = z_e − ẑ is the final error)
 *   z_q = z_e + sg(ẑ − z_e)                  straight-through over the whole stack
 *   L   = Σ_s L_s(r_{s−1})                   each stage's own loss on its own input
 *
 * The residuals passed on are gradient-free (r_s = r_{s−1} − sg(e_s), as in the reference
 * implementations), so each stage's codebook and commitment losses act on that stage only; the
 * encoder gets the decoder's gradient through the straight-through output and every stage's
 * commitment gradient through r_0 = z_e. Every stage adds detail, so the error ‖r_s‖ falls with
 * depth (asserted in test/quantizer-family.test.ts).
 *
 * Stages are any of VQ, EMA-VQ and SimVQ (`base`), with the base's options; stage s keeps its
 * variables under `stage{s}.` and the same options (so RVQ = base 'vq', residual SimVQ = base
 * 'simvq').
 *
 * Quantize dropout (SoundStream §3.3 "quantizer dropout"): when training, only the first n stages
 * are used, n drawn per step uniformly from 1..D, so the model also decodes well from fewer
 * stages (a bitrate knob at inference). The draw has to happen inside the one training-step
 * graph, which has no random op: n = 1 + ⌊D·frac(φ·t + u)⌋ with t the step counter (state
 * `dropout_step`), φ = (√5 − 1)/2 and u = frac(φ·seed) — a Weyl sequence, equidistributed over
 * 1..D and checkpointed with the state. Dropped stages contribute neither codes, losses nor
 * counts. Evaluation and export always use all D stages.
 *
 * The stack's output is straight-through as a whole, so the stage option that changes the gradient
 * estimator (`rotationTrick`) would have no effect and is refused; the stages' losses, codebooks and
 * host steps (k-means, dead codes) work per stage as they do alone.
 *
 * Indices gain a trailing depth axis ([M, D]); `lookup` takes [..., D] and returns Σ_s e_s. counts
 * are the stages' counts one after the other ([D·K]), so usage is measured per (stage, code).
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { OptionInput, OptionSchema, OptionValues } from './option-schema.js';
import { checkCodebookValues } from './options.js';
import { checkQuantizerInput, nonFiniteCount, straightThrough, type HostStepInput, type HostStepOutcome, type Quantizer, type QuantizerOutput } from './quantizer.js';

/** Builds one stage quantizer from the base's resolved options (given by the registry, to avoid a cycle). */
export type StageFactory = () => Quantizer;

export const RESIDUAL_BASES = ['vq', 'ema', 'simvq'] as const;
export type ResidualBase = (typeof RESIDUAL_BASES)[number];

/** The residual quantizer's own options; the stage options of `base` come on top (registry.ts). */
export const RESIDUAL_OPTIONS = {
  base: { type: 'choice', choices: RESIDUAL_BASES, default: 'vq', doc: "the quantizer of every stage ('vq' = RVQ, 'simvq' = residual SimVQ); its options apply to each stage" },
  depth: { type: 'integer', min: 1, max: 64, default: 4, doc: 'D, the number of stages (indices gain a depth axis of this length)' },
  quantizeDropout: { type: 'boolean', default: false, doc: 'train with only the first n ~ U{1..D} stages per step (SoundStream quantizer dropout)' },
} as const satisfies OptionSchema;

/** What `createQuantizer('residual', …)` takes: the own options and those of the stage quantizer. */
export type ResidualOptions = OptionInput<typeof RESIDUAL_OPTIONS> & { readonly [option: string]: unknown };
/** The resolved own options a ResidualQuantizer is built from. */
export type ResidualOwnConfig = OptionValues<typeof RESIDUAL_OPTIONS>;

/** The rules between the own options and the stage options (`stage`: the base's resolved options). */
export function checkResidualOptions(o: ResidualOwnConfig, stage: { readonly codebookSize: number; readonly dim: number; readonly rotationTrick: boolean; readonly kmeansSamples: number }): void {
  checkCodebookValues('ResidualQuantizer', [['depth', o.depth], ['K', stage.codebookSize], ['d', stage.dim]]);
  if (stage.rotationTrick) {
    throw new Error('ResidualQuantizer: rotationTrick does not apply to residual stages (the stack is straight-through as a whole); drop it');
  }
  // A later stage quantizes the residual of the stages before it, which only the batch's forward
  // pass computes; the trainer draws samples of the first stage's input only.
  if (stage.kmeansSamples > 0) {
    throw new Error('ResidualQuantizer: kmeansSamples does not apply to residual stages (each stage initializes from the residuals of its batch); drop it');
  }
}

const GOLDEN = (Math.sqrt(5) - 1) / 2;

export class ResidualQuantizer implements Quantizer {
  readonly kind = 'residual' as const;
  readonly base: ResidualBase;
  readonly depth: number;
  readonly quantizeDropout: boolean;
  readonly stages: readonly Quantizer[];

  /** `o`: resolved own options; `createStage` builds one stage from the base's resolved options. */
  constructor(o: ResidualOwnConfig, createStage: StageFactory) {
    this.base = o.base;
    this.depth = o.depth;
    this.quantizeDropout = o.quantizeDropout;
    this.stages = Array.from({ length: this.depth }, () => createStage());
  }

  private get first(): Quantizer {
    return this.stages[0]!;
  }

  get codebookSize(): number {
    return this.first.codebookSize;
  }

  get dim(): number {
    return this.first.dim;
  }

  get countsSize(): number {
    return this.depth * this.codebookSize;
  }

  get config(): Readonly<Record<string, unknown>> {
    const { kind: _kind, ...stage } = this.first.config;
    return { kind: this.kind, base: this.base, depth: this.depth, quantizeDropout: this.quantizeDropout, ...stage };
  }

  get needsHostStep(): boolean {
    return this.first.needsHostStep ?? false;
  }

  private stageScope(ctx: BuildContext, s: number): BuildContext {
    return ctx.scope(`stage${s}`);
  }

  /** The first stage's codebook (each stage has its own; see `stages`). */
  codebook(ctx: BuildContext): Tensor {
    return this.first.codebook(this.stageScope(ctx, 0));
  }

  lookup(ctx: BuildContext, indices: Tensor): Tensor {
    const r = indices.rank;
    if (r < 1 || indices.shape[r - 1] !== this.depth) {
      throw new Error(`ResidualQuantizer.lookup: indices must end in the depth axis of length ${this.depth}, got ${indices.toString()}`);
    }
    const lead = indices.shape.slice(0, -1);
    const flat = op.reshape(indices, [-1, this.depth]);
    let sum: Tensor | undefined;
    this.stages.forEach((stage, s) => {
      const e = stage.lookup(this.stageScope(ctx, s), op.reshape(op.slice(flat, 1, s, s + 1), [flat.shape[0]!]));
      sum = sum ? op.add(sum, e) : e;
    });
    return op.reshape(sum!, [...lead, this.dim]);
  }

  /** 1 for the stages used this step, 0 for dropped ones ([D] scalars), or undefined (all used). */
  private stageMasks(ctx: BuildContext): Tensor[] | undefined {
    if (!this.quantizeDropout) return undefined;
    const t = ctx.state('dropout_step', [1], { kind: 'constant', value: 0 });
    if (ctx.mode !== 'train') return undefined;
    ctx.setState('dropout_step', op.add(t, 1));
    const u = (GOLDEN * ctx.store.seed) % 1;
    // frac(x) = x − trunc(x) for x ≥ 0; trunc is a float → int64 → float Cast.
    const trunc = (x: Tensor): Tensor => op.cast(op.cast(x, 'int64'), 'float32');
    const x = op.add(op.mul(t, GOLDEN), u);
    const frac = op.sub(x, trunc(x));
    const used = op.add(trunc(op.mul(frac, this.depth)), 1); // n ∈ 1..D
    return this.stages.map((_, s) => op.reshape(op.where(op.greater(used, s), 1, 0), []));
  }

  quantize(ctx: BuildContext, z: Tensor): QuantizerOutput {
    checkQuantizerInput('ResidualQuantizer', z, this.dim);
    const masks = this.stageMasks(ctx);
    let residual = op.stopGradient(z);
    let sum: Tensor | undefined;
    let loss: Tensor | undefined;
    const indices: Tensor[] = [];
    const counts: Tensor[] = [];
    const searchInputs: Tensor[] = [];
    const terms: Record<string, Tensor> = {};
    this.stages.forEach((stage, s) => {
      // Stage 0 quantizes z_e itself, so its commitment loss reaches the encoder.
      const input = s === 0 ? z : residual;
      const out = stage.quantize(this.stageScope(ctx, s), input);
      const code = op.stopGradient(out.quantized);
      const mask = masks?.[s];
      const used = mask ? op.mul(code, mask) : code;
      sum = sum ? op.add(sum, used) : used;
      const stageLoss = mask ? op.mul(out.loss, mask) : out.loss;
      loss = loss ? op.add(loss, stageLoss) : stageLoss;
      for (const [name, t] of Object.entries(out.terms)) terms[name] = terms[name] ? op.add(terms[name]!, t) : t;
      indices.push(op.reshape(out.indices, [z.shape[0]!, 1]));
      counts.push(mask ? op.mul(out.counts, mask) : out.counts);
      if (out.searchInputs) searchInputs.push(out.searchInputs);
      residual = op.sub(residual, code);
    });
    return {
      quantized: straightThrough(z, sum!),
      indices: op.concat(indices, 1),
      loss: loss!,
      terms,
      counts: op.concat(counts, 0),
      nonFinite: nonFiniteCount(z),
      searchInputs: searchInputs.length === this.depth ? op.concat(searchInputs, 0) : undefined,
    };
  }

  /** Each stage's host step on its block of the fetched inputs and counts. */
  async hostStep(input: HostStepInput): Promise<HostStepOutcome | undefined> {
    const k = this.codebookSize;
    const rows = input.searchInputs.length / this.depth;
    const notices: string[] = [];
    let reseededCodes = 0;
    for (const [s, stage] of this.stages.entries()) {
      const outcome = await stage.hostStep?.({
        ...input,
        variables: input.variables.scope(`stage${s}`),
        searchInputs: input.searchInputs.subarray(s * rows, (s + 1) * rows),
        counts: input.counts.subarray(s * k, (s + 1) * k),
      });
      if (outcome) {
        notices.push(`stage ${s}: ${outcome.notice}`);
        reseededCodes += outcome.reseededCodes;
      }
    }
    return notices.length ? { notice: notices.join('; '), reseededCodes } : undefined;
  }
}

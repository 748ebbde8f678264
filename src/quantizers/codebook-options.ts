/**
 * The options that VQ, EMA-VQ and SimVQ share beyond the basic ones, and the host-side steps two
 * of them need. Each option, its equation and its source:
 *
 *   cosine            l2-normalize inputs and codes before the search and the losses:
 *                     ẑ = z/‖z‖, ê = e/‖e‖, k = argmin ‖ẑ − ê_k‖² = argmax cos(z, e_k)
 *                     (Yu et al., 2021, "Vector-quantized Image Modeling with Improved VQGAN",
 *                     §3.2 "l2-normalized codes"). The output lies on the unit sphere.
 *   rotationTrick     the gradient estimator of rotation-trick.ts (Fifty et al., 2024) in place of
 *                     the straight-through copy; same forward value.
 *   orthogonalWeight  λ_orth·‖Ê Êᵀ − I‖²_F/K² added to the loss (orthogonal-regularization.ts;
 *                     Shin et al., 2021).
 *   kmeansIters       k-means initialization (kmeans.ts; Łańcucki et al., 2020): after the first
 *                     training step, the codebook is replaced by the centres of `kmeansIters` Lloyd
 *                     iterations over that step's encoder outputs. 0 = off.
 *   kmeansSamples     the vectors k-means runs on: 0, the first batch's M (vector-quantize-pytorch's
 *                     `kmeans_init`); n > 0, n search inputs of training examples drawn at random
 *                     across the training set, computed with the weights of the first step (the
 *                     trainer draws them: `initSampleCount`, HostStepInput.initSamples). With
 *                     M < K at most M centres are distinct (K = 65,536 against M = 6,272), so n ≥ K
 *                     is what lets every code start distinct. Cost: n·c floats held once, and
 *                     n·K·c multiply-adds for the seeding and for each Lloyd iteration (kmeans.ts).
 *                     At most 2²⁰ vectors (256 MiB at c = 64), 16 per code at K = 65,536.
 *   deadCodeThreshold dead-code replacement (Dhariwal et al., 2020, "Jukebox", §3.2 "random
 *                     restarts"; the `threshold_ema_dead_code` of vector-quantize-pytorch): every
 *                     step, each code's usage u_k ← γ_u·u_k + (1 − γ_u)·n_k is tracked in the
 *                     graph (state `code_usage`); between steps, a code whose debiased usage
 *                     u_k/(1 − γ_u^t) is below the threshold is re-seeded with an encoder output
 *                     of the current batch (distinct outputs, seeded choice), so it lies where
 *                     the data are and is chosen again. 0 = off. The threshold is a count per
 *                     step, so its meaning changes with K: with M encoder outputs per step a code
 *                     gets M/K uses per step when all are used equally, and once M/K falls below
 *                     the threshold every code counts as dead and the whole codebook is re-seeded
 *                     every step (M = 6,272 and K = 65,536 give M/K ≈ 0.1 < 1).
 *   deadCodeShare     the same replacement with the threshold s·M/K: a code is dead when its
 *                     usage is below the share s of the uniform usage, which means the same at
 *                     every K (s ≈ 0.16 at K = 1,024 and M = 6,272 is the threshold 1 above).
 *                     Either this or deadCodeThreshold; 0 = off. At most 1: a revived code starts
 *                     at the uniform usage, so above 1 it would be dead again at once.
 *   usageDecay        γ_u of that running usage.
 *
 * Host steps, and why not in the graph. A training step is one ONNX run that computes the
 * parameters' next values as functions of the batch; k-means (an iterative algorithm over the
 * whole batch, run once) and dead-code replacement (a data-dependent choice of which rows to
 * overwrite by which inputs) would need loops and random sampling inside that graph and would
 * cost every step. Instead the step fetches the vectors it matched (`searchInputs`) and the
 * counts, and `hostStep` rewrites the affected rows of the quantizer's variables between two runs
 * (the store's buffers are what the next run is fed). Replaced rows of a trained codebook also get
 * their optimizer state (Adam's moments, SGD's momentum) reset to 0 through `Optimizer.resetRows`,
 * so stale momentum does not drag the new code away. The usage
 * statistics are a state variable, so they are checkpointed and a resumed run continues exactly.
 */
import { Rng } from '../init/rng.js';
import type { Tensor } from '../graph/tensor.js';
import * as op from '../graph/ops.js';
import type { BuildContext } from '../runtime/build-context.js';
import type { VariableView } from '../runtime/variable-view.js';
import { chooseRows, kmeans } from './kmeans.js';
import type { OptionSchema, OptionValues, ResolvedSoFar } from './option-schema.js';
import { QuantizerBase, type CommonQuantizerOptions } from './options.js';
import type { HostStepInput, HostStepOutcome } from './quantizer.js';

/** Whether dead codes are replaced (and usage therefore tracked), for the resolved options. */
function replacing(o: ResolvedSoFar): boolean {
  return o.number('deadCodeThreshold') > 0 || o.number('deadCodeShare') > 0;
}

/** The options of this file (file comment); a config lists only those that are on. */
export const CODEBOOK_OPTIONS = {
  cosine: { type: 'boolean', default: false, saved: 'unless-default', doc: 'l2-normalize inputs and codes (cosine-similarity codebook, Improved VQGAN §3.2)' },
  rotationTrick: { type: 'boolean', default: false, saved: 'unless-default', doc: 'rotation-trick gradient estimator instead of straight-through (Fifty et al. 2024)' },
  orthogonalWeight: { type: 'number', min: 0, default: 0, saved: 'unless-default', doc: 'weight of the orthogonal regularization ‖ÊÊᵀ − I‖²/K² of the codebook (Shin et al. 2021); 0 = off' },
  // Lloyd's iterations converge in tens (k-means++ seeding); 1,000 bounds the time one step may take.
  kmeansIters: { type: 'integer', min: 0, max: 1000, default: 0, saved: 'unless-default', doc: 'k-means initialization: Lloyd iterations over the first batch of encoder outputs (or the kmeansSamples drawn across the training set); 0 = off' },
  kmeansSamples: { type: 'integer', min: 0, max: 2 ** 20, default: 0, saved: 'unless-default', doc: 'k-means on this many encoder outputs of examples drawn across the training set (at least K lets every code start distinct) instead of the first batch; 0 = the first batch' },
  deadCodeThreshold: { type: 'number', min: 0, default: 0, saved: 'unless-default', doc: 'replace codes used fewer than this many times per step (running mean) by batch encoder outputs; 0 = off' },
  deadCodeShare: { type: 'number', min: 0, max: 1, default: 0, saved: 'unless-default', doc: 'replace codes whose running usage falls below this share (at most 1) of the uniform usage M/K (M encoder outputs per step), a threshold that means the same at every K; not with deadCodeThreshold; 0 = off' },
  usageDecay: { type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.99, saved: replacing, doc: 'decay of the running per-code usage that deadCodeThreshold and deadCodeShare read' },
} as const satisfies OptionSchema;

/** The resolved options of this file. */
export type ResolvedCodebookOptions = OptionValues<typeof CODEBOOK_OPTIONS>;

/** The rules between these options: a single dead-code threshold; a k-means sample only with k-means. */
export function checkCodebookOptions(name: string, o: Pick<ResolvedCodebookOptions, 'deadCodeThreshold' | 'deadCodeShare' | 'kmeansIters' | 'kmeansSamples'>): void {
  if (o.kmeansSamples > 0 && o.kmeansIters === 0) {
    throw new Error(`${name}: kmeansSamples (${o.kmeansSamples}) is the sample of the k-means initialization, which kmeansIters 0 turns off; set kmeansIters (e.g. 10) or drop kmeansSamples`);
  }
  if (o.deadCodeThreshold > 0 && o.deadCodeShare > 0) {
    throw new Error(`${name}: deadCodeThreshold (${o.deadCodeThreshold} uses per step) and deadCodeShare (${o.deadCodeShare} of the uniform usage M/K) both set the dead-code threshold; set one of them`);
  }
}

/** Whether dead codes are replaced (and usage therefore tracked). */
function replacesDeadCodes(o: ResolvedCodebookOptions): boolean {
  return o.deadCodeThreshold > 0 || o.deadCodeShare > 0;
}

function needsHostStep(o: ResolvedCodebookOptions): boolean {
  return o.kmeansIters > 0 || replacesDeadCodes(o);
}

/** Record the running usage u ← γ_u·u + (1 − γ_u)·counts (state `code_usage`), when tracked. */
export function trackUsage(ctx: BuildContext, o: ResolvedCodebookOptions, counts: Tensor): void {
  if (!replacesDeadCodes(o)) return;
  const usage = ctx.state('code_usage', [counts.shape[0]!], { kind: 'constant', value: 0 });
  ctx.setState('code_usage', op.add(op.mul(usage, o.usageDecay), op.mul(counts, 1 - o.usageDecay)));
}

/**
 * Rewrites codes among the quantizer's variables so that the effective code k equals a given
 * vector, and resets the optimizer's state of the rows it rewrote.
 */
export interface CodeWriter {
  readonly codebookSize: number;
  /**
   * Make code codes[i] (distinct) equal row i of `vectors` ([n, c], in the space the search works
   * in), through `VariableView.read` and `writeRows`.
   */
  writeCodes(variables: VariableView, codes: readonly number[], vectors: Float32Array): Promise<void>;
}

/** Copy row `row` of `src` ([n, width]) into row `at` of `dst`. */
function copyRow(dst: Float32Array, at: number, src: Float32Array, row: number, width: number): void {
  dst.set(src.subarray(row * width, (row + 1) * width), at * width);
}

/**
 * The host step of the codebook options (file comment): k-means after step 1, then dead-code
 * replacement. Returns what changed, if anything.
 */
async function codebookHostStep(q: CodeWriter, o: ResolvedCodebookOptions, input: HostStepInput): Promise<HostStepOutcome | undefined> {
  const k = q.codebookSize;
  const m = countRows(input);
  if (m === 0) return undefined; // a stage dropped this step (residual.ts) saw no vectors
  const c = input.searchInputs.length / m;
  const seed = input.variables.seed * 7919 + input.step;
  // A new code starts at the average usage m/K (debiased), so it is not replaced again at once.
  const startUsage = (m / k) * (1 - o.usageDecay ** input.step);
  if (o.kmeansIters > 0 && input.step === 1) {
    const sample = input.initSamples ?? input.searchInputs;
    const centers = await kmeans(sample, c, k, o.kmeansIters, seed, input.threads);
    const every = Array.from({ length: k }, (_, i) => i);
    await q.writeCodes(input.variables, every, centers);
    if (replacesDeadCodes(o)) input.variables.writeRows('code_usage', every, new Float32Array(k).fill(startUsage));
    const from = input.initSamples ? `${sample.length / c} encoder outputs drawn across the training set` : `${m} encoder outputs`;
    return { notice: `k-means initialized the ${k} codes from ${from} (${o.kmeansIters} Lloyd iterations)`, reseededCodes: k };
  }
  if (!replacesDeadCodes(o)) return undefined;
  const threshold = o.deadCodeThreshold > 0 ? o.deadCodeThreshold : o.deadCodeShare * (m / k);
  const dead = deadCodes(await input.variables.read('code_usage'), o.usageDecay, input.step, threshold);
  if (dead.length === 0) return undefined;
  const rows = chooseRows(m, dead.length, new Rng(seed));
  const vectors = new Float32Array(dead.length * c);
  rows.forEach((row, i) => copyRow(vectors, i, input.searchInputs, row, c));
  await q.writeCodes(input.variables, dead, vectors);
  input.variables.writeRows('code_usage', dead, new Float32Array(dead.length).fill(startUsage));
  return { notice: `replaced ${dead.length} dead code${dead.length === 1 ? '' : 's'} with encoder outputs of the batch`, reseededCodes: dead.length };
}

/** Number of vectors of the batch: the sum of the counts. */
function countRows(input: HostStepInput): number {
  let m = 0;
  for (const v of input.counts) m += v;
  return m;
}

/** Codes whose debiased running usage u_k/(1 − γ^t) is below `threshold`, ascending. */
function deadCodes(usage: Float32Array, decay: number, step: number, threshold: number): number[] {
  const debias = 1 - decay ** step;
  const dead: number[] = [];
  usage.forEach((u, k) => {
    if (u / debias < threshold) dead.push(k);
  });
  return dead;
}

/**
 * What VQ, EMA-VQ and SimVQ share beyond the common options: the resolved options above, one usage
 * count per code, and the host step that applies k-means and dead-code replacement through each
 * quantizer's own `writeCodes` (each stores its codes differently).
 */
export abstract class CodebookQuantizer extends QuantizerBase implements CodeWriter {
  readonly options: ResolvedCodebookOptions;

  /** `codebook`: the options of this file; EMA-VQ, which offers a subset, passes the others off. */
  protected constructor(common: CommonQuantizerOptions, codebook: ResolvedCodebookOptions) {
    super(common);
    this.options = codebook;
  }

  get countsSize(): number {
    return this.codebookSize;
  }

  get needsHostStep(): boolean {
    return needsHostStep(this.options);
  }

  get initSampleCount(): number {
    return this.options.kmeansIters > 0 ? this.options.kmeansSamples : 0;
  }

  hostStep(input: HostStepInput): Promise<HostStepOutcome | undefined> {
    return codebookHostStep(this, this.options, input);
  }

  abstract writeCodes(variables: VariableView, codes: readonly number[], vectors: Float32Array): Promise<void>;
}

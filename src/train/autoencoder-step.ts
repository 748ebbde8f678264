/**
 * The training step of a VQ-VAE as one `TrainingProgram`: the forward pass of models/forward.ts,
 * its gradients and the optimizer update, fetching per step the loss terms and the per-code counts
 * (from which utilization follows exactly). It opens no file, so the CLI's `trainModel` and a
 * training loop in a browser tab build the same graph.
 */
import type { Tensor } from '../graph/tensor.js';
import { autoencode } from '../models/forward.js';
import type { VqvaeModel } from '../models/model.js';
import type { Quantizer } from '../quantizers/quantizer.js';
import type { Optimizer } from '../runtime/optimizer.js';
import { TrainingProgram } from '../runtime/training-program.js';
import type { VariableStore } from '../runtime/variables.js';

export interface AutoencoderStep {
  readonly program: TrainingProgram;
  /** The model's quantizer, whose host step (k-means, dead codes) runs after each step. */
  readonly quantizer: Quantizer;
  /** The quantizer's own loss terms (e.g. codebook, commitment), fetched as `term_<name>`. */
  readonly termNames: readonly string[];
}

/** Per-step numbers of one `program.step` result. */
export interface StepLosses {
  /** total, reconstruction, quantizer and each quantizer term, by name. */
  readonly losses: Record<string, number>;
  /** Vectors assigned to each code in this batch. */
  readonly counts: Float32Array;
  /** Encoder outputs that were NaN/Inf (0 when the quantizer does not check). */
  readonly nonFinite: number;
  /** What the quantizer's host step changed (e.g. "replaced 3 dead codes …"), if anything. */
  readonly notice?: string;
  /** Codes the host step gave new values (k-means initialization, dead-code replacement). */
  readonly reseededCodes: number;
}

export async function createAutoencoderStep(o: {
  readonly model: VqvaeModel;
  readonly store: VariableStore;
  readonly optimizer: Optimizer;
  readonly batch: number;
  readonly threads: number;
  /** Clip the global gradient norm to this value (default: no clipping). */
  readonly clipGradNorm?: number;
}): Promise<AutoencoderStep> {
  const { channels, height, width } = o.model.input;
  const termNames: string[] = [];
  const program = await TrainingProgram.create({
    store: o.store,
    optimizer: o.optimizer,
    threads: o.threads,
    ...(o.clipGradNorm !== undefined ? { clipGradNorm: o.clipGradNorm } : {}),
    build: (ctx) => {
      const f = autoencode(ctx, o.model, ctx.input('x', [o.batch, channels, height, width]));
      const metrics: Record<string, Tensor> = {
        reconstruction: f.reconstructionLoss,
        quantizer: f.quantized.loss,
        counts: f.quantized.counts,
        ...(f.quantized.nonFinite ? { non_finite: f.quantized.nonFinite } : {}),
        ...(o.model.quantizer.needsHostStep && f.quantized.searchInputs ? { search_inputs: f.quantized.searchInputs } : {}),
      };
      for (const [name, t] of Object.entries(f.quantized.terms)) {
        termNames.push(name);
        metrics[`term_${name}`] = t;
      }
      return { loss: f.loss, metrics };
    },
  });
  return { program, quantizer: o.model.quantizer, termNames };
}

/**
 * Run one step on the batch `x` and read its losses and code counts; then the quantizer's host
 * step (k-means initialization, dead-code replacement; quantizers/codebook-options.ts) edits the
 * variable store before the next run. `t`, the step just taken, is the optimizer's step counter.
 */
export async function runAutoencoderStep(step: AutoencoderStep, x: Float32Array, lr: number): Promise<StepLosses> {
  const r = await step.program.step({ x }, lr);
  const losses: Record<string, number> = { total: r.loss, reconstruction: r.metrics.reconstruction as number, quantizer: r.metrics.quantizer as number };
  for (const name of step.termNames) losses[name] = r.metrics[`term_${name}`] as number;
  const nonFinite = typeof r.metrics.non_finite === 'number' ? r.metrics.non_finite : 0;
  const counts = r.metrics.counts as Float32Array;
  const store = step.program.store;
  const outcome = step.quantizer.needsHostStep && step.quantizer.hostStep && Object.values(losses).every(Number.isFinite)
    ? step.quantizer.hostStep({ store, prefix: 'quantizer.', step: store.require('opt.step').value[0]!, searchInputs: r.metrics.search_inputs as Float32Array, counts })
    : undefined;
  return { losses, counts, nonFinite, reseededCodes: outcome?.reseededCodes ?? 0, ...(outcome !== undefined ? { notice: outcome.notice } : {}) };
}

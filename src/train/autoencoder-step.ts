/**
 * The training step of a VQ-VAE as one `TrainingProgram`: the forward pass of models/forward.ts,
 * its gradients and the optimizer update, fetching per step the loss terms and the per-code counts
 * (from which utilization follows exactly). It opens no file, so the CLI's `trainModel` and a
 * training loop in a browser tab build the same graph.
 */
import type { Tensor } from '../graph/tensor.js';
import { autoencode, type ReconstructionLoss } from '../models/forward.js';
import type { VqvaeModel } from '../models/model.js';
import type { HostStepInput, HostStepOutcome, Quantizer } from '../quantizers/quantizer.js';
import type { Optimizer } from '../runtime/optimizer.js';
import type { TypedData } from '../runtime/session.js';
import { TrainingProgram, type NamedTensors } from '../runtime/training-program.js';
import type { VariableView } from '../runtime/variable-view.js';
import type { VariableStore } from '../runtime/variables.js';

/** The parts of the loss the step fetches, and the quantizer's own terms under their names. */
type StepTermTensors = NamedTensors & { readonly reconstruction: Tensor; readonly quantizer: Tensor };

/** What the step fetches besides its terms (`searchInputs` only for a quantizer with a host step). */
type StepMetricTensors = {
  readonly counts: Tensor;
  readonly nonFinite?: Tensor;
  readonly searchInputs?: Tensor;
};

export interface AutoencoderStep {
  readonly program: TrainingProgram<StepTermTensors, StepMetricTensors>;
  /** The model's quantizer, whose host step (k-means, dead codes) runs after each step. */
  readonly quantizer: Quantizer;
  /** The quantizer's own variables, which its host step edits. */
  readonly quantizerVariables: VariableView;
  /** The run's ORT intra-op threads, which the host step's runtime work (k-means) uses too. */
  readonly threads: number;
}

/**
 * The parts of one step's loss: the reconstruction loss, the quantizer's weighted loss, and each
 * of the quantizer's own unweighted terms under its name (e.g. codebook, commitment).
 */
export interface AutoencoderLossTerms {
  readonly reconstruction: number;
  readonly quantizer: number;
  readonly [quantizerTerm: string]: number;
}

/** What one step measured besides its loss. */
export interface AutoencoderStepMetrics {
  /** Vectors assigned to each code in this batch. */
  readonly counts: Float32Array;
  /** Encoder outputs that were NaN/Inf (0 when the quantizer does not check). */
  readonly nonFinite: number;
  /** What the quantizer's host step changed (k-means initialization, dead-code replacement), if anything. */
  readonly hostStep?: HostStepOutcome | undefined;
}

/** One step's result: the loss minimised (reconstruction + quantizer), its terms and its metrics. */
export interface AutoencoderStepResult {
  readonly loss: number;
  readonly terms: AutoencoderLossTerms;
  readonly metrics: AutoencoderStepMetrics;
}

/** Names of the loss and its own parts (`lossesOf` lists them beside the quantizer's terms). */
const OWN_TERMS = ['total', 'reconstruction', 'quantizer'] as const;

export async function createAutoencoderStep(o: {
  readonly model: VqvaeModel;
  readonly store: VariableStore;
  readonly optimizer: Optimizer;
  readonly batch: number;
  readonly threads: number;
  /** Clip the global gradient norm to this value (default: no clipping). */
  readonly clipGradNorm?: number | undefined;
  /** The reconstruction term of the loss (default: mean squared error); the run's modality gives it. */
  readonly reconstructionLoss?: ReconstructionLoss | undefined;
  /** Keep the variables on the device between steps (default: where the runtime can; `TrainingProgramOptions.resident`). */
  readonly resident?: boolean | undefined;
}): Promise<AutoencoderStep> {
  const { channels, height, width } = o.model.input;
  let quantizerVariables: VariableView | undefined; // set by `build`, which `create` runs once
  const program = await TrainingProgram.create<StepTermTensors, StepMetricTensors>({
    store: o.store,
    optimizer: o.optimizer,
    threads: o.threads,
    clipGradNorm: o.clipGradNorm,
    resident: o.resident,
    build: (ctx) => {
      quantizerVariables = o.model.quantizerScope(ctx).view(o.optimizer);
      const f = autoencode(ctx, o.model, ctx.input('x', [o.batch, channels, height, width]), o.reconstructionLoss);
      const clash = OWN_TERMS.find((name) => name in f.quantized.terms);
      if (clash) throw new Error(`the ${o.model.quantizer.kind} quantizer names a loss term '${clash}', a name the autoencoder step gives its loss or one of its parts; rename the quantizer's term`);
      return {
        loss: f.loss,
        terms: { reconstruction: f.reconstructionLoss, quantizer: f.quantized.loss, ...f.quantized.terms },
        // Each key is a graph output the step fetches, so a metric the quantizer does not produce
        // (or a host step does not need) is left out rather than set to undefined.
        metrics: {
          counts: f.quantized.counts,
          ...(f.quantized.nonFinite ? { nonFinite: f.quantized.nonFinite } : {}),
          ...(o.model.quantizer.needsHostStep && f.quantized.searchInputs ? { searchInputs: f.quantized.searchInputs } : {}),
        },
      };
    },
  });
  return { program, quantizer: o.model.quantizer, quantizerVariables: quantizerVariables!, threads: o.threads };
}

/**
 * Run one step on the batch `x` and read its loss terms and code counts; then the quantizer's host
 * step (k-means initialization, dead-code replacement; quantizers/codebook-options.ts) edits the
 * quantizer's variables before the next run, at the optimizer's step counter (the step just taken).
 * `initSamples`: the search inputs drawn across the training set for the quantizer's
 * initialization (`Quantizer.initSampleCount`, train/init-samples.ts), given with the first step.
 */
export async function runAutoencoderStep(step: AutoencoderStep, x: Float32Array, lr: number, initSamples?: Float32Array): Promise<AutoencoderStepResult> {
  const r = await step.program.step({ x }, lr);
  const { terms } = r;
  const counts = float32(r.metrics.counts, 'counts');
  const nonFinite = r.metrics.nonFinite ? float32(r.metrics.nonFinite, 'nonFinite')[0]! : 0;
  const searchInputs = r.metrics.searchInputs;
  const hostStep = step.quantizer.hostStep && searchInputs && Number.isFinite(r.loss) && Object.values(terms).every(Number.isFinite)
    ? await runHostStep(step, { searchInputs: float32(searchInputs, 'searchInputs'), counts, initSamples })
    : undefined;
  return { loss: r.loss, terms, metrics: { counts, nonFinite, hostStep } };
}

/**
 * The quantizer's host step on its variables. It reads them through `VariableView.read` and writes
 * rows through `writeRows`, so where the training program holds them on a GPU it downloads what it
 * reads (the usage counts, SimVQ's W) and uploads the rows it rewrites; the rest stays on the device.
 */
function runHostStep(step: AutoencoderStep, input: Pick<HostStepInput, 'searchInputs' | 'counts' | 'initSamples'>): Promise<HostStepOutcome | undefined> {
  return step.quantizer.hostStep!({ ...input, variables: step.quantizerVariables, step: step.program.optimizerStep, threads: step.threads });
}

/** The loss (as `total`) and its terms in one record, in the order metrics.jsonl lists them. */
export function lossesOf(result: AutoencoderStepResult): Record<string, number> {
  return { total: result.loss, ...result.terms };
}

/** A fetched float32 metric as the Float32Array it is. */
function float32(data: TypedData | undefined, name: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error(`training step: metric '${name}' was not fetched as float32`);
  return data;
}

/**
 * What `trainModel` is asked to do, in three parts:
 *   - `TrainConfig`: the settings a checkpoint remembers (config.json and trainer-state.json), so a
 *     resumed run continues the same training; `resumeOptions` reads them back.
 *   - `TrainOptions`: that config plus the settings of one invocation (where to write, threads, how
 *     often to save, whether to evaluate and show progress), which a resume may change freely.
 *   - `TrainHooks`: what the caller plugs in rather than sets (log, progress sink, stop signal, and
 *     the seams of tests and notebooks: datasets given directly, faults injected into writes); none
 *     of it is recorded anywhere.
 */
import type { InputLimits } from '../limits/input-limits.js';
import type { WriteHook } from '../persistence/write-hook.js';
import type { ModalityName, ModelConfig, SeanetOverrides } from '../models/config.js';
import type { ReconstructionLoss } from '../models/forward.js';
import type { ExampleSet, Modality, ReconstructionLossOf } from '../modality/modality.js';
import { modalityNamed } from '../modality/registry.js';
import type { QuantizerConfig } from '../quantizers/registry.js';
import type { LrSchedule } from './lr-schedule.js';
import { checkPlateauRule, type PlateauRule } from './plateau.js';
import { checkSettleRule, type SettleRule } from './settle.js';
import type { ProgressSink } from './progress.js';

/**
 * The settings of a run that its checkpoint records. A resume reads them back (`resumeOptions`) and
 * refuses to change those that would make it a different training (`resumeConflicts`).
 */
export interface TrainConfig {
  /** The quantizer, resolved once (`resolveQuantizerConfig`); its `dim` is the latent channels. */
  readonly quantizer: QuantizerConfig;
  /** What one example is (default 'image'): selects the data, model families, loss and metrics (modality/). */
  readonly modality?: ModalityName | undefined;
  /** A model family of the modality (for images 'reference-mnist', the default, or 'conv'; for audio 'seanet'). */
  readonly model?: string | undefined;
  /** The reconstruction term of the loss, one of the modality's `losses` (default its `defaultLoss`: images 'mse', audio 'l1'; audio also 'l1+mel'). */
  readonly loss?: string | undefined;
  /** A resume may change it (the run logs a note). */
  readonly lr: number;
  readonly batch: number;
  /** Total epochs of the run (a resumed run continues until this many are done). */
  readonly epochs: number;
  readonly seed: number;
  /** Dataset path (see `loadDataset`); omitted: the bundled MNIST digits. */
  readonly data?: string | undefined;
  /** Train on N images only (a fixed seeded choice, see `limitDataset`), for quick runs. */
  readonly trainLimit?: number | undefined;
  readonly testLimit?: number | undefined;
  /** Warm-up and decay of the learning rate over the run's steps (default: constant `lr`). */
  readonly lrSchedule?: LrSchedule | undefined;
  /**
   * Stop before `epochs` once the training utilization stops rising (plateau.ts); `epochs` is then
   * the cap. The learning-rate schedule still spans `epochs`.
   */
  readonly stopOnPlateau?: PlateauRule | undefined;
  /**
   * Stop before `epochs` once the training utilization has stopped changing, in either direction
   * (settle.ts); `epochs` is then the cap. The learning-rate schedule still spans `epochs`.
   */
  readonly stopOnSettle?: SettleRule | undefined;
  /** Adam's (β1, β2), each in [0, 1) (default (0.9, 0.999); see OPTIMIZER_PRESETS). */
  readonly adamBetas?: readonly [number, number] | undefined;
  /** Clip the global gradient norm to this value in every step (default: no clipping). */
  readonly clipGradNorm?: number | undefined;
}

/** A run's `TrainConfig` and the settings of this one invocation of the trainer. */
export interface TrainOptions extends TrainConfig {
  /** ONNX Runtime intra-op threads. */
  readonly threads: number;
  /** Run directory: checkpoint, config.json, metrics.jsonl. */
  readonly out: string;
  /** Continue the run in `out` where its last checkpoint stopped. */
  readonly resume?: boolean | undefined;
  /** Replace the outputs of an earlier run in `out` (checkpoints, metrics, exports) instead of refusing them. */
  readonly force?: boolean | undefined;
  /** Also save a checkpoint every N training steps (mid-epoch ones resume exactly too). */
  readonly saveEvery?: number | undefined;
  /** Image size for sources that need one (folders of PNG/JPEG); the model config records the resulting input shape. */
  readonly imageSize?: number | undefined;
  /** Audio: the model's sample rate and the samples of one training crop of a new run (the model config records both). */
  readonly sampleRate?: number | undefined;
  readonly cropSamples?: number | undefined;
  /** SEANet architecture overrides of a new run (the model config records the architecture). */
  readonly seanet?: SeanetOverrides | undefined;
  /** Caps on what each dataset file may declare (default DEFAULT_LIMITS). */
  readonly limits?: InputLimits | undefined;
  /** Progress bar on stderr (default false). */
  readonly progress?: boolean | undefined;
  /** Evaluate the test set after every epoch (default true). */
  readonly evaluateEachEpoch?: boolean | undefined;
  /**
   * Every N epochs, append the codebook diagnostics over the whole training set (code usage, and
   * SimVQ's singular values of W; eval/diagnostics.ts) to diagnostics.jsonl (default: never).
   */
  readonly diagnoseEvery?: number | undefined;
}

/** What the caller plugs into a run: where its lines go, how it is stopped, and test seams. */
export interface TrainHooks {
  /** Receives one line per epoch and notices (default: silent). */
  readonly log?: ((line: string) => void) | undefined;
  /** Where progress goes (default process.stderr). */
  readonly progressSink?: ProgressSink | undefined;
  /** When aborted, training stops after the current step with a resumable checkpoint (`TrainingStoppedError`). */
  readonly stopSignal?: AbortSignal | undefined;
  /** Train on these sets of the modality (for images `ImageDataset`s) instead of loading `data` (tests and notebooks). */
  readonly datasets?: { readonly train: ExampleSet; readonly test: ExampleSet } | undefined;
  /** Runs at each write point of the run's files (default NO_WRITE_FAULTS; crash tests inject faults). */
  readonly writeHook?: WriteHook | undefined;
  /** Called after each epoch's checkpoint is committed, with the epochs completed (e.g. to copy it into a run cache). */
  readonly epochSaved?: ((epoch: number) => Promise<void>) | undefined;
}

export class TrainOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainOptionsError';
  }
}

function requireInteger(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new TrainOptionsError(`${name} must be an integer >= ${min}, got ${v}`);
}

/** The modality a run's options name, refused with a `TrainOptionsError` when unknown. */
export function modalityOfRun(o: TrainConfig): Modality {
  try {
    return modalityNamed(o.modality);
  } catch (err) {
    throw new TrainOptionsError(err instanceof Error ? err.message : String(err));
  }
}

/** The reconstruction term the run chose (`loss`), or its modality's default, as the modality makes it for a model. */
function lossFactoryOfRun(o: TrainConfig, modality: Modality): ReconstructionLossOf {
  const name = o.loss ?? modality.defaultLoss;
  const loss = modality.losses[name];
  if (loss === undefined) throw new TrainOptionsError(`unknown ${modality.name} loss '${name}'; choose one of ${Object.keys(modality.losses).join(', ')}`);
  return loss;
}

/** The reconstruction term the run chose (`loss`), or its modality's default, for the model of `config`. */
export function lossOfRun(o: TrainConfig, config: ModelConfig, modality: Modality = modalityOfRun(o)): ReconstructionLoss {
  return lossFactoryOfRun(o, modality)(config);
}

/** Refuses options no run could use, before anything is read or written. */
export function validateTrainOptions(o: TrainOptions): void {
  const modality = modalityOfRun(o);
  const { modelKinds } = modality;
  if (o.model !== undefined && !modelKinds.includes(o.model)) {
    throw new TrainOptionsError(`unknown model '${o.model}'; choose one of ${modelKinds.join(', ')}`);
  }
  lossFactoryOfRun(o, modality);
  requireInteger('batch', o.batch, 1);
  requireInteger('epochs', o.epochs, 1);
  requireInteger('seed', o.seed, 0);
  requireInteger('threads', o.threads, 0);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new TrainOptionsError(`learning rate must be a finite number > 0, got ${o.lr}`);
  if (o.trainLimit !== undefined) requireInteger('train limit', o.trainLimit, 1);
  if (o.testLimit !== undefined) requireInteger('test limit', o.testLimit, 1);
  if (o.saveEvery !== undefined) requireInteger('save every', o.saveEvery, 1);
  const plateauProblem = o.stopOnPlateau !== undefined ? checkPlateauRule(o.stopOnPlateau) : undefined;
  if (plateauProblem !== undefined) throw new TrainOptionsError(plateauProblem);
  const settleProblem = o.stopOnSettle !== undefined ? checkSettleRule(o.stopOnSettle) : undefined;
  if (settleProblem !== undefined) throw new TrainOptionsError(settleProblem);
  if (o.diagnoseEvery !== undefined) requireInteger('diagnose every', o.diagnoseEvery, 1);
  if (o.adamBetas !== undefined && !(o.adamBetas.length === 2 && o.adamBetas.every((b) => Number.isFinite(b) && b >= 0 && b < 1))) {
    throw new TrainOptionsError(`Adam betas must be two numbers in [0, 1), got ${JSON.stringify(o.adamBetas)}`);
  }
  if (o.clipGradNorm !== undefined && !(Number.isFinite(o.clipGradNorm) && o.clipGradNorm > 0)) throw new TrainOptionsError(`gradient clipping norm must be a finite number > 0, got ${o.clipGradNorm}`);
  const s = o.lrSchedule;
  if (s !== undefined) {
    requireInteger('warm-up steps', s.warmupSteps, 0);
    if (!(Number.isFinite(s.minLr) && s.minLr >= 0 && s.minLr <= o.lr)) throw new TrainOptionsError(`minimum learning rate must be between 0 and lr ${o.lr}, got ${s.minLr}`);
  }
}

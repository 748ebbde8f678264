/**
 * A run's modality: what one example is (an image today; a clip of speech is planned) and
 * everything that depends on it, behind one interface, so that `train`, `eval`, `tokenize`,
 * `export` and the CLI hold no code of their own for any one modality:
 *
 *   data     the train and test sets of a run, an evaluation split, training batches
 *   model    the model families (architectures) it offers and the config for a data set
 *   loss     the reconstruction term of the training loss
 *   metrics  reconstruction quality over a set, accumulated batch by batch
 *   files    reading a file as model input (encode), writing a model output (decode), and the
 *            preview of originals beside reconstructions that `eval` writes
 *
 * A modality works on its own data set type `Set` (an image set has channels, height and width; a
 * speech set has utterances at a sample rate); the callers see only what `ExampleSet` says
 * of it and hand it back to the modality that made it. Values are always float32, one example after
 * another in the model's input layout, so a batch is a copy of rows whatever the modality.
 */
import type { Tensor } from '../graph/tensor.js';
import type { BatchIterator, BatchIteratorOptions } from '../data/index.js';
import type { InputLimits } from '../limits/input-limits.js';
import type { ModelChoice, ModelConfig, ModalityName } from '../models/config.js';
import type { ReconstructionLoss } from '../models/forward.js';

/** What every caller may know of a modality's data set. */
export interface ExampleSet {
  /** Human-readable origin, e.g. `mnist-bundled/train`. */
  readonly name: string;
  readonly count: number;
}

/** The train and test sets of a run, and where they came from (recorded in the trainer state). */
export interface RunData<Set extends ExampleSet = ExampleSet> {
  readonly train: Set;
  readonly test: Set;
  /** Absolute dataset path (a dataset name resolved to where it is installed), or null for the modality's bundled set. */
  readonly path: string | null;
}

/** What a run asks of its data (the options of `vqlab train`). */
export interface RunDataRequest {
  /** Dataset path or name; omitted: the modality's bundled set. */
  readonly path?: string | undefined;
  readonly trainLimit?: number | undefined;
  readonly testLimit?: number | undefined;
  /** On resume: the model the data must be shaped for. */
  readonly config?: ModelConfig | undefined;
  /** Side length for sources that need one (folders of image files). */
  readonly imageSize?: number | undefined;
  /** Audio of a new run: the model's sample rate and the samples of one training crop (on resume both come from `config`). */
  readonly sampleRate?: number | undefined;
  readonly cropSamples?: number | undefined;
  readonly limits?: InputLimits | undefined;
}

/** One split for evaluation, shaped for `config`, with the same seeded `limit` as the run's. */
export interface EvalSetRequest {
  readonly path: string | null | undefined;
  readonly config: ModelConfig;
  readonly split: 'train' | 'test';
  readonly limit?: number | undefined;
  readonly limits?: InputLimits | undefined;
}

/**
 * Reconstruction quality of a set. `mse` (mean squared error over every value of every example)
 * is common to all modalities: it selects a run's best checkpoint. The others are the modality's
 * own (for images psnr and ssim), in the order they are printed.
 */
export interface ReconstructionMetrics {
  readonly mse: number;
  readonly [metric: string]: number;
}

/** Accumulates a set's reconstruction metrics batch by batch, in the order of the set. */
export interface MetricAccumulator {
  /** `count` originals and their reconstructions (in the model's output range), one example after another. */
  add(originals: Float32Array, reconstructions: Float32Array, count: number): void;
  /** The metrics of everything added (a promise where a metric is computed asynchronously, as STOI's resampling is). */
  result(): ReconstructionMetrics | Promise<ReconstructionMetrics>;
}

export interface MetricOptions {
  /** Compute the slow metrics too (for images SSIM); those skipped are NaN (null in JSON). */
  readonly slow: boolean;
}

/**
 * Training throughput in the modality's unit: images per second, or seconds of audio per second
 * (one number an image run and an audio run of the same cost do not share).
 */
export interface Throughput {
  /** The key of metrics.jsonl's line of an epoch. */
  readonly key: ThroughputKey;
  /** Its unit in the progress line and the epoch line: 'img/s'. */
  readonly unit: string;
  /** Units of one training example of a model of `config` (an image: 1; a crop: its seconds). */
  perExample(config: ModelConfig): number;
}

/** metrics.jsonl's throughput keys (train/metrics-log.ts): images, or seconds of audio, per second. */
export type ThroughputKey = 'img_per_s' | 'audio_seconds_per_s';

/** A reconstruction term for the model of `config` (a spectral loss places its filters at the model's sample rate). */
export type ReconstructionLossOf = (config: ModelConfig) => ReconstructionLoss;

export interface Modality<Set extends ExampleSet = ExampleSet> {
  readonly name: ModalityName;
  /** What an example is called in messages, plural: 'images'. */
  readonly examples: string;

  // ------------------------------------------------------------------ data
  /** The datasets `--data` accepts, for `vqlab train --help`. */
  readonly dataHelp: string;
  /** Whether `--data` names a source of this modality's (a named set of it, or a folder of its files), so a run on it needs no --model to choose the modality. */
  recognizesData(path: string): boolean;
  /** Why a request can give no usable data whatever the source (an image size below a metric's window, say), or undefined. */
  requestProblem(request: RunDataRequest): string | undefined;
  loadRunData(request: RunDataRequest): RunData<Set> | Promise<RunData<Set>>;
  loadEvalSet(request: EvalSetRequest): Set | Promise<Set>;
  /** Why the run cannot use this test set (its examples are too small for a metric, say), or undefined. */
  testSetProblem(test: Set): string | undefined;
  /** Shuffled training batches of `set` (see data/batches.ts for the order and the buffers). */
  batches(set: Set, batchSize: number, seed: number, options: BatchIteratorOptions): BatchIterator;
  /** The set's values for a model built from `config`; throws naming both shapes when they differ. */
  valuesFor(set: Set, config: ModelConfig): Float32Array;

  // ------------------------------------------------------------------ model
  /** The architectures of this modality (models/config.ts builds them), the default first. */
  readonly modelKinds: readonly string[];
  readonly defaultModel: string;
  /** The config of a new model for examples shaped like `set`'s; the choice names family and quantizer. */
  modelConfig(set: Set, choice: Omit<ModelChoice, 'input' | 'modality'>): ModelConfig;
  /** Dimensions of one example as the model takes it, without the batch: [C, H, W] for an image. */
  exampleDims(config: ModelConfig): readonly number[];
  /** The most examples one evaluation run may hold, so its activations stay within memory whatever the example length (images: no limit beyond the callers'). */
  maxEvalBatch(config: ModelConfig): number;
  /** How training throughput is counted, in the progress line and in metrics.jsonl. */
  readonly throughput: Throughput;
  /** Name of the model's data input and output in exported ONNX graphs: 'image'. */
  readonly signalName: string;
  /** Reconstructions as valid examples (for images clamped to [0, 1]): what the evaluator measures and the decoder outputs. */
  validOutput(reconstruction: Tensor): Tensor;

  // ------------------------------------------------------------------ loss
  /** The reconstruction terms a run may choose (`TrainConfig.loss`), each a scalar (for images the mean squared error), made for the run's model. */
  readonly losses: { readonly [name: string]: ReconstructionLossOf };
  /** The name in `losses` of a run that chooses none. */
  readonly defaultLoss: string;

  // ------------------------------------------------------------------ metrics
  /** An accumulator of the metrics of `set` (given in its order; a speech set's examples are windows of its utterances). */
  metrics(config: ModelConfig, options: MetricOptions, set: Set): MetricAccumulator;
  /** The metrics in a line of the training log: 'mse 0.01234 psnr 19.09 dB ssim 0.812'. */
  describeMetrics(metrics: ReconstructionMetrics): string;

  // ------------------------------------------------------------------ files
  /** Checks a model input file from its header alone (size caps), before any model is loaded. */
  checkInputFile(file: string, limits: InputLimits): void;
  /**
   * Whether a file is a sequence of examples rather than one: its values (of any length) are cut
   * into consecutive examples along the last axis, the last zero-padded, coded one after another,
   * and decoded back trimmed to the file's length (audio: windows of a clip). `encode` then writes
   * one index sequence per file instead of one grid.
   */
  readonly sequence: boolean;
  /**
   * For a `sequence` modality: the config of the same model (same weights) taking examples of
   * `length` values along the sequence axis, a multiple of the model's step there (audio: the
   * hop). `vqlab export` builds its graphs whose length is left to run time from these.
   */
  withExampleLength?(config: ModelConfig, length: number): ModelConfig;
  /** The values of one input file for the model of `config` (for a `sequence` modality, of any length); `fit` adapts a file of another shape instead of refusing it. */
  readInput(file: string, config: ModelConfig, fit: boolean, limits: InputLimits): Float32Array | Promise<Float32Array>;
  /** Extension of the files `encodeOutput` makes, with its dot: '.png'. */
  readonly outputExtension: string;
  /** The file of one decoded example (the values of one example, in the model's output range). */
  encodeOutput(values: Float32Array, config: ModelConfig): Uint8Array;
  /** The preview file `eval` writes: `count` originals beside their reconstructions. */
  preview(originals: Float32Array, reconstructions: Float32Array, count: number, config: ModelConfig): Uint8Array;
  /** The preview's file name in a checkpoint directory, per evaluated split. */
  previewName(split: 'train' | 'test'): string;
}

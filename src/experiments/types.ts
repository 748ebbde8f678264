/**
 * The data model of an experiment: what each run is (RunSpec), what it measured (RunResult) and the
 * whole experiment as saved in results.json (ExperimentResults). Everything here is plain JSON so
 * `vqlab report DIR` can rebuild figures and HTML from results.json alone.
 */
import type { QuantizerConfig } from '../quantizers/registry.js';
import type { SimVQOptimize } from '../quantizers/simvq.js';
import type { CountRun } from './count-runs.js';
import type { OptimizerPreset } from '../train/defaults.js';
import type { DiagnosticsRecord } from '../eval/diagnostics.js';

/**
 * A quantizer as an experiment names it: a registered name, optionally with options,
 * `NAME[:key=value…]` (`parseQuantizerSpec` in quantizers/registry.ts), e.g. 'ema:decay=0.95' or
 * 'fsq:levels=8x5x5x5'.
 */
export type QuantizerKind = string;
export type ExperimentKind = 'codebook-size' | 'optimization' | 'beta';


/** Training settings that an experiment passes to each of its runs. */
export interface TrainingSettings {
  readonly epochs: number;
  /** Optional training hyper-parameters; undefined means the trainer's default for the reference model. */
  readonly lr?: number | undefined;
  readonly batch?: number | undefined;
  readonly dim?: number | undefined;
  /** Optimizer preset (OPTIMIZER_PRESETS; undefined: 'reference'). Its lr is `lr` above unless overridden. */
  readonly optimizer?: OptimizerPreset | undefined;
  /** Linear learning-rate warm-up over the first N steps (undefined: none). */
  readonly warmupSteps?: number | undefined;
  /** Cosine decay of the learning rate to 0 at the last step (undefined: constant). */
  readonly cosine?: boolean | undefined;
  /** Stop a run once its training utilization has not risen for this many epochs (`epochs` is the cap). */
  readonly plateauPatience?: number | undefined;
  /** The smallest utilization rise that counts for `plateauPatience` (default DEFAULT_PLATEAU_DELTA). */
  readonly plateauDelta?: number | undefined;
  /** Stop a run once its training utilization has changed by less than `settleDelta` in each of this many epochs, either way. */
  readonly settlePatience?: number | undefined;
  /** The change that counts as none for `settlePatience` (default DEFAULT_SETTLE_DELTA). */
  readonly settleDelta?: number | undefined;
  /** Use only N training / test images, a fixed seeded choice (undefined: all). */
  readonly trainLimit?: number | undefined;
  readonly testLimit?: number | undefined;
  /**
   * The model family (undefined: the reference model for images); 'seanet' makes the runs speech
   * runs (the audio modality), on a speech `data` set.
   */
  readonly model?: string | undefined;
  /** The reconstruction loss, one of the modality's (speech 'l1' or 'l1+mel'; undefined: its default). */
  readonly loss?: string | undefined;
  /** Speech: samples of a training crop and evaluation window (undefined: 16,000, one second at 16 kHz). */
  readonly cropSamples?: number | undefined;
  /** SEANet: channels of the first conv (undefined: 32). */
  readonly channels?: number | undefined;
}

/** Settings shared by every run of an experiment (from the preset and CLI options). */
export interface ExperimentSettings extends TrainingSettings {
  /** Codebook sizes K (codebook-size experiment). */
  readonly sizes: readonly number[];
  /** The fixed K of the optimization and beta experiments. */
  readonly size: number;
  readonly quantizers: readonly QuantizerKind[];
  readonly seeds: readonly number[];
  /** Commitment weight β for experiments that do not sweep it. */
  readonly beta: number;
  /** β values (beta experiment). */
  readonly betas: readonly number[];
  /** SimVQ variants (optimization experiment). */
  readonly optimize: readonly SimVQOptimize[];
  /**
   * Where seeds after the first are run (default: everywhere): only at these codebook sizes and
   * only for these variants (as the plan names them, e.g. 'vq', 'simvq', 'simvq (W)'). Keeps
   * replicates where the claim needs error bars without multiplying the whole grid.
   */
  readonly replicateSizes?: readonly number[] | undefined;
  readonly replicateVariants?: readonly string[] | undefined;
  /** ORT intra-op threads per run. */
  readonly threads: number;
  /**
   * Every N epochs each run appends its training-set diagnostics to diagnostics.jsonl in its
   * directory (eval/diagnostics.ts). Not part of a run's spec: it changes no weight.
   */
  readonly diagnoseEvery?: number | undefined;
  /** MNIST directory (undefined: the trainer's default source). */
  readonly data?: string | undefined;
}

/** A point of an experiment's grid: the codebook size K and commitment weight β of a table row or figure point. */
export interface GridPoint {
  readonly codebookSize: number;
  readonly beta: number;
}

/**
 * One training run: a quantizer configuration and a seed. The code dimension d is the quantizer's
 * (`quantizer.dim`), so of the training settings only the others are the run's own.
 */
export interface RunSpec extends Omit<TrainingSettings, 'dim'> {
  /** Directory name under <out>/runs/, unique within the experiment, e.g. "simvq-K1024-b0.25-s0". */
  readonly id: string;
  readonly experiment: ExperimentKind;
  /** The series this run belongs to in figures, e.g. "vq", "ema", "simvq", "simvq (W)". */
  readonly variant: string;
  /** The quantizer, every option resolved, made once when the run was planned (`quantizerAt`). */
  readonly quantizer: QuantizerConfig;
  /**
   * The grid point the run stands at, present only where its quantizer's own K or β differ from it
   * (`gridPointOf`): FSQ in a sweep over K takes the levels recommended for about K codes (its K
   * is Π levels, 1,000 for K = 1,024) and has no commitment loss, yet shares that K's rows.
   */
  readonly nominal?: GridPoint;
  readonly seed: number;
  /** Dataset path (undefined: the bundled MNIST digits); part of the spec so runs on other data are not reused. */
  readonly data?: string | undefined;
}

/** Test-set metrics of a trained run. */
export interface RunMetrics {
  /** Fraction of the K codes chosen at least once on the test set, in [0, 1]. */
  readonly utilization: number;
  readonly perplexity: number;
  readonly dead_codes: number;
  readonly mse: number;
  readonly psnr: number;
  readonly ssim: number | null;
  /**
   * Speech runs: means over the test utterances of SI-SNR (dB), the multi-resolution mel distance
   * and STOI (modality/audio/speech-metrics.ts); absent for images, whose psnr a speech run lacks (null).
   */
  readonly si_snr?: number;
  readonly mel_distance?: number;
  readonly stoi?: number;
  /**
   * log2(perplexity), and the fewest codes taking 50 % / 90 % of the test latents (eval/evaluator.ts).
   * Absent in results from before they were recorded; `usage` holds the counts they derive from.
   */
  readonly effective_bits?: number;
  readonly codes_covering_50?: number;
  readonly codes_covering_90?: number;
  /** Usage over the whole training set; absent in results from before it was measured. */
  readonly train_set?: SetUsage;
}

/**
 * Code usage of the trained model over a whole split. Over the training set every training latent
 * counts (the SimVQ paper counts every index over its 50,000-image validation set), so unlike a
 * test-set count it is not capped by a small sample.
 */
export interface SetUsage {
  /** Latent vectors counted (images × positions per image). */
  readonly latents: number;
  /** Share of the K codes chosen at least once, in [0, 1]. */
  readonly utilization: number;
  readonly used_codes: number;
  readonly perplexity: number;
  /** As in `RunMetrics`; absent in results from before they were recorded (the training-set counts are not kept). */
  readonly effective_bits?: number;
  readonly codes_covering_50?: number;
  readonly codes_covering_90?: number;
}

export interface RunTiming {
  /** Training wall time (from metrics.jsonl when available, so resumed runs count all epochs). */
  readonly train_seconds: number;
  readonly eval_seconds: number;
  /** Training throughput (images/s) averaged over epochs. */
  readonly images_per_second: number | null;
  /** A speech run's training throughput in seconds of audio per second, averaged over epochs (its images_per_second is null). */
  readonly audio_seconds_per_second?: number;
  /**
   * ORT intra-op threads of the process that completed the run (a resumed run's earlier epochs may
   * have used others). Absent in results written before vqlab recorded it.
   */
  readonly threads?: number | undefined;
}

/** One epoch's numbers from the trainer's metrics.jsonl, flattened to name → value. */
export interface EpochValues {
  readonly epoch: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface RunResult {
  readonly spec: RunSpec;
  readonly metrics: RunMetrics;
  readonly timing: RunTiming;
  readonly curves: readonly EpochValues[];
  /** Test-set per-code counts, sorted descending, run-length encoded as [count, repeat]. */
  readonly usage: readonly CountRun[];
  /** Reconstruction grid, relative to the experiment directory (e.g. "runs/vq-K256-s0/recon.png"). */
  readonly recon: string | null;
  readonly completedAt: string;
  /** The training-set diagnostics the run took every `diagnoseEvery` epochs (run-diagnostics.ts), when it took any. */
  readonly diagnostics?: readonly DiagnosticsRecord[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export interface ExperimentResults {
  readonly version: 1;
  readonly experiment: ExperimentKind;
  readonly title: string;
  readonly preset: string;
  readonly settings: ExperimentSettings;
  readonly machine: MachineInfo;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly runs: readonly RunResult[];
}

/**
 * Setting up one invocation of the trainer, in the order `prepareRun` takes its steps: claim the run
 * directory, (on resume) verify the checkpoint, load the data, make the model config and build the
 * model, check it fits in memory, create the training and evaluation programs, (on resume) restore
 * the checkpoint into them, and log what is about to be trained.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BatchIterator } from '../data/index.js';
import { Evaluator } from '../eval/evaluator.js';
import { buildModel, type ModelConfig, type ModelKind } from '../models/config.js';
import type { VqvaeModel } from '../models/model.js';
import type { ExampleSet, Modality, RunData } from '../modality/modality.js';
import { Adam } from '../optim/adam.js';
import { CHECKPOINT_FILES, loadTrainingCheckpoint, readConfig, verifyCheckpoint, type EpochProgress, type TrainerState } from '../persistence/checkpoint.js';
import { prepareOutputDir, type CreatedFolders } from '../persistence/output-path.js';
import { cleanRunDirectory, existingRunOutputs, hasTrainingCheckpoint, removeRunOutputs } from '../persistence/run-directory.js';
import { NO_WRITE_FAULTS, type WriteHook } from '../persistence/write-hook.js';
import type { Quantizer } from '../quantizers/quantizer.js';
import { VariableStore } from '../runtime/variables.js';
import { createAutoencoderStep, type AutoencoderStep } from './autoencoder-step.js';
import { DEFAULT_ADAM_BETAS } from './defaults.js';
import { checkTrainingMemory } from './memory.js';
import { METRICS_FILE, trimMetricsLog } from './metrics-log.js';
import { CONSTANT_LR, type LrSchedule } from './lr-schedule.js';
import { ProgressReporter } from './progress.js';
import { currentRuntime, deviceLabel } from '../runtime/runtime.js';
import { resumeConflicts } from './resume.js';
import { lossOfRun, modalityOfRun, TrainOptionsError, type TrainHooks, type TrainOptions } from './train-options.js';

/** Everything one invocation of the trainer works with, set up by `prepareRun`. */
export interface Run {
  readonly options: TrainOptions;
  readonly out: string;
  readonly log: (line: string) => void;
  readonly stopSignal: AbortSignal | undefined;
  readonly writeHook: WriteHook;
  readonly modality: Modality;
  readonly config: ModelConfig;
  readonly quantizer: Quantizer;
  readonly data: RunData;
  readonly store: VariableStore;
  readonly optimizer: Adam;
  readonly trainingStep: AutoencoderStep;
  readonly evaluator: Evaluator | undefined;
  /** The evaluator of the training-set diagnostics (`diagnoseEvery`): the test evaluator when there is one. */
  readonly diagnosticsEvaluator: Evaluator | undefined;
  /** The built model (for the diagnostics' view of its variables). */
  readonly model: VqvaeModel;
  readonly iterator: BatchIterator;
  readonly progress: ProgressReporter;
  /** Epochs completed before this invocation (0 unless resumed). */
  readonly startEpoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** The running totals of the epoch a mid-epoch checkpoint stopped in, until that epoch resumes. */
  resumedProgress: EpochProgress | undefined;
  readonly schedule: LrSchedule;
  /** Steps of the whole run, for the schedule and the ETA. */
  readonly totalSteps: number;
  /** Steps and their milliseconds in this invocation, for the ETA. */
  readonly pace: { steps: number; ms: number };
}

/** The compiled programs of a run and the state they train. */
interface Programs {
  readonly store: VariableStore;
  readonly optimizer: Adam;
  readonly trainingStep: AutoencoderStep;
  readonly evaluator: Evaluator | undefined;
  readonly diagnosticsEvaluator: Evaluator | undefined;
}

/** Above this many parameters, compiling the training step takes long enough to say so first. */
const LARGE_MODEL_PARAMETERS = 20_000_000;

const EVAL_BATCH = 200;

/**
 * Checks the run directory, loads the data, builds the model and its training and evaluation
 * programs, and on resume restores the checkpoint and checks it against the options. The variables
 * are created (seeded) in the same order on every run, so a fixed seed gives the same weights.
 */
export async function prepareRun(options: TrainOptions, hooks: TrainHooks): Promise<Run> {
  const writeHook = hooks.writeHook ?? NO_WRITE_FAULTS;
  const claim = await claimRunDirectory(options, writeHook);
  try {
    return await setUpClaimedRun(options, hooks, writeHook, claim);
  } catch (err) {
    await claim.created.removeIfEmpty();
    throw err;
  }
}

/** A run directory `claimRunDirectory` made ready, and the folders it had to create for it. */
interface RunDirectoryClaim {
  readonly out: string;
  readonly resuming: boolean;
  readonly created: CreatedFolders;
}

/** The rest of `prepareRun`, once `out` is claimed: everything it reads, builds and restores. */
async function setUpClaimedRun(options: TrainOptions, hooks: TrainHooks, writeHook: WriteHook, { out, resuming }: RunDirectoryClaim): Promise<Run> {
  const log = hooks.log ?? ((): void => {});
  // The whole checkpoint is checked first, so a damaged one is refused before minutes of compiling.
  if (resuming) await verifyCheckpoint(out, { limits: options.limits, notice: (line) => log(`note: ${line}`) });
  const savedConfig = resuming ? await readConfig(out, { limits: options.limits }) : undefined;
  const modality = modalityOfRun(options);
  const data = await loadTrainingData(modality, options, hooks, savedConfig);
  checkDataFits(modality, options, data);
  const config = savedConfig ?? newModelConfig(modality, options, data.train);
  const model = buildModel(config);
  checkMemory(model, config, options.batch, log);

  const { store, optimizer, trainingStep, evaluator, diagnosticsEvaluator } = await createPrograms(modality, config, model, options, data);
  try {
    const trainer = resuming ? await restoreCheckpoint(out, store, options, modality, config, data, log) : undefined;
    const startEpoch = trainer?.epoch ?? 0;
    await trimMetricsLog(join(out, METRICS_FILE), startEpoch, writeHook);

    const iterator = modality.batches(data.train, options.batch, options.seed, { dropLast: true, start: trainer?.dataPosition ?? { epoch: startEpoch, batch: 0 } });
    const progress = new ProgressReporter(hooks.progressSink ?? process.stderr, options.progress ?? false, undefined, deviceLabel(currentRuntime()), modality.throughput.unit);
    const run: Run = {
      options, out, log, stopSignal: hooks.stopSignal, writeHook, modality, config, quantizer: model.quantizer, data, store, optimizer, trainingStep, evaluator, diagnosticsEvaluator, model, iterator, progress, startEpoch,
      step: trainer?.step ?? 0,
      resumedProgress: trainer?.epochProgress,
      schedule: options.lrSchedule ?? CONSTANT_LR,
      totalSteps: options.epochs * iterator.batchesPerEpoch,
      pace: { steps: 0, ms: 0 },
    };
    logStart(run, trainer);
    return run;
  } catch (err) {
    await trainingStep.program.release();
    await evaluator?.release();
    if (diagnosticsEvaluator !== evaluator) await diagnosticsEvaluator?.release();
    throw err;
  }
}

/**
 * Refuses an `out` that cannot hold this run (no checkpoint to resume, or another run's outputs
 * without --force), then creates it and clears what the new or resumed run replaces.
 */
async function claimRunDirectory(options: TrainOptions, writeHook: WriteHook): Promise<RunDirectoryClaim> {
  const out = resolve(options.out);
  const resuming = options.resume ?? false;
  const haveCheckpoint = existsSync(out) && hasTrainingCheckpoint(out);
  if (resuming && !haveCheckpoint) {
    throw new TrainOptionsError(`cannot resume ${out}: it has no ${CHECKPOINT_FILES.trainer}; start a new run with --out instead`);
  }
  const earlier = !resuming && existsSync(out) ? existingRunOutputs(out) : [];
  if (earlier.length > 0 && options.force !== true) {
    if (haveCheckpoint) throw new TrainOptionsError(`${out} already holds a training checkpoint; pass --resume ${options.out} to continue it, --force to start over in it, or choose another --out`);
    throw new TrainOptionsError(`${out} already holds ${earlier.join(', ')} from another model; choose another --out, or pass --force to replace them`);
  }
  // Before any data is read or model built, so a bad --out fails in a second.
  const created = await prepareOutputDir(out, writeHook);
  if (earlier.length > 0) await removeRunOutputs(out);
  if (resuming) await cleanRunDirectory(out, writeHook);
  return { out, resuming, created };
}

/** The training and test sets: the caller's, or the modality's from `options.data` (on resume, shaped for the checkpoint's model). */
async function loadTrainingData(modality: Modality, options: TrainOptions, hooks: TrainHooks, savedConfig: ModelConfig | undefined): Promise<RunData> {
  return hooks.datasets
    ? { ...hooks.datasets, path: null }
    : modality.loadRunData({ path: options.data, trainLimit: options.trainLimit, testLimit: options.testLimit, config: savedConfig, imageSize: options.imageSize, sampleRate: options.sampleRate, cropSamples: options.cropSamples, limits: options.limits });
}

/** Refuses a test set the modality cannot measure (images too small for SSIM, say), and a batch larger than the training set. */
function checkDataFits(modality: Modality, options: TrainOptions, { train, test }: RunData): void {
  const testSetProblem = modality.testSetProblem(test);
  if (testSetProblem !== undefined) throw new TrainOptionsError(testSetProblem);
  if (options.batch > train.count) {
    throw new TrainOptionsError(`batch ${options.batch} is larger than the ${train.count} training ${modality.examples}; use --batch ${train.count} or less`);
  }
}

/** The model config of a new run: the options' model and quantizer, for examples shaped like `train`'s. */
function newModelConfig(modality: Modality, options: TrainOptions, train: ExampleSet): ModelConfig {
  return modality.modelConfig(train, {
    model: (options.model ?? modality.defaultModel) as ModelKind,
    quantizer: options.quantizer,
    seanet: options.seanet,
  });
}

/** Refuses a training step too large for this machine's memory, and says so when compiling it will take minutes. */
function checkMemory(model: VqvaeModel, config: ModelConfig, batch: number, log: (line: string) => void): void {
  const parameters = checkTrainingMemory(model, batch).parameterCount;
  if (parameters > LARGE_MODEL_PARAMETERS) {
    const { codebookSize: K } = model.quantizer;
    const d = config.quantizer.dim;
    log(`compiling the training step for ${(parameters / 1e6).toFixed(0)} M parameters (${((K * d) / 1e6).toFixed(0)} M of them the K=${K} × d=${d} codebook); at this size that takes minutes — a smaller --codebook-size starts at once`);
  }
}

/**
 * The variables (created and seeded here, in the same order every run), Adam, the compiled training
 * step and, when the run evaluates every epoch or diagnoses its codebook, the evaluation program.
 */
async function createPrograms(modality: Modality, config: ModelConfig, model: VqvaeModel, options: TrainOptions, { train, test }: RunData): Promise<Programs> {
  const store = new VariableStore(options.seed);
  const [beta1, beta2] = options.adamBetas ?? DEFAULT_ADAM_BETAS;
  const optimizer = new Adam({ beta1, beta2 });
  const trainingStep = await createAutoencoderStep({ model, store, optimizer, batch: options.batch, threads: options.threads, reconstructionLoss: lossOfRun(options, config, modality), clipGradNorm: options.clipGradNorm });
  try {
    const evaluator = options.evaluateEachEpoch ?? true
      ? await Evaluator.create(modality, config, model, store, { batch: Math.min(EVAL_BATCH, modality.maxEvalBatch(config), test.count), threads: options.threads })
      : undefined;
    try {
      // An evaluator only reads the variables, so creating one leaves the training unchanged.
      const diagnosticsEvaluator = options.diagnoseEvery === undefined ? undefined
        : evaluator ?? await Evaluator.create(modality, config, model, store, { batch: Math.min(EVAL_BATCH, train.count), threads: options.threads });
      return { store, optimizer, trainingStep, evaluator, diagnosticsEvaluator };
    } catch (err) {
      await evaluator?.release();
      throw err;
    }
  } catch (err) {
    await trainingStep.program.release();
    throw err;
  }
}

/** Loads the checkpoint into `store` and refuses a resume whose options would make it a different training. */
async function restoreCheckpoint(out: string, store: VariableStore, options: TrainOptions, modality: Modality, config: ModelConfig, data: RunData, log: (line: string) => void): Promise<TrainerState> {
  const trainer = await loadTrainingCheckpoint(out, store, { limits: options.limits });
  const conflicts = resumeConflicts(options, modality, config, trainer, data);
  if (conflicts.length) throw new TrainOptionsError(`cannot resume ${out} with different settings: ${conflicts.join('; ')}; drop those options or start a new run`);
  if (trainer.lr !== options.lr) log(`note: resuming with lr ${options.lr} (the checkpoint used ${trainer.lr})`);
  return trainer;
}

/** The run's first line: model, quantizer, data, steps, epochs ahead, parameters, compile time. */
function logStart(run: Run, trainer: TrainerState | undefined): void {
  const { modality, config, quantizer, data: { train }, iterator, startEpoch, out, store, log } = run;
  const program = run.trainingStep.program;
  log(`training ${config.architecture.kind} + ${config.quantizer.kind} (K=${quantizer.codebookSize}${quantizer.depth > 1 ? ` × ${quantizer.depth} stages` : ''}, d=${config.quantizer.dim}) on ${train.count} ${modality.examples} (${train.name}), ${iterator.batchesPerEpoch} steps/epoch, epochs ${startEpoch + 1}–${run.options.epochs} → ${out}; ${store.parameterCount()} parameters, training step compiled in ${Math.round(program.compiled.compileMs)} ms, on ${deviceLabel(currentRuntime())}`);
  const midEpoch = trainer?.epochProgress !== undefined ? `, from step ${trainer.dataPosition.batch + 1} of epoch ${startEpoch + 1}` : '';
  if (midEpoch) log(`resuming${midEpoch}`);
}

/**
 * `trainModel`: the training loop of vqlab.
 *
 * It runs in four named steps: `prepareRun` (data, model, programs, and on resume the checkpoint),
 * then per epoch `runEpoch` (the training steps), `makeEpochRecord` (loss terms, code usage, test
 * metrics) and `saveEpoch` (one line appended to metrics.jsonl, then the checkpoint).
 *
 * Each training step is one `TrainingProgram.step` — forward, backward, Adam update in one ONNX
 * graph and one `session.run` — on a batch from the seeded `BatchIterator` (the incomplete last
 * batch of an epoch is dropped, so every step has the same shape).
 *
 * Resume (`resume: true`, `out` = the run directory) reloads parameters, quantizer state, Adam
 * moments and the step counter, and restarts the data iterator at the saved position, so 1 + 1
 * epochs give bit-identical weights to 2 epochs in one go (same threads, same machine).
 *
 * A non-finite loss stops the run with a `TrainingDivergedError` before anything is written, so
 * the last good checkpoint stays as it was. Aborting `stopSignal` (Ctrl-C in the CLI) lets the
 * current step finish, saves a mid-epoch checkpoint with the epoch's running totals, and throws a
 * `TrainingStoppedError`; resuming it gives the same weights as a run that was never stopped.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchIterator, type ImageDataset } from '../data/index.js';
import { loadRunData, type RunData } from '../data/selection.js';
import { Evaluator, type EvalMetrics } from '../eval/evaluator.js';
import type { InputLimits } from '../limits/input-limits.js';
import { SSIM_WINDOW } from '../eval/ssim.js';
import { buildModel, makeModelConfig, MODEL_KINDS, quantizerConfigOf, type ModelConfig, type ModelKind } from '../models/config.js';
import { UnknownQuantizerError } from '../models/quantizer-settings.js';
import { Adam } from '../optim/adam.js';
import { CHECKPOINT_FILES, loadTrainingCheckpoint, readConfig, readTrainerState, saveCheckpoint, TRAINER_FORMAT, verifyCheckpoint, type EpochProgress, type TrainerState } from '../persistence/checkpoint.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { bestCheckpoint, cleanRunDirectory, existingRunOutputs, hasTrainingCheckpoint, removeRunOutputs } from '../persistence/run-directory.js';
import { NO_WRITE_FAULTS, type WriteHook } from '../persistence/write-hook.js';
import { QUANTIZER_KINDS, type Quantizer, type QuantizerName } from '../quantizers/quantizer.js';
import { SIMVQ_OPTIMIZE_MODES, type SimVQOptimize } from '../quantizers/simvq.js';
import { VariableStore } from '../runtime/variables.js';
import { createAutoencoderStep, lossesOf, runAutoencoderStep, type AutoencoderStep } from './autoencoder-step.js';
import { OPTIMIZER_PRESETS, TRAIN_DEFAULTS } from './defaults.js';
import { batchUtilization, EpochStats } from './epoch-stats.js';
import { checkTrainingMemory } from './memory.js';
import { appendEpochRecord, METRICS_FILE, readMetricsLog, trimMetricsLog, type EpochRecord } from './metrics-log.js';
import { checkPlateauRule, hasPlateaued, type PlateauRule } from './plateau.js';
import { CONSTANT_LR, learningRateAt, type LrSchedule } from './lr-schedule.js';
import { ProgressReporter, type ProgressSink } from './progress.js';

export interface TrainOptions {
  readonly quantizer: QuantizerName;
  readonly codebookSize: number;
  readonly dim: number;
  readonly beta: number;
  readonly lr: number;
  readonly batch: number;
  /** Total epochs of the run (a resumed run continues until this many are done). */
  readonly epochs: number;
  readonly seed: number;
  /** ONNX Runtime intra-op threads. */
  readonly threads: number;
  /** Dataset path (see `loadDataset`); omitted: the bundled MNIST digits. */
  readonly data?: string;
  /** Run directory: checkpoint, config.json, metrics.jsonl. */
  readonly out: string;
  /** Continue the run in `out` where its last checkpoint stopped. */
  readonly resume?: boolean;
  /** 'reference-mnist' (default) or 'conv'. */
  readonly model?: string;
  readonly simvqOptimize?: SimVQOptimize;
  /**
   * Further options of the quantizer by the registry's names (e.g. { decay: 0.9 } for 'ema',
   * { levels: [8, 5, 5, 5] } for 'fsq'); codebookSize, dim and beta above apply to the
   * quantizers that have those options.
   */
  readonly quantizerOptions?: Readonly<Record<string, unknown>>;
  /** Train on N images only (a fixed seeded choice, see `limitDataset`), for quick runs. */
  readonly trainLimit?: number;
  readonly testLimit?: number;
  /** Image size for sources that need one (folders of PNG/JPEG). */
  readonly imageSize?: number;
  /** Caps on what each dataset file may declare (default DEFAULT_LIMITS). */
  readonly limits?: InputLimits;
  /** Progress bar on stderr (default false). */
  readonly progress?: boolean;
  /** Receives one line per epoch and notices (default: silent). */
  readonly log?: (line: string) => void;
  /** Train on these sets instead of loading `data` (tests and notebooks). */
  readonly datasets?: { readonly train: ImageDataset; readonly test: ImageDataset };
  /** Evaluate the test set after every epoch (default true). */
  readonly evaluateEachEpoch?: boolean;
  /** Where progress goes (default process.stderr). */
  readonly progressSink?: ProgressSink;
  /** Replace the outputs of an earlier run in `out` (checkpoints, metrics, exports) instead of refusing them. */
  readonly force?: boolean;
  /** Also save a checkpoint every N training steps (mid-epoch ones resume exactly too). */
  readonly saveEvery?: number;
  /** Warm-up and decay of the learning rate over the run's steps (default: constant `lr`). */
  readonly lrSchedule?: LrSchedule;
  /**
   * Stop before `epochs` once the training utilization stops rising (plateau.ts); `epochs` is then
   * the cap. The learning-rate schedule still spans `epochs`.
   */
  readonly stopOnPlateau?: PlateauRule;
  /** Adam's (β1, β2), each in [0, 1) (default (0.9, 0.999); see OPTIMIZER_PRESETS). */
  readonly adamBetas?: readonly [number, number];
  /** Clip the global gradient norm to this value in every step (default: no clipping). */
  readonly clipGradNorm?: number;
  /** When aborted, training stops after the current step with a resumable checkpoint (`TrainingStoppedError`). */
  readonly stopSignal?: AbortSignal;
  /** Runs at each write point of the run's files (default NO_WRITE_FAULTS; crash tests inject faults). */
  readonly writeHook?: WriteHook;
}

export interface TrainSummary {
  readonly out: string;
  readonly config: ModelConfig;
  /** Epochs completed in total (including those before a resume). */
  readonly completedEpochs: number;
  readonly steps: number;
  /** Epoch where this invocation started (0 unless resumed). */
  readonly startEpoch: number;
  /** Records of the epochs trained by this invocation. */
  readonly history: readonly EpochRecord[];
  readonly last: EpochRecord | undefined;
  readonly seconds: number;
  /** Folder of the checkpoint with the lowest test mse, when the run evaluates every epoch. */
  readonly best: string | undefined;
}

export class TrainOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainOptionsError';
  }
}

export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/** Training was stopped through `stopSignal` after saving a checkpoint it can resume from. */
export class TrainingStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingStoppedError';
  }
}

/** Above this many parameters, compiling the training step takes long enough to say so first. */
const LARGE_MODEL_PARAMETERS = 20_000_000;

const EVAL_BATCH = 200;
const DEFAULT_ADAM_BETAS = OPTIMIZER_PRESETS.reference.adamBetas;

function requireInteger(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new TrainOptionsError(`${name} must be an integer >= ${min}, got ${v}`);
}

function validate(o: TrainOptions): void {
  if (!(QUANTIZER_KINDS as readonly string[]).includes(o.quantizer)) throw new UnknownQuantizerError(String(o.quantizer));
  if (o.model !== undefined && !MODEL_KINDS.includes(o.model as ModelKind)) {
    throw new TrainOptionsError(`unknown model '${o.model}'; choose one of ${MODEL_KINDS.join(', ')}`);
  }
  if (o.simvqOptimize !== undefined && !SIMVQ_OPTIMIZE_MODES.includes(o.simvqOptimize)) {
    throw new TrainOptionsError(`simvq optimize must be one of ${SIMVQ_OPTIMIZE_MODES.join(', ')}, got '${String(o.simvqOptimize)}'`);
  }
  requireInteger('codebook size', o.codebookSize, 1);
  requireInteger('dim', o.dim, 1);
  requireInteger('batch', o.batch, 1);
  requireInteger('epochs', o.epochs, 1);
  requireInteger('seed', o.seed, 0);
  requireInteger('threads', o.threads, 0);
  if (!(Number.isFinite(o.beta) && o.beta >= 0)) throw new TrainOptionsError(`beta must be a finite number >= 0, got ${o.beta}`);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new TrainOptionsError(`learning rate must be a finite number > 0, got ${o.lr}`);
  if (o.trainLimit !== undefined) requireInteger('train limit', o.trainLimit, 1);
  if (o.testLimit !== undefined) requireInteger('test limit', o.testLimit, 1);
  if (o.saveEvery !== undefined) requireInteger('save every', o.saveEvery, 1);
  const plateauProblem = o.stopOnPlateau !== undefined ? checkPlateauRule(o.stopOnPlateau) : undefined;
  if (plateauProblem !== undefined) throw new TrainOptionsError(plateauProblem);
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

/**
 * The options a checkpoint was trained with, for resuming it: model and quantizer from config.json,
 * batch, seed, lr, epochs and data from trainer-state.json. Callers override what they mean to change.
 */
export async function resumeOptions(dir: string, limits?: InputLimits): Promise<TrainOptions> {
  const config = await readConfig(dir, { limits });
  const s = await readTrainerState(dir, { limits });
  const adamBetas = savedBetas(s);
  const { kind, codebookSize, dim, beta, ...quantizerOptions } = config.quantizer;
  return {
    quantizer: kind,
    codebookSize: typeof codebookSize === 'number' ? codebookSize : TRAIN_DEFAULTS.codebookSize,
    dim,
    beta: typeof beta === 'number' ? beta : TRAIN_DEFAULTS.beta,
    quantizerOptions,
    lr: s.lr,
    batch: s.batch,
    epochs: s.epochs,
    seed: s.seed,
    threads: TRAIN_DEFAULTS.threads,
    out: dir,
    resume: true,
    model: config.architecture.kind,
    ...(s.data.path !== null ? { data: s.data.path } : {}),
    ...(s.data.trainLimit !== null ? { trainLimit: s.data.trainLimit } : {}),
    ...(s.data.testLimit !== null ? { testLimit: s.data.testLimit } : {}),
    ...(s.lrSchedule !== undefined ? { lrSchedule: s.lrSchedule } : {}),
    ...(s.clipGradNorm != null ? { clipGradNorm: s.clipGradNorm } : {}),
    ...(adamBetas !== undefined ? { adamBetas } : {}),
    ...(s.stopOnPlateau !== undefined ? { stopOnPlateau: s.stopOnPlateau } : {}),
  };
}

/** Adam's betas as a checkpoint recorded them (its optimizer config), if it did. */
function savedBetas(s: TrainerState): [number, number] | undefined {
  const { beta1, beta2 } = s.optimizer.config;
  return typeof beta1 === 'number' && typeof beta2 === 'number' ? [beta1, beta2] : undefined;
}

/** Differences between what a resume asks for and what the checkpoint was trained with. */
function resumeConflicts(o: TrainOptions, config: ModelConfig, s: TrainerState, data: RunData): string[] {
  const out: string[] = [];
  const check = (what: string, asked: unknown, saved: unknown): void => {
    if (asked !== saved) out.push(`${what} ${String(asked)} vs ${String(saved)} in the checkpoint`);
  };
  const asked: Readonly<Record<string, unknown>> = quantizerConfigOf(o);
  const saved: Readonly<Record<string, unknown>> = config.quantizer;
  check('quantizer', asked.kind, saved.kind);
  for (const key of new Set([...Object.keys(asked), ...Object.keys(saved)])) {
    if (key !== 'kind' && asked.kind === saved.kind) check(`quantizer option ${key}`, JSON.stringify(asked[key]), JSON.stringify(saved[key]));
  }
  check('model', o.model ?? TRAIN_DEFAULTS.model, config.architecture.kind);
  check('batch', o.batch, s.batch);
  check('seed', o.seed, s.seed);
  check('training images', data.train.count, s.data.trainCount);
  check('test images', data.test.count, s.data.testCount);
  check('gradient clipping', o.clipGradNorm ?? 'none', s.clipGradNorm ?? 'none');
  const betas = savedBetas(s);
  if (betas !== undefined) check('Adam betas', (o.adamBetas ?? DEFAULT_ADAM_BETAS).join(','), betas.join(','));
  return out;
}

/** Everything one invocation of the trainer works with, set up by `prepareRun`. */
interface Run {
  readonly options: TrainOptions;
  readonly out: string;
  readonly log: (line: string) => void;
  readonly config: ModelConfig;
  readonly quantizer: Quantizer;
  readonly data: RunData;
  readonly store: VariableStore;
  readonly optimizer: Adam;
  readonly trainingStep: AutoencoderStep;
  readonly evaluator: Evaluator | undefined;
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

/** What one epoch of training steps leaves behind. */
interface EpochTotals {
  readonly stats: EpochStats;
  /** Milliseconds spent in the training steps themselves. */
  readonly stepMs: number;
  /** The learning rate of the epoch's last step. */
  readonly lr: number;
}

export async function trainModel(options: TrainOptions): Promise<TrainSummary> {
  validate(options);
  const started = performance.now();
  const finished = options.resume ? await finishedRun(options) : undefined;
  if (finished) return finished;
  const run = await prepareRun(options);
  try {
    const history: EpochRecord[] = [];
    for (let epoch = run.startEpoch; epoch < options.epochs; epoch++) {
      const epochStart = performance.now();
      const totals = await runEpoch(run, epoch);
      const test = run.evaluator ? (await run.evaluator.evaluate(run.data.test, { ssim: true })).metrics : null;
      const now = performance.now();
      const record = makeEpochRecord(run, epoch, totals, test, { epochSeconds: (now - epochStart) / 1000, wallSeconds: (now - started) / 1000 });
      history.push(record);
      await saveEpoch(run, record);
      run.log(describeEpoch(record, options.epochs));
      if (options.stopOnPlateau !== undefined && epoch + 1 < options.epochs && await plateauReached(run.out, options.stopOnPlateau)) {
        run.log(`utilization has not risen by more than ${100 * options.stopOnPlateau.minDelta} points in ${options.stopOnPlateau.patience} epochs; stopping after epoch ${epoch + 1} of at most ${options.epochs}`);
        break;
      }
      if (options.stopSignal?.aborted && epoch + 1 < options.epochs) {
        throw new TrainingStoppedError(`stopped after epoch ${epoch + 1} (step ${run.step}) with its checkpoint saved; continue with: vqlab train --resume ${options.out}`);
      }
    }
    run.iterator.close();
    return {
      out: run.out,
      config: run.config,
      completedEpochs: Math.max(run.startEpoch, run.startEpoch + history.length),
      steps: run.step,
      startEpoch: run.startEpoch,
      history,
      last: history[history.length - 1],
      seconds: (performance.now() - started) / 1000,
      best: bestCheckpoint(run.out),
    };
  } finally {
    await run.trainingStep.program.release();
    await run.evaluator?.release();
  }
}

/**
 * The summary of a resumed run that has already trained its epochs, read from the checkpoint
 * without building anything (which for a large codebook would take minutes); undefined otherwise.
 */
async function finishedRun(options: TrainOptions): Promise<TrainSummary | undefined> {
  const out = resolve(options.out);
  if (!existsSync(out) || !hasTrainingCheckpoint(out)) return undefined;
  const state = await readTrainerState(out, { limits: options.limits });
  if (state.epochProgress !== undefined) return undefined;
  const plateaued = state.epoch < options.epochs && options.stopOnPlateau !== undefined && await plateauReached(out, options.stopOnPlateau);
  if (state.epoch < options.epochs && !plateaued) return undefined;
  await cleanRunDirectory(out, options.writeHook);
  options.log?.(`${out} has already trained ${state.epoch} of ${options.epochs} epochs${plateaued ? ' and its utilization has plateaued' : ''}; nothing to do`);
  return { out, config: await readConfig(out, { limits: options.limits }), completedEpochs: state.epoch, steps: state.step, startEpoch: state.epoch, history: [], last: undefined, seconds: 0, best: bestCheckpoint(out) };
}

/** Whether the run's logged epochs show its utilization has plateaued under `rule`. */
async function plateauReached(out: string, rule: PlateauRule): Promise<boolean> {
  const log = await readMetricsLog(join(out, METRICS_FILE));
  return hasPlateaued(log.map((r) => r.utilization), rule);
}

/**
 * Checks the run directory, loads the data, builds the model and its training and evaluation
 * programs, and on resume restores the checkpoint and checks it against the options. The variables
 * are created (seeded) in the same order on every run, so a fixed seed gives the same weights.
 */
async function prepareRun(options: TrainOptions): Promise<Run> {
  const log = options.log ?? ((): void => {});
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
  await prepareOutputDir(out, options.writeHook);
  if (earlier.length > 0) await removeRunOutputs(out);
  if (resuming) await cleanRunDirectory(out, options.writeHook);

  // The whole checkpoint is checked first, so a damaged one is refused before minutes of compiling.
  if (resuming) await verifyCheckpoint(out, { limits: options.limits, notice: (line) => log(`note: ${line}`) });
  const savedConfig = resuming ? await readConfig(out, { limits: options.limits }) : undefined;
  const data: RunData = options.datasets
    ? { ...options.datasets, path: null }
    : loadRunData(options.data, {
        ...(options.trainLimit !== undefined ? { trainLimit: options.trainLimit } : {}),
        ...(options.testLimit !== undefined ? { testLimit: options.testLimit } : {}),
        ...(savedConfig ? { shape: savedConfig.input } : {}),
        ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
        ...(options.limits !== undefined ? { limits: options.limits } : {}),
      });
  const { train, test } = data;
  if (Math.min(test.height, test.width) < SSIM_WINDOW) {
    throw new TrainOptionsError(`images of ${test.height}×${test.width} pixels are smaller than the ${SSIM_WINDOW}×${SSIM_WINDOW} window of SSIM, one of the test metrics; use --image-size ${SSIM_WINDOW} or more`);
  }
  if (options.batch > train.count) {
    throw new TrainOptionsError(`batch ${options.batch} is larger than the ${train.count} training images; use --batch ${train.count} or less`);
  }
  const config = savedConfig ?? makeModelConfig({
    model: (options.model ?? TRAIN_DEFAULTS.model) as ModelKind,
    input: { channels: train.channels, height: train.height, width: train.width },
    quantizer: options.quantizer,
    codebookSize: options.codebookSize,
    dim: options.dim,
    beta: options.beta,
    ...(options.simvqOptimize !== undefined ? { simvqOptimize: options.simvqOptimize } : {}),
    ...(options.quantizerOptions !== undefined ? { quantizerOptions: options.quantizerOptions } : {}),
  });
  const model = buildModel(config);
  const estimate = checkTrainingMemory(model, options.batch);
  const parameters = estimate.parameterBytes / 20;
  if (parameters > LARGE_MODEL_PARAMETERS) {
    const { codebookSize: K } = model.quantizer;
    const d = config.quantizer.dim;
    log(`compiling the training step for ${(parameters / 1e6).toFixed(0)} M parameters (${((K * d) / 1e6).toFixed(0)} M of them the K=${K} × d=${d} codebook); at this size that takes minutes — a smaller --codebook-size starts at once`);
  }

  const store = new VariableStore(options.seed);
  const [beta1, beta2] = options.adamBetas ?? DEFAULT_ADAM_BETAS;
  const optimizer = new Adam({ beta1, beta2 });
  const trainingStep = await createAutoencoderStep({ model, store, optimizer, batch: options.batch, threads: options.threads, ...(options.clipGradNorm !== undefined ? { clipGradNorm: options.clipGradNorm } : {}) });
  const program = trainingStep.program;
  let evaluator: Evaluator | undefined;
  try {
    evaluator = options.evaluateEachEpoch ?? true
      ? await Evaluator.create(model, store, { batch: Math.min(EVAL_BATCH, test.count), threads: options.threads })
      : undefined;
    let trainer: TrainerState | undefined;
    if (resuming) {
      trainer = await loadTrainingCheckpoint(out, store, { limits: options.limits });
      const conflicts = resumeConflicts(options, config, trainer, data);
      if (conflicts.length) throw new TrainOptionsError(`cannot resume ${out} with different settings: ${conflicts.join('; ')}; drop those options or start a new run`);
      if (trainer.lr !== options.lr) log(`note: resuming with lr ${options.lr} (the checkpoint used ${trainer.lr})`);
    }
    const startEpoch = trainer?.epoch ?? 0;
    await trimMetricsLog(join(out, METRICS_FILE), startEpoch, options.writeHook);

    const iterator = new BatchIterator(train, options.batch, options.seed, { dropLast: true, start: trainer?.dataPosition ?? { epoch: startEpoch, batch: 0 } });
    const progress = new ProgressReporter(options.progressSink ?? process.stderr, options.progress ?? false);
    log(`training ${config.architecture.kind} + ${config.quantizer.kind} (K=${model.quantizer.codebookSize}${model.quantizer.depth > 1 ? ` × ${model.quantizer.depth} stages` : ''}, d=${config.quantizer.dim}) on ${train.count} images (${train.name}), ${iterator.batchesPerEpoch} steps/epoch, epochs ${startEpoch + 1}–${options.epochs} → ${out}; ${store.parameterCount()} parameters, training step compiled in ${Math.round(program.compiled.compileMs)} ms`);
    const midEpoch = trainer?.epochProgress !== undefined ? `, from step ${trainer.dataPosition.batch + 1} of epoch ${startEpoch + 1}` : '';
    if (midEpoch) log(`resuming${midEpoch}`);
    return {
      options, out, log, config, quantizer: model.quantizer, data, store, optimizer, trainingStep, evaluator, iterator, progress, startEpoch,
      step: trainer?.step ?? 0,
      resumedProgress: trainer?.epochProgress,
      schedule: options.lrSchedule ?? CONSTANT_LR,
      totalSteps: options.epochs * iterator.batchesPerEpoch,
      pace: { steps: 0, ms: 0 },
    };
  } catch (err) {
    await program.release();
    await evaluator?.release();
    throw err;
  }
}

/**
 * One epoch of training steps. A non-finite loss term stops the run with a `TrainingDivergedError`
 * before anything of the epoch is written, so the last good checkpoint stays as it was.
 */
async function runEpoch(run: Run, epoch: number): Promise<EpochTotals> {
  const { options, iterator, progress } = run;
  const K = run.quantizer.countsSize;
  const resumed = run.resumedProgress;
  run.resumedProgress = undefined;
  const stats = resumed ? EpochStats.restore(K, resumed) : new EpochStats(K);
  let stepMs = resumed?.stepMs ?? 0;
  let lr = options.lr;
  let noticeLogged = false;
  for (const batch of iterator.epochBatches()) {
    lr = learningRateAt(options.lr, run.step, run.totalSteps, run.schedule);
    const t0 = performance.now();
    const result = await runAutoencoderStep(run.trainingStep, batch.data, lr);
    const { counts, nonFinite: nonFiniteCount, hostStep } = result.metrics;
    const losses = lossesOf(result);
    const ms = performance.now() - t0;
    stepMs += ms;
    run.pace.steps++;
    run.pace.ms += ms;
    run.step++;
    const bad = Object.entries(losses).find(([, v]) => !Number.isFinite(v));
    if (bad) {
      iterator.close();
      progress.clear();
      const kept = epoch > 0 ? `the last good checkpoint (epoch ${epoch}) in ${run.out} is intact` : 'no checkpoint was written';
      const nonFinite = nonFiniteCount > 0 ? ` (${nonFiniteCount} encoder outputs were NaN/Inf)` : '';
      throw new TrainingDivergedError(`${bad[0] === 'total' ? '' : `${bad[0]} `}loss became ${bad[1]} at epoch ${epoch + 1}, step ${run.step}${nonFinite}; ${kept}; lower --lr (now ${lr}) or check the data for NaN/Inf values`);
    }
    stats.add(losses, counts, hostStep?.reseededCodes);
    // One notice line an epoch: dead-code replacement at large K acts at nearly every step, and the
    // epoch's line totals the codes re-seeded.
    if (hostStep !== undefined && !noticeLogged) {
      noticeLogged = true;
      progress.clear();
      run.log(`step ${run.step}: ${hostStep.notice} (the epoch's line totals the codes re-seeded)`);
    }
    progress.update({
      epoch: epoch + 1,
      epochs: options.epochs,
      step: batch.index + 1,
      steps: iterator.batchesPerEpoch,
      loss: losses.total!,
      batchUtilization: batchUtilization(counts),
      imagesPerSecond: (stats.stepCount * options.batch * 1000) / stepMs,
      etaSeconds: ((run.totalSteps - run.step) * run.pace.ms) / run.pace.steps / 1000,
    });
    // The epoch's last step is followed by the end-of-epoch save; a stop then waits for it.
    if (batch.index + 1 === iterator.batchesPerEpoch) continue;
    if (options.stopSignal?.aborted) {
      iterator.close();
      progress.clear();
      await saveMidEpoch(run, epoch, stats, stepMs);
      throw new TrainingStoppedError(`stopped at epoch ${epoch + 1}, step ${run.step} with a checkpoint of that step saved; continue with: vqlab train --resume ${options.out}`);
    }
    if (options.saveEvery !== undefined && run.step % options.saveEvery === 0) {
      progress.clear();
      await saveMidEpoch(run, epoch, stats, stepMs);
    }
  }
  progress.clear();
  return { stats, stepMs, lr };
}

/** The metrics.jsonl line of an epoch: mean loss terms, training-set code usage, test metrics, timing. */
function makeEpochRecord(run: Run, epoch: number, totals: EpochTotals, test: EvalMetrics | null, time: { epochSeconds: number; wallSeconds: number }): EpochRecord {
  const { stats, stepMs } = totals;
  const usage = stats.usage;
  const m = stats.means();
  return {
    epoch: epoch + 1,
    step: run.step,
    loss: {
      reconstruction: m.reconstruction!,
      codebook: m.codebook ?? null,
      commitment: m.commitment ?? null,
      quantizer: m.quantizer!,
      total: m.total!,
    },
    utilization: usage.utilization(),
    perplexity: usage.perplexity(),
    dead_codes: usage.codebookSize - usage.usedCodes(),
    ...(run.quantizer.needsHostStep ? { reseeded_codes: stats.reseededCodes } : {}),
    img_per_s: (stats.stepCount * run.options.batch * 1000) / stepMs,
    epoch_seconds: time.epochSeconds,
    wall_seconds: time.wallSeconds,
    lr: totals.lr,
    test,
  };
}

/**
 * Appends the epoch's metrics line, then writes the checkpoint. In that order a crash in between
 * leaves a line for an epoch the checkpoint does not have, which `trimMetricsLog` drops on resume.
 */
async function saveEpoch(run: Run, record: EpochRecord): Promise<void> {
  await appendEpochRecord(join(run.out, METRICS_FILE), record);
  await saveCheckpoint(run.out, run.config, run.store, trainerState(run, record.epoch), { ...(record.test ? { testMse: record.test.mse } : {}), writeHook: run.options.writeHook ?? NO_WRITE_FAULTS });
}

/** A checkpoint inside epoch `epoch` (0-based): the step's weights plus the epoch's running totals. */
async function saveMidEpoch(run: Run, epoch: number, stats: EpochStats, stepMs: number): Promise<void> {
  await saveCheckpoint(run.out, run.config, run.store, { ...trainerState(run, epoch), epochProgress: stats.progress(stepMs) }, { writeHook: run.options.writeHook ?? NO_WRITE_FAULTS });
}

/** Where the run stands after `completedEpochs` epochs and `run.step` steps. */
function trainerState(run: Run, completedEpochs: number): TrainerState {
  const { options, data, optimizer } = run;
  return {
    format: TRAINER_FORMAT,
    version: 1,
    epoch: completedEpochs,
    step: run.step,
    epochs: options.epochs,
    seed: options.seed,
    batch: options.batch,
    lr: options.lr,
    dataPosition: run.iterator.position,
    data: {
      path: data.path,
      name: data.train.name,
      trainCount: data.train.count,
      testCount: data.test.count,
      trainLimit: options.trainLimit ?? null,
      testLimit: options.testLimit ?? null,
    },
    optimizer: { name: optimizer.name, config: optimizer.config },
    ...(options.lrSchedule !== undefined ? { lrSchedule: options.lrSchedule } : {}),
    clipGradNorm: options.clipGradNorm ?? null,
    ...(options.stopOnPlateau !== undefined ? { stopOnPlateau: options.stopOnPlateau } : {}),
  };
}

function describeEpoch(r: EpochRecord, epochs: number): string {
  const test = r.test ? `  test mse ${r.test.mse.toFixed(5)} psnr ${r.test.psnr.toFixed(2)} dB ssim ${r.test.ssim.toFixed(3)} util ${(100 * r.test.utilization).toFixed(1)}%` : '';
  const reseeded = r.reseeded_codes !== undefined ? `  re-seeded ${r.reseeded_codes} codes` : '';
  return `epoch ${r.epoch}/${epochs}  loss ${r.loss.total.toFixed(5)} (recon ${r.loss.reconstruction.toFixed(5)})  util ${(100 * r.utilization).toFixed(1)}%  perplexity ${r.perplexity.toFixed(1)}${reseeded}  ${Math.round(r.img_per_s)} img/s  ${r.epoch_seconds.toFixed(1)} s${test}`;
}

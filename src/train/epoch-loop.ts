/**
 * One epoch of a run, as `trainEpoch` takes it: the training steps (`runEpoch`), the test-set
 * evaluation, the epoch's metrics line (`makeEpochRecord`), and the save (`saveEpoch`: the line
 * appended to metrics.jsonl, then the checkpoint). A stop request inside the epoch saves a
 * mid-epoch checkpoint (`saveMidEpoch`) that a resume continues exactly.
 */
import { join } from 'node:path';
import type { EvalMetrics } from '../eval/evaluator.js';
import type { Modality } from '../modality/modality.js';
import { saveCheckpoint, TRAINER_FORMAT, type TrainerState } from '../persistence/checkpoint.js';
import { lossesOf, runAutoencoderStep } from './autoencoder-step.js';
import { batchUtilization, EpochStats } from './epoch-stats.js';
import { drawInitSamples } from './init-samples.js';
import { learningRateAt } from './lr-schedule.js';
import { appendEpochRecord, METRICS_FILE, type EpochRecord } from './metrics-log.js';
import { formatThroughput } from './progress.js';
import type { Run } from './run-setup.js';
import { currentRuntime } from '../runtime/runtime.js';

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

/** What one epoch of training steps leaves behind. */
interface EpochTotals {
  readonly stats: EpochStats;
  /** Milliseconds spent in the training steps themselves. */
  readonly stepMs: number;
  /** The learning rate of the epoch's last step. */
  readonly lr: number;
}

/**
 * Trains epoch `epoch` (0-based), evaluates the test set, saves the epoch and logs its line.
 * `started` is when the invocation began (performance.now()), for the record's wall time.
 */
export async function trainEpoch(run: Run, epoch: number, started: number): Promise<EpochRecord> {
  const epochStart = performance.now();
  const totals = await runEpoch(run, epoch);
  const test = run.evaluator ? (await run.evaluator.evaluate(run.data.test, { slowMetrics: true })).metrics : null;
  const now = performance.now();
  const record = makeEpochRecord(run, epoch, totals, test, { epochSeconds: (now - epochStart) / 1000, wallSeconds: (now - started) / 1000 });
  await saveEpoch(run, record);
  run.log(describeEpoch(run.modality, record, run.options.epochs));
  return record;
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
  const initSamples = await initSamplesFor(run);
  for (const batch of iterator.epochBatches()) {
    lr = learningRateAt(options.lr, run.step, run.totalSteps, run.schedule);
    const t0 = performance.now();
    const result = await runAutoencoderStep(run.trainingStep, batch.data, lr, run.step === 0 ? initSamples : undefined);
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
      throughput: throughputOf(run, stats.stepCount, stepMs),
      etaSeconds: ((run.totalSteps - run.step) * run.pace.ms) / run.pace.steps / 1000,
    });
    // The epoch's last step is followed by the end-of-epoch save; a stop then waits for it.
    if (batch.index + 1 === iterator.batchesPerEpoch) continue;
    if (run.stopSignal?.aborted) {
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

/**
 * Before a run's first step, the search inputs its quantizer's initialization wants drawn across
 * the training set (init-samples.ts); undefined when it wants none or the run is past step 0.
 */
async function initSamplesFor(run: Run): Promise<Float32Array | undefined> {
  const count = run.quantizer.initSampleCount ?? 0;
  if (run.step !== 0 || count === 0) return undefined;
  const { vectors, rows, examples } = await drawInitSamples(run, count);
  run.progress.clear();
  run.log(`drew ${rows} encoder outputs of ${examples} training ${run.modality.examples}, chosen at random, for the quantizer's initialization`);
  return vectors;
}

/** Examples (images, or seconds of audio: `Modality.throughput`) trained per second of the steps' wall-clock time. */
function throughputOf(run: Run, steps: number, stepMs: number): number {
  return (steps * run.options.batch * run.modality.throughput.perExample(run.config) * 1000) / stepMs;
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
    // A metrics line counts re-seeded codes only for a quantizer that can re-seed them: for the
    // others the key is absent, not 0 (metrics-log.ts).
    ...(run.quantizer.needsHostStep ? { reseeded_codes: stats.reseededCodes } : {}),
    [run.modality.throughput.key]: throughputOf(run, stats.stepCount, stepMs),
    epoch_seconds: time.epochSeconds,
    wall_seconds: time.wallSeconds,
    lr: totals.lr,
    device: currentRuntime().device,
    adapter: currentRuntime().adapter ?? null,
    test,
  };
}

/**
 * Appends the epoch's metrics line, then writes the checkpoint. In that order a crash in between
 * leaves a line for an epoch the checkpoint does not have, which `trimMetricsLog` drops on resume.
 */
async function saveEpoch(run: Run, record: EpochRecord): Promise<void> {
  await appendEpochRecord(join(run.out, METRICS_FILE), record);
  await saveCheckpoint(run.out, run.config, run.store, trainerState(run, record.epoch), { testMse: record.test?.mse, writeHook: run.writeHook });
}

/** A checkpoint inside epoch `epoch` (0-based): the step's weights plus the epoch's running totals. */
async function saveMidEpoch(run: Run, epoch: number, stats: EpochStats, stepMs: number): Promise<void> {
  await saveCheckpoint(run.out, run.config, run.store, { ...trainerState(run, epoch), epochProgress: stats.progress(stepMs) }, { writeHook: run.writeHook });
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
    lrSchedule: options.lrSchedule,
    clipGradNorm: options.clipGradNorm ?? null,
    stopOnPlateau: options.stopOnPlateau,
    stopOnSettle: options.stopOnSettle,
    loss: options.loss,
  };
}

function describeEpoch(modality: Modality, r: EpochRecord, epochs: number): string {
  const test = r.test ? `  test ${modality.describeMetrics(r.test)} util ${(100 * r.test.utilization).toFixed(1)}%` : '';
  const reseeded = r.reseeded_codes !== undefined ? `  re-seeded ${r.reseeded_codes} codes` : '';
  return `epoch ${r.epoch}/${epochs}  loss ${r.loss.total.toFixed(5)} (recon ${r.loss.reconstruction.toFixed(5)})  util ${(100 * r.utilization).toFixed(1)}%  perplexity ${r.perplexity.toFixed(1)}${reseeded}  ${formatThroughput(r[modality.throughput.key] ?? NaN)} ${modality.throughput.unit}  ${r.epoch_seconds.toFixed(1)} s${test}`;
}

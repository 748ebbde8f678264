/**
 * Resume reconciliation: what a checkpoint was trained with (`resumeOptions`), how a resume's
 * options differ from it (`resumeConflicts`), and whether a resumed run has nothing left to do
 * (`finishedRun`: all its epochs trained, or its utilization plateaued).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InputLimits } from '../limits/input-limits.js';
import { modalityNameOf, type ModelConfig } from '../models/config.js';
import { quantizerConfigFor } from '../models/quantizer-settings.js';
import type { Modality, RunData } from '../modality/modality.js';
import { savedQuantizerConfig } from '../quantizers/registry.js';
import { readConfig, readTrainerState, type TrainerState } from '../persistence/checkpoint.js';
import { bestCheckpoint, cleanRunDirectory, hasTrainingCheckpoint } from '../persistence/run-directory.js';
import { DEFAULT_ADAM_BETAS, TRAIN_DEFAULTS } from './defaults.js';
import { METRICS_FILE, readMetricsLog } from './metrics-log.js';
import { hasPlateaued, type PlateauRule } from './plateau.js';
import { hasSettled, type SettleRule } from './settle.js';
import type { TrainSummary } from './summary.js';
import type { TrainConfig, TrainHooks, TrainOptions } from './train-options.js';

/**
 * The options a checkpoint was trained with, for resuming it: model and quantizer from config.json,
 * batch, seed, lr, epochs and data from trainer-state.json. Callers override what they mean to change.
 */
export async function resumeOptions(dir: string, limits?: InputLimits): Promise<TrainOptions> {
  const config = await readConfig(dir, { limits });
  const s = await readTrainerState(dir, { limits });
  const adamBetas = savedBetas(s);
  const { kind, ...quantizerOptions } = config.quantizer;
  return {
    quantizer: quantizerConfigFor(kind, quantizerOptions),
    lr: s.lr,
    batch: s.batch,
    epochs: s.epochs,
    seed: s.seed,
    threads: TRAIN_DEFAULTS.threads,
    out: dir,
    resume: true,
    modality: modalityNameOf(config),
    model: config.architecture.kind,
    data: s.data.path ?? undefined,
    trainLimit: s.data.trainLimit ?? undefined,
    testLimit: s.data.testLimit ?? undefined,
    lrSchedule: s.lrSchedule,
    clipGradNorm: s.clipGradNorm ?? undefined,
    adamBetas,
    stopOnPlateau: s.stopOnPlateau,
    stopOnSettle: s.stopOnSettle,
    loss: s.loss,
  };
}

/** Adam's betas as a checkpoint recorded them (its optimizer config), if it did. */
function savedBetas(s: TrainerState): [number, number] | undefined {
  const { beta1, beta2 } = s.optimizer.config;
  return typeof beta1 === 'number' && typeof beta2 === 'number' ? [beta1, beta2] : undefined;
}

/** Differences between what a resume asks for and what the checkpoint was trained with. */
export function resumeConflicts(o: TrainConfig, modality: Modality, config: ModelConfig, s: TrainerState, data: RunData): string[] {
  const out: string[] = [];
  const check = (what: string, asked: unknown, saved: unknown): void => {
    if (asked !== saved) out.push(`${what} ${String(asked)} vs ${String(saved)} in the checkpoint`);
  };
  const asked: Readonly<Record<string, unknown>> = savedQuantizerConfig(o.quantizer);
  const saved: Readonly<Record<string, unknown>> = config.quantizer;
  check('quantizer', asked.kind, saved.kind);
  for (const key of new Set([...Object.keys(asked), ...Object.keys(saved)])) {
    if (key !== 'kind' && asked.kind === saved.kind) check(`quantizer option ${key}`, JSON.stringify(asked[key]), JSON.stringify(saved[key]));
  }
  check('modality', modality.name, modalityNameOf(config));
  check('model', o.model ?? modality.defaultModel, config.architecture.kind);
  check('batch', o.batch, s.batch);
  check('seed', o.seed, s.seed);
  check(`training ${modality.examples}`, data.train.count, s.data.trainCount);
  check(`test ${modality.examples}`, data.test.count, s.data.testCount);
  check('gradient clipping', o.clipGradNorm ?? 'none', s.clipGradNorm ?? 'none');
  check('loss', o.loss ?? modality.defaultLoss, s.loss ?? modality.defaultLoss);
  const betas = savedBetas(s);
  if (betas !== undefined) check('Adam betas', (o.adamBetas ?? DEFAULT_ADAM_BETAS).join(','), betas.join(','));
  return out;
}

/**
 * The summary of a resumed run that has already trained its epochs, read from the checkpoint
 * without building anything (which for a large codebook would take minutes); undefined otherwise.
 */
export async function finishedRun(options: TrainOptions, hooks: TrainHooks): Promise<TrainSummary | undefined> {
  const out = resolve(options.out);
  if (!existsSync(out) || !hasTrainingCheckpoint(out)) return undefined;
  const state = await readTrainerState(out, { limits: options.limits });
  if (state.epochProgress !== undefined) return undefined;
  const plateaued = state.epoch < options.epochs && options.stopOnPlateau !== undefined && await plateauReached(out, options.stopOnPlateau);
  const settled = state.epoch < options.epochs && options.stopOnSettle !== undefined && await settleReached(out, options.stopOnSettle);
  if (state.epoch < options.epochs && !plateaued && !settled) return undefined;
  await cleanRunDirectory(out, hooks.writeHook);
  hooks.log?.(`${out} has already trained ${state.epoch} of ${options.epochs} epochs${plateaued ? ' and its utilization has plateaued' : settled ? ' and its utilization has settled' : ''}; nothing to do`);
  return { out, config: await readConfig(out, { limits: options.limits }), completedEpochs: state.epoch, steps: state.step, startEpoch: state.epoch, history: [], last: undefined, seconds: 0, best: bestCheckpoint(out) };
}

/** Whether the run's logged epochs show its utilization has plateaued under `rule`. */
export async function plateauReached(out: string, rule: PlateauRule): Promise<boolean> {
  const log = await readMetricsLog(join(out, METRICS_FILE));
  return hasPlateaued(log.map((r) => r.utilization), rule);
}

/** Whether the run's logged epochs show its utilization has settled under `rule`. */
export async function settleReached(out: string, rule: SettleRule): Promise<boolean> {
  const log = await readMetricsLog(join(out, METRICS_FILE));
  return hasSettled(log.map((r) => r.utilization), rule);
}

/**
 * trainer-state.json: where training stands, enough to continue exactly, and its strict parser.
 * Every field is checked for type and range (`parseTrainerState`), because the trainer trusts
 * these numbers: a step count, a batch position or a per-code count that is negative, fractional
 * or 10³⁰⁰ must be refused here, naming the field, not discovered as a wrong resume.
 */
import { CheckpointError } from './checkpoint-weights.js';
import { JsonFields, type JsonSource } from './json-fields.js';

export const TRAINER_FORMAT = 'vqlab-trainer';

/** Where training stands after a completed epoch; enough to continue exactly. */
export interface TrainerState {
  readonly format: typeof TRAINER_FORMAT;
  readonly version: 1;
  /** Completed epochs. */
  readonly epoch: number;
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** Epochs the run was asked for. */
  readonly epochs: number;
  readonly seed: number;
  readonly batch: number;
  readonly lr: number;
  /** Where the next batch comes from: epoch index of the seeded shuffle and batch within it. */
  readonly dataPosition: { readonly epoch: number; readonly batch: number };
  /** The data the run trains on, so resume and eval find the same sets. */
  readonly data: {
    readonly path: string | null;
    readonly name: string;
    readonly trainCount: number;
    readonly testCount: number;
    readonly trainLimit: number | null;
    readonly testLimit: number | null;
  };
  readonly optimizer: { readonly name: string; readonly config: Readonly<Record<string, number | boolean | string>> };
  /** Learning-rate schedule (absent: constant lr). */
  readonly lrSchedule?: { readonly warmupSteps: number; readonly cosine: boolean; readonly minLr: number } | undefined;
  /** Global gradient-norm clipping threshold (absent or null: none). */
  readonly clipGradNorm?: number | null | undefined;
  /** Stop once training utilization plateaus (train/plateau.ts; absent: train all epochs). */
  readonly stopOnPlateau?: { readonly patience: number; readonly minDelta: number } | undefined;
  /** Stop once training utilization stops changing either way (train/settle.ts; absent: train all epochs). */
  readonly stopOnSettle?: { readonly patience: number; readonly delta: number } | undefined;
  /** The reconstruction loss the run chose by name (absent: its modality's default). */
  readonly loss?: string | undefined;
  /** For a checkpoint saved mid-epoch: the running totals of the epoch's steps so far. */
  readonly epochProgress?: EpochProgress | undefined;
}

/** The running totals of an unfinished epoch, so a resumed epoch reports what an uninterrupted one would. */
export interface EpochProgress {
  readonly steps: number;
  readonly lossSums: Readonly<Record<string, number>>;
  /** Per-code counts summed over the epoch's steps so far. */
  readonly codeCounts: readonly number[];
  /** Codes the quantizer's host step re-seeded in the epoch so far (absent: 0). */
  readonly reseededCodes?: number | undefined;
  readonly stepMs: number;
}

const finite = (): boolean => true;
const positive = (n: number): boolean => n > 0;
const nonNegative = (n: number): boolean => n >= 0;

function epochProgressOf(p: JsonFields): EpochProgress {
  const sums = p.object('lossSums');
  return {
    steps: p.integer('steps', 0),
    lossSums: Object.fromEntries(sums.keys().map((k) => [k, sums.number(k, 'a finite number', finite)])),
    codeCounts: p.integers('codeCounts', 0),
    reseededCodes: p.has('reseededCodes') ? p.integer('reseededCodes', 0) : undefined,
    stepMs: p.number('stepMs', 'a finite number >= 0', nonNegative),
  };
}

/**
 * The trainer state in `text` (the contents of `path`), every field checked; anything else is
 * refused with one `CheckpointError` line naming the file and the field.
 */
export function parseTrainerState(text: string, path: string): TrainerState {
  const source: JsonSource = {
    path,
    remedy: 'the checkpoint is corrupt; resume from another checkpoint of the run (its best) or start a new run',
    fail: (message) => new CheckpointError(message),
  };
  const s = JsonFields.parse(text, source);
  s.constant('format', TRAINER_FORMAT);
  s.constant('version', 1);
  const lr = s.number('lr', 'a finite number > 0', positive);
  const position = s.object('dataPosition');
  const data = s.object('data');
  const optimizer = s.object('optimizer');
  const settings = optimizer.object('config');
  const schedule = s.has('lrSchedule') ? s.object('lrSchedule') : undefined;
  const plateau = s.has('stopOnPlateau') ? s.object('stopOnPlateau') : undefined;
  const settle = s.has('stopOnSettle') ? s.object('stopOnSettle') : undefined;
  const limit = (key: string): number | null => (data.isNull(key) ? null : data.integer(key, 1));
  return {
    format: TRAINER_FORMAT,
    version: 1,
    epoch: s.integer('epoch', 0),
    step: s.integer('step', 0),
    epochs: s.integer('epochs', 1),
    seed: s.integer('seed', 0),
    batch: s.integer('batch', 1),
    lr,
    dataPosition: { epoch: position.integer('epoch', 0), batch: position.integer('batch', 0) },
    data: {
      path: data.isNull('path') ? null : data.string('path'),
      name: data.string('name'),
      trainCount: data.integer('trainCount', 0),
      testCount: data.integer('testCount', 0),
      trainLimit: limit('trainLimit'),
      testLimit: limit('testLimit'),
    },
    optimizer: {
      name: optimizer.string('name', { test: /./, wanted: 'an optimizer name such as "adam"' }),
      config: Object.fromEntries(settings.keys().map((k) => [k, settings.scalar(k)])),
    },
    lrSchedule: schedule && { warmupSteps: schedule.integer('warmupSteps', 0), cosine: schedule.boolean('cosine'), minLr: schedule.number('minLr', `a finite number in [0, lr ${lr}]`, (n) => n >= 0 && n <= lr) },
    clipGradNorm: !s.has('clipGradNorm') ? undefined : s.isNull('clipGradNorm') ? null : s.number('clipGradNorm', 'a finite number > 0 or null', positive),
    stopOnPlateau: plateau && { patience: plateau.integer('patience', 1), minDelta: plateau.number('minDelta', 'a utilization fraction in [0, 1)', (n) => n >= 0 && n < 1) },
    stopOnSettle: settle && { patience: settle.integer('patience', 1), delta: settle.number('delta', 'a utilization fraction in (0, 1)', (n) => n > 0 && n < 1) },
    loss: s.has('loss') ? s.string('loss', { test: /^[a-z0-9+-]+$/, wanted: 'a loss name such as "l1"' }) : undefined,
    epochProgress: s.has('epochProgress') ? epochProgressOf(s.object('epochProgress')) : undefined,
  };
}

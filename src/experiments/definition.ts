/**
 * What distinguishes one experiment from another: which runs it plans, which variable its figures
 * put on the x axis, and which summary figures it draws. Everything else (running, resuming,
 * results files, the HTML report) is shared.
 */
import { FSQ_LEVELS_FOR_SIZE } from '../quantizers/fsq.js';
import { optionsOf, parseQuantizerSpec } from '../quantizers/registry.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { gridPointOf, quantizerAt } from './run-quantizer.js';
import type { RunResult, ExperimentKind, ExperimentResults, ExperimentSettings, GridPoint, RunSpec } from './types.js';

export interface Figure {
  /** File name without extension, e.g. "utilization-vs-k" (written as figures/<name>.svg). */
  readonly name: string;
  readonly caption: string;
  readonly svg: string;
}

export interface ExperimentDefinition {
  readonly kind: ExperimentKind;
  readonly title: string;
  /** One paragraph for the report: the question the experiment answers. */
  readonly description: string;
  /** The swept variable of the summary table and reconstruction grid rows. */
  readonly xLabel: string;
  xOf(r: RunResult): number;
  /** Format an x value for tables ("1024", "β = 0.25"). */
  formatX(x: number): string;
  plan(settings: ExperimentSettings): RunSpec[];
  figures(results: ExperimentResults): Figure[];
}

/**
 * The runs an experiment trains: its definition's full grid, less the replicates that
 * `replicateSizes` / `replicateVariants` leave out (the first seed always runs).
 */
export function plannedRuns(def: ExperimentDefinition, s: ExperimentSettings): RunSpec[] {
  const first = s.seeds[0];
  return def.plan(s).filter((r) => r.seed === first
    || ((s.replicateSizes?.includes(gridPointOf(r).codebookSize) ?? true) && (s.replicateVariants?.includes(r.variant) ?? true)));
}

/** Fields every planned run copies from the settings (d is an option of its quantizer: `codeDimension`). */
export function commonSpec(s: ExperimentSettings): Pick<RunSpec, 'epochs' | 'lr' | 'batch' | 'trainLimit' | 'testLimit' | 'data' | 'optimizer' | 'warmupSteps' | 'cosine' | 'plateauPatience' | 'plateauDelta' | 'settlePatience' | 'settleDelta' | 'model' | 'loss' | 'cropSamples' | 'channels'> {
  return {
    epochs: s.epochs, lr: s.lr, batch: s.batch, trainLimit: s.trainLimit, testLimit: s.testLimit, data: s.data,
    optimizer: s.optimizer, warmupSteps: s.warmupSteps, cosine: s.cosine, plateauPatience: s.plateauPatience, plateauDelta: s.plateauDelta,
    settlePatience: s.settlePatience, settleDelta: s.settleDelta,
    // Absent (undefined, so left out of spec.json) for image runs: their specs stay as they were.
    model: s.model, loss: s.loss, cropSamples: s.cropSamples, channels: s.channels,
  };
}

/** The code dimension d of every run's quantizer: the settings' or the trainer's default. */
export function codeDimension(s: ExperimentSettings): number {
  return s.dim ?? TRAIN_DEFAULTS.dim;
}

/** β in a run id without characters that are awkward in paths ("0.25" → "0p25"). */
export function betaTag(beta: number): string {
  return String(beta).replace('.', 'p');
}

/**
 * A variant name ('vq:init=normal:initScale=0.125') as part of a file name ('vq-init-normal-initScale-0.125'):
 * ':' and '=' become '-', anything else outside [A-Za-z0-9._-] '_', so the name is valid on every
 * file system (Windows refuses ':').
 */
export function fileTag(variant: string): string {
  return variant.replace(/[:=]/g, '-').replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The run fields of a quantizer spec ('vq', 'ema:decay=0.95', 'fsq:levels=8x5x5x5') at grid point
 * `at`: its `QuantizerConfig` (`quantizerAt`) and a tag for run ids without characters awkward in
 * paths. `swept` is the option the experiment varies. A quantizer without it is refused — except
 * FSQ when the swept option is the codebook size K and its levels are left open: it then takes the
 * paper's levels for about K codes (`FSQ_LEVELS_FOR_SIZE`), so FSQ can stand in rows of a table
 * over K.
 */
export function quantizerSpecFields(spec: string, swept: keyof GridPoint, at: GridPoint, dim: number): Pick<RunSpec, 'quantizer' | 'nominal'> & { tag: string } {
  const { name, options } = parseQuantizerSpec(spec);
  const tag = fileTag(spec);
  if (name === 'fsq' && swept === 'codebookSize' && options.levels === undefined) {
    const levels = FSQ_LEVELS_FOR_SIZE[at.codebookSize];
    if (levels === undefined) {
      throw new Error(`quantizer 'fsq' has recommended levels only for K = ${Object.keys(FSQ_LEVELS_FOR_SIZE).join(', ')}, not ${at.codebookSize}; give its levels (fsq:levels=8x5x5x5) or leave it out of --quantizers`);
    }
    return { ...quantizerAt(name, { ...options, levels: [...levels] }, at, dim), tag };
  }
  if (!(swept in optionsOf(name, typeof options.base === 'string' ? options.base : undefined))) {
    throw new Error(`quantizer '${spec}' has no option '${swept}', which this experiment varies; leave it out of --quantizers`);
  }
  return { ...quantizerAt(name, options, at, dim), tag };
}

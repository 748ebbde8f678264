/**
 * What distinguishes one experiment from another: which runs it plans, which variable its figures
 * put on the x axis, and which summary figures it draws. Everything else (running, resuming,
 * results files, the HTML report) is shared.
 */
import { optionsOf, parseQuantizerSpec } from '../quantizers/registry.js';
import type { RunResult, ExperimentKind, ExperimentResults, ExperimentSettings, RunSpec } from './types.js';

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

/** Fields every planned run copies from the settings. */
export function commonSpec(s: ExperimentSettings): Pick<RunSpec, 'epochs' | 'lr' | 'batch' | 'dim' | 'trainLimit' | 'testLimit' | 'data'> {
  return { epochs: s.epochs, lr: s.lr, batch: s.batch, dim: s.dim, trainLimit: s.trainLimit, testLimit: s.testLimit, data: s.data };
}

/** β in a run id without characters that are awkward in paths ("0.25" → "0p25"). */
export function betaTag(beta: number): string {
  return String(beta).replace('.', 'p');
}

/**
 * The run fields of a quantizer spec ('vq', 'ema:decay=0.95', 'fsq:levels=8x5x5x5'): the registry
 * name, its options, and a tag for run ids without characters awkward in paths. `swept` is the
 * option the experiment varies; a quantizer without it (FSQ has no codebookSize or beta) is refused.
 */
export function quantizerSpecFields(spec: string, swept: string): { quantizer: RunSpec['quantizer']; quantizerOptions?: Readonly<Record<string, unknown>>; tag: string } {
  const { name, options } = parseQuantizerSpec(spec);
  if (!(swept in optionsOf(name, typeof options.base === 'string' ? options.base : undefined))) {
    throw new Error(`quantizer '${spec}' has no option '${swept}', which this experiment varies; leave it out of --quantizers`);
  }
  const tag = spec.replace(/[:=]/g, '-').replace(/[^A-Za-z0-9._-]/g, '_');
  return { quantizer: name, ...(Object.keys(options).length ? { quantizerOptions: options } : {}), tag };
}

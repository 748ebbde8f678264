/** The optimizer flags shared by `vqlab train` and `vqlab experiment`. */
import { OPTIMIZER_PRESETS } from '../train/defaults.js';
import { stringOption, UsageError, type ParsedArgs } from './args.js';

/** --adam-betas B1,B2: two numbers in [0, 1). */
export function betasOption(values: ParsedArgs['values']): [number, number] | undefined {
  const v = stringOption(values, 'adam-betas');
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 2 || !parts.every((b) => Number.isFinite(b) && b >= 0 && b < 1)) {
    throw new UsageError(`--adam-betas takes two numbers in [0, 1) separated by a comma, e.g. 0.5,0.9; got '${v}'`);
  }
  return [parts[0]!, parts[1]!];
}

/** "reference (Adam lr 3e-4, betas 0.9,0.999, the default) | simvq-paper (…)" for --help. */
export function describeOptimizerPresets(): string {
  return Object.entries(OPTIMIZER_PRESETS)
    .map(([name, p]) => `${name} (Adam lr ${p.lr}, betas ${p.adamBetas.join(',')}${name === 'reference' ? ', the default' : ''})`)
    .join(' | ');
}

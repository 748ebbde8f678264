/**
 * The command-line flags that raise the caps on what an input file may declare
 * (limits/input-limits.ts): each command offers the ones for the files it reads, and an unset flag
 * keeps the documented default.
 */
import { DEFAULT_LIMITS, LIMIT_SPECS, type InputLimits } from '../limits/input-limits.js';
import { intOption, type OptionTable, type ParsedArgs } from './args.js';

type LimitName = keyof InputLimits;

const optionName = (limit: LimitName): string => LIMIT_SPECS[limit].flag.replace(/^--/, '');

/** Option-table rows for the given caps, e.g. `--max-pixels N`, with the default in the description. */
export function limitOptions(...limits: readonly LimitName[]): OptionTable {
  return Object.fromEntries(limits.map((limit) => {
    const spec = LIMIT_SPECS[limit];
    return [optionName(limit), { type: 'string', value: 'N', description: `${spec.doc} (default ${spec.default.toLocaleString('en-US')})` }];
  }));
}

/** The caps the command line sets, the defaults for the rest (a cap is an integer >= 1). */
export function limitsFrom(values: ParsedArgs['values']): InputLimits {
  const pick = (limit: LimitName): number => intOption(values, optionName(limit), 1) ?? DEFAULT_LIMITS[limit];
  return { maxPixels: pick('maxPixels'), maxJsonBytes: pick('maxJsonBytes'), maxDataBytes: pick('maxDataBytes'), maxAudioSamples: pick('maxAudioSamples') };
}

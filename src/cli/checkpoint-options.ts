/**
 * What the commands that read a checkpoint share: `--checkpoint last|best` to pick one of a run's
 * checkpoints, `--max-json-bytes` for its JSON files, and notices about it (such as a checkpoint
 * written before vqlab recorded checksums) as `note: …` lines on stderr.
 */
import type { CheckpointReadOptions } from '../persistence/checkpoint.js';
import { choiceOption, type OptionTable, type ParsedArgs } from './args.js';
import { limitOptions, limitsFrom } from './limit-options.js';

const CHOICES = ['last', 'best'] as const;

export const CHECKPOINT_OPTIONS: OptionTable = {
  checkpoint: { type: 'string', value: 'last|best', description: 'of a run directory, read its last checkpoint (default) or its best by test mse' },
  ...limitOptions('maxJsonBytes'),
};

/** The checkpoint reading the command line asks for; `notice` prints to stderr. */
export function checkpointReading(values: ParsedArgs['values']): CheckpointReadOptions {
  return {
    checkpoint: choiceOption(values, 'checkpoint', CHOICES),
    notice: (line) => process.stderr.write(`note: ${line}\n`),
    limits: limitsFrom(values),
  };
}

/**
 * What the commands that read a checkpoint share: `--checkpoint last|best` to pick one of a run's
 * checkpoints, `--max-json-bytes` for its JSON files, and notices about it (such as a checkpoint
 * written before vqlab recorded checksums) as `note: …` lines on stderr.
 */
import type { CheckpointReadOptions } from '../persistence/checkpoint.js';
import { resolveModelLocation } from '../tokenize/pretrained.js';
import { choiceOption, stringOption, UsageError, type OptionTable, type ParsedArgs } from './args.js';
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

/**
 * `--model NAME|DIR`: encode, decode and export take the model as this option as well as their
 * DIR argument (train's `--model` is the architecture of a new run; these commands build none).
 */
export const MODEL_OPTION: OptionTable = {
  model: { type: 'string', value: 'NAME|DIR', description: "a pretrained model ('vqlab models' lists them) or a run or checkpoint folder, in place of DIR" },
};

/**
 * The checkpoint a command reads and its other arguments: `--model` when given (every positional
 * is then an input), else the first positional. Either may be a pretrained model's name; a path
 * that exists wins over a name (resolveModelLocation). `inputs` says how many further arguments
 * the command needs, and names them for the error; `pretrained` says that the word was a name.
 */
export function modelAndInputs(
  command: string,
  values: ParsedArgs['values'],
  positionals: readonly string[],
  inputs: { min: number; max: number; names: string },
): { location: string; inputs: string[]; pretrained: boolean } {
  const option = stringOption(values, 'model');
  const [first, ...others] = positionals;
  const picked = option !== undefined ? { word: option, rest: [...positionals] } : first !== undefined ? { word: first, rest: others } : undefined;
  const what = `a model (DIR, or --model NAME|DIR)${inputs.max > 0 ? ` and ${inputs.names}` : ''}`;
  if (picked === undefined) throw new UsageError(`'vqlab ${command}' needs ${what}; see 'vqlab ${command} --help'`);
  if (picked.rest.length < inputs.min || picked.rest.length > inputs.max) {
    throw new UsageError(`'vqlab ${command}' takes ${what}, got ${positionals.length} arguments${option !== undefined ? ' besides --model' : ''}; see 'vqlab ${command} --help'`);
  }
  const location = resolveModelLocation(picked.word);
  return { location, inputs: picked.rest, pretrained: location !== picked.word };
}

/** `vqlab verify RUN`: which checkpoints of a run are intact, by the checksums recorded when each was saved. */
import { CheckpointError } from '../persistence/checkpoint-weights.js';
import { verifyRun, type CheckpointReport } from '../persistence/verify-run.js';
import { helpText, parseCommandArgs, type OptionTable } from './args.js';
import { writeStdout, type Command } from './command.js';
import { limitOptions, limitsFrom } from './limit-options.js';

const OPTIONS: OptionTable = {
  ...limitOptions('maxJsonBytes'),
};

const USAGE = 'vqlab verify DIR [options]';
const SUMMARY = 'Check every checkpoint of a run (its last, its best and any other under DIR/checkpoints/), or one checkpoint folder, against the SHA-256 of each file recorded when it was saved.';
const EXTRA = `Prints one line per checkpoint: "intact", "CORRUPT: <file> …" or "no checksums (written before vqlab
recorded them)". Exits with 1 when any checkpoint is corrupt; eval, encode, decode, export and
train --resume refuse such a checkpoint, and --checkpoint best (or last) picks another.`;

function line(r: CheckpointReport): string {
  const roles = r.roles.length > 0 ? ` (${r.roles.join(', ')})` : '';
  const verdict = r.state === 'intact' ? `intact: ${r.detail}` : r.state === 'corrupt' ? `CORRUPT: ${r.detail}` : r.detail;
  return `${r.folder}${roles}: ${verdict}`;
}

export const verifyCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('verify', argv, OPTIONS, { min: 1, max: 1, names: 'one run directory or checkpoint folder' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const dir = positionals[0]!;
    const reports = await verifyRun(dir, limitsFrom(values));
    await writeStdout(`${reports.map(line).join('\n')}\n`);
    const corrupt = reports.filter((r) => r.state === 'corrupt').length;
    if (corrupt > 0) {
      throw new CheckpointError(`${corrupt} of ${reports.length} checkpoint${reports.length === 1 ? '' : 's'} in ${dir} ${corrupt === 1 ? 'is' : 'are'} corrupt; use an intact one (--checkpoint best, or last) or restore the run from a copy`);
    }
  },
};

/** `vqlab samples --out DIR`: a few bundled MNIST test digits as PNG files, to try encode/decode on. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDatasetSplit } from '../data/index.js';
import { spreadIndices } from '../eval/evaluator.js';
import { encodePng } from '../images/encode-png.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { writeStdout, type Command } from './command.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'DIR', description: 'folder for the PNG files (required)' },
  count: { type: 'string', value: 'N', description: 'how many digits (default 8)' },
  force: { type: 'boolean', description: 'overwrite files of the same names' },
};

const USAGE = 'vqlab samples --out DIR [options]';
const SUMMARY = 'Write test digits of the bundled MNIST set as 28×28 grayscale PNG files (digit<label>-<index>.png) and print their paths.';
const EXTRA = 'The digits are spread over the test set, so they show different classes. Try: vqlab encode RUN DIR/*.png';

export const samplesCommand: Command = {
  async run(argv, context) {
    const { values } = parseCommandArgs('samples', argv, OPTIONS, { min: 0, max: 0, names: 'no arguments' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError(`'vqlab samples' needs --out DIR, the folder to write the PNG files to`);
    const test = loadDatasetSplit(undefined, 'test');
    const count = intOption(values, 'count', 1) ?? 8;
    if (count > test.count) throw new UsageError(`--count ${count} is more than the ${test.count} bundled test digits`);
    const size = test.channels * test.height * test.width;
    const picked = spreadIndices(test.count, count);
    const files = picked.map((i) => join(out, `digit${test.labels?.[i] ?? 'x'}-${String(i).padStart(4, '0')}.png`));
    const existing = files.filter((f) => existsSync(f));
    if (existing.length > 0 && values.force !== true) throw new UsageError(`${existing[0]} already exists${existing.length > 1 ? ` (and ${existing.length - 1} more)` : ''}; pass --force to overwrite, or choose another --out`);
    await prepareOutputDir(out, context?.writeHook);
    for (let k = 0; k < files.length; k++) {
      const i = picked[k]!;
      await writeFileAtomic(files[k]!, encodePng(test.images.subarray(i * size, (i + 1) * size), test), context?.writeHook);
    }
    await writeStdout(`${files.join('\n')}\n`);
  },
};

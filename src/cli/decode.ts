/** `vqlab decode DIR indices.json`: images from code indices, written as PNG files. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { encodePng } from '../images/encode-png.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { writeStdout, type Command } from './command.js';
import { decodedFileNames, parseIndicesFile } from './indices-file.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'DIR', description: 'directory for the PNG files (default: current directory)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
};

const USAGE = 'vqlab decode DIR INDICES.json [options]';
const SUMMARY = 'Decode code indices (the output of `vqlab encode`, or h×w arrays) into PNG images.';
const EXTRA = `Writes <name>.decoded.png per grid (name from the encoded file, else decoded-<i>; a name that repeats
gets the grid's position, <name>.<i>.decoded.png) and prints the paths.`;

export const decodeCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('decode', argv, OPTIONS, { min: 2, max: 2, names: 'a checkpoint directory and an indices JSON file' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const [dir, file] = positionals as [string, string];
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ENOENT' ? `indices file ${file} does not exist` : `${file} is not valid JSON; give the output of \`vqlab encode\``);
    }
    const outDir = stringOption(values, 'out') ?? '.';
    await prepareOutputDir(outDir);
    const tokenizer = await Tokenizer.load(dir, { threads: intOption(values, 'threads', 0) ?? 2 });
    try {
      const { names, indices } = parseIndicesFile(json, file, tokenizer.latent.height, tokenizer.latent.width, tokenizer.depth);
      const images = await tokenizer.decode(indices);
      const size = tokenizer.imageSize;
      const written = decodedFileNames(names).map((name) => join(outDir, name));
      for (let i = 0; i < written.length; i++) {
        await writeFileAtomic(written[i]!, encodePng(images.subarray(i * size, (i + 1) * size), tokenizer.input));
      }
      await writeStdout(`${written.join('\n')}\n`);
    } finally {
      await tokenizer.release();
    }
  },
};

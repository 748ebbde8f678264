/** `vqlab decode DIR indices.json`: images from code indices, written as PNG files. */
import { readFile, mkdir } from 'node:fs/promises';
import { extname, basename, join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { encodePng } from '../images/encode-png.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { writeStdout, type Command } from './command.js';
import { parseIndicesFile } from './indices-file.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'DIR', description: 'directory for the PNG files (default: current directory)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
};

const USAGE = 'vqlab decode DIR INDICES.json [options]';
const SUMMARY = 'Decode code indices (the output of `vqlab encode`, or h×w arrays) into PNG images.';
const EXTRA = 'Writes <name>.decoded.png per grid (name from the encoded file, else decoded-<i>) and prints the paths.';

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
    const tokenizer = await Tokenizer.load(dir, { threads: intOption(values, 'threads', 0) ?? 2 });
    try {
      const { names, indices } = parseIndicesFile(json, file, tokenizer.latent.height, tokenizer.latent.width, tokenizer.depth);
      const images = await tokenizer.decode(indices);
      const outDir = stringOption(values, 'out') ?? '.';
      await mkdir(outDir, { recursive: true });
      const size = tokenizer.imageSize;
      const written: string[] = [];
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const stem = name !== undefined ? basename(name, extname(name)) : `decoded-${i}`;
        const path = join(outDir, `${stem}.decoded.png`);
        await writeFileAtomic(path, encodePng(images.subarray(i * size, (i + 1) * size), tokenizer.input));
        written.push(path);
      }
      await writeStdout(`${written.join('\n')}\n`);
    } finally {
      await tokenizer.release();
    }
  },
};

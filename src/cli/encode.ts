/** `vqlab encode DIR images…`: code indices of PNG/JPEG images as JSON. */
import { basename, resolve } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { readModelInput } from '../tokenize/model-input.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { helpText, intOption, parseCommandArgs, stringOption, type OptionTable } from './args.js';
import { writeStdout, type Command } from './command.js';
import type { IndicesFile } from './indices-file.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'FILE', description: 'write the JSON here instead of stdout' },
  fit: { type: 'boolean', description: 'resize and convert images to the model input instead of refusing them' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
};

const USAGE = 'vqlab encode DIR IMAGE... [options]';
const SUMMARY = 'Encode PNG/JPEG images with a trained checkpoint into code indices.';
const EXTRA = `Output: {"checkpoint", "codebook_size", "grid": [h, w], "images": [{"file", "indices": h×w nested arrays}]}.
Images must have the model's input size and channels (e.g. 28×28 grayscale for MNIST) unless --fit.`;

/** Split an array of h·w indices into h rows of w. */
function toRows(indices: Int32Array, height: number, width: number): number[][] {
  const rows: number[][] = [];
  for (let y = 0; y < height; y++) rows.push(Array.from(indices.subarray(y * width, (y + 1) * width)));
  return rows;
}

export const encodeCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('encode', argv, OPTIONS, { min: 2, max: Infinity, names: 'a checkpoint directory and at least one image' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const [dir, ...files] = positionals as [string, ...string[]];
    const tokenizer = await Tokenizer.load(dir, { threads: intOption(values, 'threads', 0) ?? 2, batch: Math.min(files.length, 32) });
    try {
      const size = tokenizer.imageSize;
      const images = new Float32Array(files.length * size);
      files.forEach((file, i) => images.set(readModelInput(file, tokenizer.input, values.fit === true), i * size));
      const indices = await tokenizer.encode(images);
      const { height, width } = tokenizer.latent;
      const per = height * width;
      const result: IndicesFile = {
        checkpoint: resolve(dir),
        codebook_size: tokenizer.codebookSize,
        grid: [height, width],
        images: files.map((file, i) => ({ file: basename(file), indices: toRows(indices.subarray(i * per, (i + 1) * per), height, width) })),
      };
      const text = `${JSON.stringify(result)}\n`;
      const out = stringOption(values, 'out');
      if (out !== undefined) await writeFileAtomic(out, text);
      else await writeStdout(text);
    } finally {
      await tokenizer.release();
    }
  },
};

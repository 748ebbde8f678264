/** `vqlab encode DIR files…`: code indices of PNG/JPEG images, or of WAV/Ogg audio, as JSON. */
import { basename, resolve } from 'node:path';
import { modalityOf } from '../modality/registry.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { readConfig } from '../persistence/checkpoint.js';
import { checkOutputFile } from '../persistence/output-path.js';
import { encodeSequence, SEQUENCE_BATCH } from '../tokenize/sequence-coding.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { CHECKPOINT_OPTIONS, checkpointReading, MODEL_OPTION, modelAndInputs } from './checkpoint-options.js';
import { writeStdout, type Command } from './command.js';
import type { IndicesFile } from './indices-file.js';
import { sequencesJson, type SequenceEntry } from './sequence-file.js';
import { limitOptions, limitsFrom } from './limit-options.js';
import { DEVICE_OPTION, useDeviceOption } from './device-option.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'FILE', description: 'write the JSON here instead of stdout' },
  fit: { type: 'boolean', description: 'resize and convert images to the model input instead of refusing them' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
  ...DEVICE_OPTION,
  ...limitOptions('maxPixels', 'maxAudioSamples'),
  ...MODEL_OPTION,
  ...CHECKPOINT_OPTIONS,
};

const USAGE = 'vqlab encode DIR FILE... [options]\n       vqlab encode --model NAME FILE... [options]';
const SUMMARY = "Encode PNG/JPEG images (an image model) or WAV/Ogg audio (a speech model) with a trained checkpoint, or a pretrained model by name ('vqlab models'), into code indices.";
const EXTRA = `Images: {"checkpoint", "codebook_size", "grid": [h, w], "images": [{"file", "indices": h×w nested arrays}]};
for a residual quantizer of depth D, "grid" is [h, w, D] and each cell is an array of D indices (one per stage).
Images must have the model's input size and channels (e.g. 28×28 grayscale for MNIST) unless --fit.

Audio (mixed to mono and resampled to the model's rate, any length): {"checkpoint", "codebook_size",
"codes_per_example", "values_per_example", "sequences": [{"file", "length", "indices": [...]}]}: the
clip is coded in windows of values_per_example samples (the last zero-padded), codes_per_example
codes each, in order; length is its samples, so decode gives back a clip of that length.`;

/** Split an array of h·w·D indices into h rows of w cells (a number, or D numbers when D > 1). */
function toRows(indices: Int32Array, height: number, width: number, depth: number): (number | number[])[][] {
  const rows: (number | number[])[][] = [];
  for (let y = 0; y < height; y++) {
    const row: (number | number[])[] = [];
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * depth;
      row.push(depth === 1 ? indices[at]! : Array.from(indices.subarray(at, at + depth)));
    }
    rows.push(row);
  }
  return rows;
}

/** The code sequences of files of a sequence modality (see sequence-file.ts), one file in memory at a time. */
async function encodeSequences(dir: string, files: readonly string[], options: Parameters<typeof Tokenizer.load>[1], read: (file: string, config: Tokenizer['config']) => Float32Array | Promise<Float32Array>): Promise<unknown> {
  const tokenizer = await Tokenizer.load(dir, { ...options, batch: SEQUENCE_BATCH });
  try {
    const shape = { codesPerExample: tokenizer.latent.height * tokenizer.latent.width, valuesPerExample: tokenizer.exampleSize, depth: tokenizer.depth, codebookSize: tokenizer.codebookSize };
    const entries: SequenceEntry[] = [];
    for (const file of files) {
      const values = await read(file, tokenizer.config);
      entries.push({ file, length: values.length, indices: await encodeSequence(tokenizer, values) });
    }
    return sequencesJson(resolve(dir), shape, entries);
  } finally {
    await tokenizer.release();
  }
}

export const encodeCommand: Command = {
  async run(argv, context) {
    const { values, positionals } = parseCommandArgs('encode', argv, OPTIONS, { min: 0, max: Infinity, names: 'a checkpoint directory and at least one image' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const { location: dir, inputs: files } = modelAndInputs('encode', values, positionals, { min: 1, max: Infinity, names: 'at least one image or audio file' });
    const out = stringOption(values, 'out');
    if (out !== undefined) {
      if (files.some((f) => resolve(f) === resolve(out))) throw new UsageError(`--out ${out} is one of the images to encode; choose another file for the JSON`);
      await checkOutputFile(out, context?.writeHook);
    }
    const limits = limitsFrom(values);
    const reading = checkpointReading(values);
    // Every file is sized from its header before the model is loaded or any file decoded; only the
    // config is read first, for the modality that reads the files (its notices come with the model).
    const modality = modalityOf(await readConfig(dir, { ...reading, notice: () => {} }));
    for (const file of files) modality.checkInputFile(file, limits);
    await useDeviceOption(values);
    const threads = intOption(values, 'threads', 0) ?? 2;
    if (modality.sequence) {
      const text = `${JSON.stringify(await encodeSequences(dir, files, { ...reading, threads }, (file, config) => modality.readInput(file, config, false, limits)))}\n`;
      if (out !== undefined) await writeFileAtomic(out, text, context?.writeHook);
      else await writeStdout(text);
      return;
    }
    const tokenizer = await Tokenizer.load(dir, { ...reading, threads, batch: Math.min(files.length, 32) });
    try {
      const size = tokenizer.exampleSize;
      const inputs = new Float32Array(files.length * size);
      for (const [i, file] of files.entries()) inputs.set(await modality.readInput(file, tokenizer.config, values.fit === true, limits), i * size);
      const indices = await tokenizer.encode(inputs);
      const { height, width } = tokenizer.latent;
      const depth = tokenizer.depth;
      const per = height * width * depth;
      const result: IndicesFile = {
        checkpoint: resolve(dir),
        codebook_size: tokenizer.codebookSize,
        grid: depth > 1 ? [height, width, depth] : [height, width],
        images: files.map((file, i) => ({ file: basename(file), indices: toRows(indices.subarray(i * per, (i + 1) * per), height, width, depth) })),
      };
      const text = `${JSON.stringify(result)}\n`;
      if (out !== undefined) await writeFileAtomic(out, text, context?.writeHook);
      else await writeStdout(text);
    } finally {
      await tokenizer.release();
    }
  },
};

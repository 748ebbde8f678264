/** `vqlab decode DIR indices.json`: images (PNG) or audio (16-bit WAV) from code indices. */
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { prepareOutputDir } from '../persistence/output-path.js';
import { modalityOf } from '../modality/registry.js';
import { readConfig } from '../persistence/checkpoint.js';
import { decodeSequence, SEQUENCE_BATCH } from '../tokenize/sequence-coding.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { helpText, intOption, parseCommandArgs, stringOption, type OptionTable } from './args.js';
import { CHECKPOINT_OPTIONS, checkpointReading, MODEL_OPTION, modelAndInputs } from './checkpoint-options.js';
import { writeStdout, type Command } from './command.js';
import { decodedFileNames, parseIndicesFile, readIndicesJson } from './indices-file.js';
import { parseSequencesFile } from './sequence-file.js';
import { limitsFrom } from './limit-options.js';
import { DEVICE_OPTION, useDeviceOption } from './device-option.js';

const OPTIONS: OptionTable = {
  out: { type: 'string', value: 'DIR', description: 'directory for the PNG or WAV files (default: current directory)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
  ...DEVICE_OPTION,
  ...MODEL_OPTION,
  ...CHECKPOINT_OPTIONS,
};

/** Grids decoded per run of the decoder. */
const DECODE_CHUNK = 256;

const USAGE = 'vqlab decode DIR INDICES.json [options]\n       vqlab decode --model NAME INDICES.json [options]';
const SUMMARY = "Decode code indices (the output of `vqlab encode`, or h×w arrays for an image model) into PNG images or WAV audio, with a trained checkpoint or a pretrained model by name ('vqlab models').";
const EXTRA = `Writes <name>.decoded.png per grid, or <name>.decoded.wav (16-bit, the model's rate, the encoded
clip's length) per audio sequence (name from the encoded file, else decoded-<i>; a name that repeats
gets the grid's position, <name>.<i>.decoded.png) and prints the paths. Each file is written whole
under a temporary name and renamed, so none is left half-written.`;

export const decodeCommand: Command = {
  async run(argv, context) {
    const { values, positionals } = parseCommandArgs('decode', argv, OPTIONS, { min: 0, max: 2, names: 'a checkpoint directory and an indices JSON file' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const { location: dir, inputs } = modelAndInputs('decode', values, positionals, { min: 1, max: 1, names: 'an indices JSON file' });
    const file = inputs[0]!;
    const json = readIndicesJson(file, limitsFrom(values));
    await useDeviceOption(values);
    const outDir = stringOption(values, 'out') ?? '.';
    const created = await prepareOutputDir(outDir, context?.writeHook);
    try {
      const reading = checkpointReading(values);
      // The config alone first, for the modality: a speech model decodes a few windows per run, an image model its default batch.
      const modality = modalityOf(await readConfig(dir, { ...reading, notice: () => {} }));
      const tokenizer = await Tokenizer.load(dir, { ...reading, threads: intOption(values, 'threads', 0) ?? 2, ...(modality.sequence ? { batch: SEQUENCE_BATCH } : {}) });
      try {
        if (modality.sequence) {
          const shape = { codesPerExample: tokenizer.latent.height * tokenizer.latent.width, valuesPerExample: tokenizer.exampleSize, depth: tokenizer.depth, codebookSize: tokenizer.codebookSize };
          const sequences = parseSequencesFile(json, file, shape);
          const written = decodedFileNames(sequences.map((s) => s.file), modality.outputExtension).map((name) => join(outDir, name));
          for (const [i, s] of sequences.entries()) {
            const decoded = await decodeSequence(tokenizer, s.indices, s.length);
            await writeFileAtomic(written[i]!, modality.encodeOutput(decoded, tokenizer.config), context?.writeHook);
          }
          await writeStdout(`${written.join('\n')}\n`);
          return;
        }
        const { height, width } = tokenizer.latent;
        const { names, indices } = parseIndicesFile(json, file, { height, width, depth: tokenizer.depth, codebookSize: tokenizer.codebookSize });
        const size = tokenizer.exampleSize;
        const per = tokenizer.codesPerImage;
        const written = decodedFileNames(names, modality.outputExtension).map((name) => join(outDir, name));
        // A few grids at a time, so that memory holds one chunk of decoded examples, however many grids the file holds.
        for (let start = 0; start < written.length; start += DECODE_CHUNK) {
          const end = Math.min(written.length, start + DECODE_CHUNK);
          const decoded = await tokenizer.decode(indices.subarray(start * per, end * per));
          for (let i = start; i < end; i++) {
            await writeFileAtomic(written[i]!, modality.encodeOutput(decoded.subarray((i - start) * size, (i - start + 1) * size), tokenizer.config), context?.writeHook);
          }
        }
        await writeStdout(`${written.join('\n')}\n`);
      } finally {
        await tokenizer.release();
      }
    } catch (err) {
      // A refused decode (damaged checkpoint, indices that do not fit it) leaves no empty --out folder behind.
      await created.removeIfEmpty();
      throw err;
    }
  },
};

/** `vqlab train`: train a VQ-VAE, then evaluate it on the test set and print the result as JSON. */
import { resolve } from 'node:path';
import { evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { MODEL_KINDS } from '../models/config.js';
import { describeQuantizers, optionsOf, parseQuantizerOptions, parseQuantizerSpec, SIMVQ_OPTIMIZE_MODES } from '../quantizers/index.js';
import { QUANTIZER_KINDS } from '../quantizers/quantizer.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { resumeOptions, trainModel, type TrainOptions } from '../train/train.js';
import { choiceOption, helpText, intOption, listOption, numberOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { toJson, writeStdout, type Command } from './command.js';

const d = TRAIN_DEFAULTS;

const OPTIONS: OptionTable = {
  quantizer: { type: 'string', value: 'NAME', description: `${QUANTIZER_KINDS.join(' | ')} (default ${d.quantizer}); see "quantizers" below` },
  'quantizer-option': { type: 'string', value: 'KEY=VALUE', multiple: true, description: 'an option of the quantizer (repeatable), e.g. levels=8,5,5,5 or decay=0.9' },
  'codebook-size': { type: 'string', value: 'K', description: `number of codes (default ${d.codebookSize}; not for fsq)` },
  dim: { type: 'string', value: 'D', description: `code dimension (default ${d.dim})` },
  beta: { type: 'string', value: 'B', description: `commitment weight β (default ${d.beta})` },
  lr: { type: 'string', value: 'LR', description: `Adam learning rate (default ${d.lr})` },
  batch: { type: 'string', value: 'N', description: `images per step (default ${d.batch})` },
  epochs: { type: 'string', value: 'N', description: `epochs in total (default ${d.epochs})` },
  seed: { type: 'string', value: 'N', description: `seed of weights and data order (default ${d.seed})` },
  threads: { type: 'string', value: 'N', description: `ONNX Runtime threads (default ${d.threads})` },
  data: { type: 'string', value: 'PATH', description: 'dataset: IDX dir, CIFAR-10 dir/.bin, or image folder (default: bundled MNIST)' },
  out: { type: 'string', value: 'DIR', description: 'run directory (default runs/<time>-<quantizer>)' },
  resume: { type: 'string', value: 'DIR', description: 'continue the run in DIR where it stopped' },
  'simvq-optimize': { type: 'string', value: 'W|C|both', description: 'SimVQ: train the projection W (default), the codebook C, or both' },
  model: { type: 'string', value: 'NAME', description: `${MODEL_KINDS.join(' | ')} (default ${d.model})` },
  'train-limit': { type: 'string', value: 'N', description: 'train on N images only (fixed choice), for quick runs' },
  'test-limit': { type: 'string', value: 'N', description: 'evaluate on N test images only' },
  'image-size': { type: 'string', value: 'N', description: 'resize images to N×N (needed for image folders)' },
  quiet: { type: 'boolean', description: 'no progress bar or epoch lines on stderr' },
};

const USAGE = 'vqlab train [options]';
const SUMMARY = 'Train a VQ-VAE and evaluate it on the test set. With no options: the reference MNIST model with SimVQ (K=1024) on the bundled 9,000/1,000 MNIST digits.';
const EXTRA = `Writes model.safetensors, optimizer.safetensors, config.json, trainer-state.json and metrics.jsonl
to the run directory after every epoch, then prints the test metrics as one JSON object on stdout.

quantizers (--quantizer NAME, each option with --quantizer-option KEY=VALUE; --codebook-size,
--dim and --beta set the options of those names; lists are written 8,5,5,5 or 8x5x5x5):
${describeQuantizers()}

examples:
  vqlab train --quantizer fsq --quantizer-option levels=8,5,5,5
  vqlab train --quantizer ema --quantizer-option decay=0.95 --quantizer-option initialCount=2
  vqlab train --quantizer residual --quantizer-option base=simvq --quantizer-option depth=4 --codebook-size 256
  vqlab train --quantizer vq --quantizer-option kmeansIters=10 --quantizer-option deadCodeThreshold=1`;

function defaultOut(quantizer: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\dZ$/, '');
  return `runs/${stamp}-${quantizer}`;
}

export const trainCommand: Command = {
  async run(argv) {
    const { values } = parseCommandArgs('train', argv, OPTIONS, { min: 0, max: 0, names: 'no arguments' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const resumeDir = stringOption(values, 'resume');
    const out = stringOption(values, 'out');
    if (resumeDir !== undefined && out !== undefined && resolve(out) !== resolve(resumeDir)) {
      throw new UsageError(`--out ${out} and --resume ${resumeDir} name different directories; a resumed run continues in its own directory, so drop --out`);
    }
    const base: TrainOptions = resumeDir !== undefined
      ? await resumeOptions(resumeDir)
      : { ...d, quantizer: d.quantizer, model: d.model, out: '' };
    // --quantizer NAME or NAME:key=value:…; --quantizer-option adds (and overrides) options.
    const spec = stringOption(values, 'quantizer');
    let quantizer = base.quantizer;
    let quantizerOptions: Record<string, unknown> = { ...(base.quantizerOptions ?? {}) };
    try {
      if (spec !== undefined) {
        const parsed = parseQuantizerSpec(spec);
        quantizer = parsed.name;
        quantizerOptions = { ...(parsed.name === base.quantizer && resumeDir !== undefined ? quantizerOptions : {}), ...parsed.options };
      }
      const assignments = listOption(values, 'quantizer-option');
      if (assignments.length) {
        const withBase = typeof quantizerOptions.base === 'string' ? [`base=${quantizerOptions.base}`] : [];
        quantizerOptions = { ...quantizerOptions, ...parseQuantizerOptions(quantizer, [...withBase, ...assignments]) };
      }
    } catch (err) {
      throw new UsageError(`--quantizer: ${err instanceof Error ? err.message : String(err)}; see 'vqlab train --help'`);
    }
    const accepted = optionsOf(quantizer, typeof quantizerOptions.base === 'string' ? quantizerOptions.base : undefined);
    for (const [flag, key] of [['codebook-size', 'codebookSize'], ['beta', 'beta'], ['simvq-optimize', 'optimize']] as const) {
      if (values[flag] !== undefined && !(key in accepted)) {
        throw new UsageError(`--${flag} does not apply to quantizer '${quantizer}' (it has no option '${key}'); its options: ${Object.keys(accepted).filter((k) => k !== 'search').join(', ')}`);
      }
    }
    const pick = <T>(v: T | undefined, fallback: T): T => (v === undefined ? fallback : v);
    const limitOf = (name: string, fallback: number | undefined): number | undefined => intOption(values, name, 1) ?? fallback;
    const trainLimit = limitOf('train-limit', base.trainLimit);
    const testLimit = limitOf('test-limit', base.testLimit);
    const data = stringOption(values, 'data') ?? base.data;
    const simvqOptimize = choiceOption(values, 'simvq-optimize', SIMVQ_OPTIMIZE_MODES) ?? base.simvqOptimize;
    const imageSize = intOption(values, 'image-size', 1);
    const quiet = values.quiet === true;
    const options: TrainOptions = {
      quantizer,
      codebookSize: pick(intOption(values, 'codebook-size', 1), base.codebookSize),
      dim: pick(intOption(values, 'dim', 1), base.dim),
      beta: pick(numberOption(values, 'beta'), base.beta),
      lr: pick(numberOption(values, 'lr'), base.lr),
      batch: pick(intOption(values, 'batch', 1), base.batch),
      epochs: pick(intOption(values, 'epochs', 1), base.epochs),
      seed: pick(intOption(values, 'seed', 0), base.seed),
      threads: pick(intOption(values, 'threads', 0), base.threads),
      out: resumeDir ?? out ?? defaultOut(quantizer),
      resume: resumeDir !== undefined,
      model: choiceOption(values, 'model', MODEL_KINDS) ?? base.model ?? d.model,
      progress: !quiet,
      log: quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`),
      ...(Object.keys(quantizerOptions).length ? { quantizerOptions } : {}),
      ...(data !== undefined ? { data } : {}),
      ...(simvqOptimize !== undefined ? { simvqOptimize } : {}),
      ...(trainLimit !== undefined ? { trainLimit } : {}),
      ...(testLimit !== undefined ? { testLimit } : {}),
      ...(imageSize !== undefined ? { imageSize } : {}),
    };
    const summary = await trainModel(options);
    const { metrics } = await evaluateCheckpoint(summary.out, { threads: options.threads });
    if (!quiet) process.stderr.write(`test set: ${toJson(metrics)}; reconstructions in ${resolve(summary.out, 'recon.png')}\n`);
    await writeStdout(`${toJson({ out: summary.out, epochs: summary.completedEpochs, steps: summary.steps, train_seconds: summary.seconds, ...metrics })}\n`);
  },
};

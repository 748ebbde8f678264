/**
 * The table of `vqlab` subcommands: the one place to register a new one. A command is a module
 * exporting a `Command` (see command.ts); its entry here gives the summary shown by `vqlab --help`
 * and loads the module on demand. To add one, e.g. experiments:
 *
 *   experiment: { summary: 'run a grid of training runs', load: async () => (await import('./experiment.js')).experimentCommand },
 */
import type { CommandEntry } from './command.js';

export const commands: Readonly<Record<string, CommandEntry>> = {
  train: { summary: 'train a VQ-VAE (default: reference MNIST model, SimVQ K=1024)', load: async () => (await import('./train.js')).trainCommand },
  eval: { summary: 'evaluate a checkpoint: mse, psnr, ssim, utilization, perplexity, dead codes', load: async () => (await import('./eval.js')).evalCommand },
  encode: { summary: 'encode PNG/JPEG images into code indices (JSON)', load: async () => (await import('./encode.js')).encodeCommand },
  decode: { summary: 'decode code indices (JSON) into PNG images', load: async () => (await import('./decode.js')).decodeCommand },
  export: { summary: 'export encoder.onnx and decoder.onnx for plain ONNX Runtime', load: async () => (await import('./export.js')).exportCommand },
  models: { summary: 'list the pretrained tokenizers shipped with vqlab, with their test-set metrics', load: async () => (await import('./models.js')).modelsCommand },
  verify: { summary: 'check every checkpoint of a run against the SHA-256 recorded when it was saved', load: async () => (await import('./verify.js')).verifyCommand },
  experiment: { summary: 'run an experiment grid (codebook-size, optimization, beta) and write its report', load: async () => (await import('./experiment.js')).experimentCommand },
  report: { summary: 'rebuild an experiment\'s figures and report.html from its results.json', load: async () => (await import('./experiment.js')).reportCommand },
  samples: { summary: 'write a few bundled MNIST test digits as PNG files, to try encode and decode on', load: async () => (await import('./samples.js')).samplesCommand },
};

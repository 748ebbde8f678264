/** `vqlab eval DIR`: test-set metrics of a checkpoint as one JSON object, plus a PNG grid. */
import { evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { helpText, intOption, parseCommandArgs, stringOption, type OptionTable } from './args.js';
import { toJson, writeStdout, type Command } from './command.js';

const OPTIONS: OptionTable = {
  data: { type: 'string', value: 'PATH', description: 'dataset to evaluate on (default: the one the run trained on)' },
  'test-limit': { type: 'string', value: 'N', description: 'evaluate on N test images only (default: the run\'s own limit, else all)' },
  grid: { type: 'string', value: 'FILE', description: 'where to write the originals/reconstructions PNG (default DIR/recon.png)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
};

const USAGE = 'vqlab eval DIR [options]';
const SUMMARY = 'Evaluate a checkpoint on its test set. Prints {"mse","psnr","ssim","utilization","perplexity","dead_codes"} on stdout.';
const EXTRA = `mse is over all pixels of the test set (reconstructions clamped to [0,1]); psnr = 10·log10(1/mse) of that
dataset-level mse; ssim is the mean Gaussian-window SSIM (11×11, σ=1.5) per image; utilization is the fraction
of codes used at least once on the test set; perplexity = exp(entropy of code usage); dead_codes = K − used.`;

export const evalCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('eval', argv, OPTIONS, { min: 1, max: 1, names: 'one checkpoint directory' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const data = stringOption(values, 'data');
    const testLimit = intOption(values, 'test-limit', 1);
    const grid = stringOption(values, 'grid');
    const { metrics } = await evaluateCheckpoint(positionals[0]!, {
      threads: intOption(values, 'threads', 0) ?? 2,
      ...(data !== undefined ? { data } : {}),
      ...(testLimit !== undefined ? { testLimit } : {}),
      ...(grid !== undefined ? { grid } : {}),
    });
    await writeStdout(`${toJson(metrics)}\n`);
  },
};

/** `vqlab eval DIR`: test-set metrics of a checkpoint as one JSON object, plus a preview (PNG grid, or WAV for speech). */
import { diagnoseCheckpoint, evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { choiceOption, helpText, intOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { toJson, writeStdout, type Command } from './command.js';
import { CHECKPOINT_OPTIONS, checkpointReading } from './checkpoint-options.js';
import { limitOptions } from './limit-options.js';
import { DEVICE_OPTION, useDeviceOption } from './device-option.js';

const OPTIONS: OptionTable = {
  data: { type: 'string', value: 'PATH|NAME', description: 'dataset to evaluate on, as for train --data (default: the one the run trained on)' },
  split: { type: 'string', value: 'test|train', description: 'evaluate the test set (default) or the whole training set (utilization over every training latent; no SSIM)' },
  limit: { type: 'string', value: 'N', description: 'evaluate on N images of the split only, a fixed seeded choice (default: the run\'s own limit for that split, else all)' },
  'test-limit': { type: 'string', value: 'N', description: 'the same as --limit (the name train uses for the test split)' },
  grid: { type: 'string', value: 'FILE', description: 'where to write the originals/reconstructions preview (default DIR/recon.png; speech: DIR/recon.wav, each window then its reconstruction)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads (default 2)' },
  diagnostics: { type: 'boolean', description: 'print the codebook diagnostics train --diagnose-every writes to diagnostics.jsonl instead (code usage over the training set unless --split test, and for SimVQ the singular values of W); DIR may be one checkpoint folder of a run (RUN/checkpoints/NAME)' },
  ...DEVICE_OPTION,
  ...limitOptions('maxPixels', 'maxAudioSamples', 'maxDataBytes'),
  ...CHECKPOINT_OPTIONS,
};

const USAGE = 'vqlab eval DIR [options]';
const SUMMARY = 'Evaluate a checkpoint on its test set (or --split train). Prints {"mse","psnr","ssim","utilization","perplexity","dead_codes","effective_bits","codes_covering_50","codes_covering_90"} on stdout.';
const EXTRA = `mse is over all pixels of the test set (reconstructions clamped to [0,1]); psnr = 10·log10(1/mse) of that
dataset-level mse; ssim is the mean Gaussian-window SSIM (11×11, σ=1.5) per image (null for --split train); utilization is the fraction
of codes used at least once on the test set; perplexity = exp(entropy of code usage); dead_codes = K − used;
effective_bits = log2(perplexity); codes_covering_50 / _90 = the fewest codes whose usage counts, largest first, add up
to at least 50 % / 90 % of the set's latents (a few codes carrying most latents is a skewed codebook however many are used).

A speech model prints {"mse","si_snr","mel_distance","stoi","tokens_per_second","bitrate", and the code usage}:
each held-out utterance is coded whole (in windows of the model's example length) and measured against
the original: si_snr in dB (scale-invariant SNR), mel_distance (mean |Δ log10 mel| over 3 STFT sizes),
stoi (Taal et al. 2011; null for --split train), each the mean over utterances; bitrate = tokens/s × log2 K.`;

export const evalCommand: Command = {
  async run(argv) {
    const { values, positionals } = parseCommandArgs('eval', argv, OPTIONS, { min: 1, max: 1, names: 'one checkpoint directory' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const data = stringOption(values, 'data');
    const limit = intOption(values, 'limit', 1);
    const testLimit = intOption(values, 'test-limit', 1);
    if (limit !== undefined && testLimit !== undefined) throw new UsageError('give --limit or --test-limit, not both (they are the same option)');
    const grid = stringOption(values, 'grid');
    const split = choiceOption(values, 'split', ['test', 'train'] as const);
    await useDeviceOption(values);
    if (values.diagnostics === true) {
      if (grid !== undefined) throw new UsageError('--diagnostics writes no reconstruction grid; drop --grid');
      const record = await diagnoseCheckpoint(positionals[0]!, { ...checkpointReading(values), threads: intOption(values, 'threads', 0) ?? 2, data, limit: limit ?? testLimit, split });
      return writeStdout(`${toJson(record)}\n`);
    }
    const { metrics } = await evaluateCheckpoint(positionals[0]!, {
      ...checkpointReading(values),
      threads: intOption(values, 'threads', 0) ?? 2,
      data,
      limit: limit ?? testLimit,
      grid,
      split,
    });
    await writeStdout(`${toJson(metrics)}\n`);
  },
};

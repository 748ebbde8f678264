/** `vqlab models`: the pretrained tokenizers shipped in the package, with their test-set metrics. */
import { pretrainedModels, type ModelCard, type PretrainedModel } from '../tokenize/pretrained.js';
import { helpText, parseCommandArgs, type OptionTable } from './args.js';
import { toJson, writeStdout, type Command } from './command.js';

const OPTIONS: OptionTable = {
  json: { type: 'boolean', description: 'print the model cards as one JSON array instead of a table' },
};

const USAGE = 'vqlab models [options]';
const SUMMARY = 'List the pretrained tokenizers shipped with vqlab: name, codebook size, data, size and test-set metrics.';
const EXTRA = `Use a name in place of a run folder in vqlab encode --model NAME IMAGE..., vqlab decode --model NAME
INDICES.json, vqlab export --model NAME, or Tokenizer.pretrained(NAME) in code. Each model's folder holds
its card (MODEL.md, card.json): the command that trained it, its data and the data's licence.`;

const HEAD = ['name', 'K', 'data', 'size', 'test-set quality', 'used codes', 'perplexity'];

/** The card's reconstruction metrics in a few words: an image model's mse, PSNR and SSIM, a speech model's STOI, SI-SNR and mel distance. */
function quality(card: ModelCard): string {
  if (card.modality === 'audio') return `STOI ${card.metrics.stoi}, SI-SNR ${card.metrics.si_snr} dB, mel ${card.metrics.mel_distance}`;
  return `mse ${card.metrics.mse}, PSNR ${card.metrics.psnr} dB, SSIM ${card.metrics.ssim}`;
}

function row({ card, bytes }: PretrainedModel): string[] {
  const m = card.metrics;
  return [
    card.name,
    String(card.codebook_size),
    card.data.name,
    `${(bytes / 2 ** 20).toFixed(1)} MiB`,
    quality(card),
    `${m.used_codes} (${((100 * m.used_codes) / card.codebook_size).toFixed(1)} %)`,
    String(m.perplexity),
  ];
}

/** Plain-text columns, each as wide as its widest cell. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = HEAD.map((_, i) => Math.max(...[HEAD, ...rows].map((r) => r[i]!.length)));
  return [HEAD, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export const modelsCommand: Command = {
  async run(argv) {
    const { values } = parseCommandArgs('models', argv, OPTIONS, { min: 0, max: 0, names: 'no arguments' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const models = pretrainedModels();
    if (values.json === true) return writeStdout(`${toJson(models.map((m) => ({ ...m.card, bytes: m.bytes })), 2)}\n`);
    await writeStdout(`${table(models.map(row))}\n`);
  },
};

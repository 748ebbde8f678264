/**
 * What a shipped model's card states, measured from its weights: the packager
 * (package-pretrained.ts) writes these numbers into card.json, and test/pretrained-models.test.ts
 * measures them again from the shipped files and compares. MODEL.md is rendered from card.json, so
 * the two never disagree.
 */
import { evaluateCheckpoint } from '../../src/eval/evaluate-checkpoint.js';
import { audioInputOf } from '../../src/models/config.js';
import { loadModelCheckpoint } from '../../src/persistence/checkpoint.js';
import { loadSpeechSplit } from '../../src/modality/audio/load-speech.js';
import { markdownTable } from '../../src/report/markdown-table.js';
import { CARD_METRIC_DECIMALS, type CardMeasurement, type ImageCardMetrics, type ModelCard, type PretrainedModel, type SpeechCardMetrics } from '../../src/tokenize/pretrained.js';

/** The --data value of a card's data name: the bundled MNIST digits are what no --data gives. */
export const BUNDLED_MNIST = 'mnist-bundled';

function rounded(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

/**
 * The card's modality and metrics of the checkpoint in `dir` over the whole test split of `data`
 * (one thread, so the sums run in one order), floats rounded to the decimals the card prints.
 */
export async function measureCardMetrics(dir: string, data: string): Promise<CardMeasurement> {
  const { metrics, counts } = await evaluateCheckpoint(dir, { data: data === BUNDLED_MNIST ? undefined : data, threads: 1, grid: '' });
  const used = counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  const { config, model } = await loadModelCheckpoint(dir);
  const d = CARD_METRIC_DECIMALS;
  const usage = { perplexity: rounded(metrics.perplexity, d.perplexity), used_codes: used, dead_codes: counts.length - used };
  if (config.modality === 'audio') {
    const { sampleRate, samples } = audioInputOf(config);
    const test = await loadSpeechSplit({ data, split: 'test', kind: 'windows', sampleRate, exampleSamples: samples });
    const seconds = test.utterances.reduce((n, u) => n + u.length, 0) / sampleRate;
    const speech: SpeechCardMetrics = {
      utterances: test.utterances.length,
      seconds: rounded(seconds, d.seconds),
      mse: rounded(metrics.mse, d.mse),
      stoi: rounded(metrics['stoi'] ?? Number.NaN, d.stoi),
      si_snr: rounded(metrics['si_snr'] ?? Number.NaN, d.si_snr),
      mel_distance: rounded(metrics['mel_distance'] ?? Number.NaN, d.mel_distance),
      ...usage,
    };
    return { modality: 'audio', metrics: speech };
  }
  const images = counts.reduce((n, c) => n + c, 0) / (model.latent.height * model.latent.width * model.quantizer.depth);
  const image: ImageCardMetrics = { images, mse: rounded(metrics.mse, d.mse), psnr: rounded(metrics.psnr, d.psnr), ssim: rounded(metrics.ssim ?? Number.NaN, d.ssim), ...usage };
  return { modality: 'image', metrics: image };
}

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

function utilization(card: ModelCard): string {
  return `${((100 * card.metrics.used_codes) / card.codebook_size).toFixed(2)} %`;
}

/** MODEL.md's usage lines and its test-set section, which depend on the modality. */
function modalitySections(card: ModelCard): { usage: string; metrics: string } {
  const codes = `${grouped(card.metrics.used_codes)} of ${grouped(card.codebook_size)} | ${utilization(card)} | ${card.metrics.perplexity}`;
  if (card.modality === 'audio') {
    const m = card.metrics;
    return {
      usage: `npx vqlab encode --model ${card.name} speech.wav    # code indices as JSON (any length, any rate: resampled)
npx vqlab decode --model ${card.name} codes.json    # back to a WAV file of the same length
npx vqlab export --model ${card.name}               # encoder.onnx and decoder.onnx with a dynamic length`,
      metrics: `Over the ${grouped(m.utterances)} utterances (${(m.seconds / 60).toFixed(1)} min) of the test split, each coded whole (\`vqlab eval\` of these files, one thread):

| STOI | SI-SNR | mel distance | mse | used codes | utilization | perplexity |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ${m.stoi} | ${m.si_snr} dB | ${m.mel_distance} | ${m.mse} | ${codes} |`,
    };
  }
  const m = card.metrics;
  return {
    usage: `npx vqlab encode --model ${card.name} image.png     # code indices as JSON
npx vqlab decode --model ${card.name} codes.json    # back to PNG images
npx vqlab export --model ${card.name}               # encoder.onnx and decoder.onnx`,
    metrics: `Over the ${grouped(m.images)} images of the test set (\`vqlab eval\` of these files, one thread):

| mse | PSNR | SSIM | used codes | utilization | perplexity |
| ---: | ---: | ---: | ---: | ---: | ---: |
| ${m.mse} | ${m.psnr} dB | ${m.ssim} | ${codes} |`,
  };
}

/** MODEL.md: the card for people. */
export function modelCardMarkdown(card: ModelCard, bytes: number): string {
  const { usage, metrics } = modalitySections(card);
  return `# ${card.name}

${card.summary}

\`\`\`sh
${usage}
\`\`\`

or \`await Tokenizer.pretrained('${card.name}')\` in code.

## Test-set metrics

${metrics}

## Data

${card.data.description}

Licence: ${card.data.licence} Source: ${card.data.source}

## Training

\`\`\`sh
${card.training.command}
\`\`\`

vqlab ${card.training.vqlab_version}; ${card.training.epochs} epochs, ${grouped(card.training.steps)} steps; the last checkpoint. Shipped are its
config.json and model.safetensors (${(bytes / 2 ** 20).toFixed(2)} MiB with checksums.json, which every load verifies); the
optimizer state and trainer state, which only resuming needs, are left out.
`;
}

function codesUsed(card: ModelCard): string {
  return `${card.metrics.used_codes.toLocaleString('en-US')} (${((100 * card.metrics.used_codes) / card.codebook_size).toFixed(1)} %)`;
}

/** README's tables of the shipped models, one per modality, from their cards (test/pretrained-models.test.ts keeps them in step). */
export function pretrainedTables(models: readonly PretrainedModel[]): { image: string; audio: string } {
  const common = ({ card, bytes }: PretrainedModel): string[] => [`\`${card.name}\``, card.codebook_size.toLocaleString('en-US'), card.data.name, `${card.training.epochs}`, `${(bytes / 2 ** 20).toFixed(1)} MiB`];
  const image: string[][] = [];
  const audio: string[][] = [];
  for (const model of models) {
    const { card } = model;
    if (card.modality === 'image') image.push([...common(model), String(card.metrics.mse), `${card.metrics.psnr} dB`, String(card.metrics.ssim), codesUsed(card), String(card.metrics.perplexity)]);
    else audio.push([...common(model), String(card.metrics.stoi), `${card.metrics.si_snr} dB`, String(card.metrics.mel_distance), codesUsed(card), String(card.metrics.perplexity)]);
  }
  const head = ['name', 'K', 'data', 'epochs', 'size'];
  return {
    image: markdownTable([...head, 'test mse', 'PSNR', 'SSIM', 'codes used', 'perplexity'], image, 3),
    audio: markdownTable([...head, 'STOI', 'SI-SNR', 'mel distance', 'codes used', 'perplexity'], audio, 3),
  };
}

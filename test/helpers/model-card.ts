/**
 * What a shipped model's card states, measured from its weights: the packager
 * (package-pretrained.ts) writes these numbers into card.json, and test/pretrained-models.test.ts
 * measures them again from the shipped files and compares. MODEL.md is rendered from card.json, so
 * the two never disagree.
 */
import { evaluateCheckpoint } from '../../src/eval/evaluate-checkpoint.js';
import { loadModelCheckpoint } from '../../src/persistence/checkpoint.js';
import { markdownTable } from '../../src/report/markdown-table.js';
import { CARD_METRIC_DECIMALS, type CardMetrics, type ModelCard, type PretrainedModel } from '../../src/tokenize/pretrained.js';

/** The --data value of a card's data name: the bundled MNIST digits are what no --data gives. */
export const BUNDLED_MNIST = 'mnist-bundled';

function rounded(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

/**
 * The card's metrics of the checkpoint in `dir` over the whole test split of `data` (one thread,
 * so the sums run in one order), floats rounded to the decimals the card prints.
 */
export async function measureCardMetrics(dir: string, data: string): Promise<CardMetrics> {
  const { metrics, counts } = await evaluateCheckpoint(dir, { data: data === BUNDLED_MNIST ? undefined : data, threads: 1, grid: '' });
  const used = counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  const { model } = await loadModelCheckpoint(dir);
  const images = counts.reduce((n, c) => n + c, 0) / (model.latent.height * model.latent.width * model.quantizer.depth);
  const d = CARD_METRIC_DECIMALS;
  return {
    images,
    mse: rounded(metrics.mse, d.mse),
    psnr: rounded(metrics.psnr, d.psnr),
    ssim: rounded(metrics.ssim ?? Number.NaN, d.ssim),
    perplexity: rounded(metrics.perplexity, d.perplexity),
    used_codes: used,
    dead_codes: counts.length - used,
  };
}

function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** MODEL.md: the card for people. */
export function modelCardMarkdown(card: ModelCard, bytes: number): string {
  const m = card.metrics;
  const K = card.codebook_size;
  return `# ${card.name}

${card.summary}

\`\`\`sh
npx vqlab encode --model ${card.name} image.png     # code indices as JSON
npx vqlab decode --model ${card.name} codes.json    # back to PNG images
npx vqlab export --model ${card.name}               # encoder.onnx and decoder.onnx
\`\`\`

or \`await Tokenizer.pretrained('${card.name}')\` in code.

## Test-set metrics

Over the ${grouped(m.images)} images of the test set (\`vqlab eval\` of these files, one thread):

| mse | PSNR | SSIM | used codes | utilization | perplexity |
| ---: | ---: | ---: | ---: | ---: | ---: |
| ${m.mse} | ${m.psnr} dB | ${m.ssim} | ${grouped(m.used_codes)} of ${grouped(K)} | ${((100 * m.used_codes) / K).toFixed(2)} % | ${m.perplexity} |

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

/** README's table of the shipped models, from their cards (test/pretrained-models.test.ts keeps the two in step). */
export function pretrainedTable(models: readonly PretrainedModel[]): string {
  const rows = models.map(({ card, bytes }) => {
    const m = card.metrics;
    return [
      `\`${card.name}\``,
      card.codebook_size.toLocaleString('en-US'),
      card.data.name,
      `${card.training.epochs}`,
      `${(bytes / 2 ** 20).toFixed(1)} MiB`,
      String(m.mse),
      `${m.psnr} dB`,
      String(m.ssim),
      `${m.used_codes.toLocaleString('en-US')} (${((100 * m.used_codes) / card.codebook_size).toFixed(1)} %)`,
      String(m.perplexity),
    ];
  });
  return markdownTable(['name', 'K', 'data', 'epochs', 'size', 'test mse', 'PSNR', 'SSIM', 'codes used', 'perplexity'], rows, 3);
}

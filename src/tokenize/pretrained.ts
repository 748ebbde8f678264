/**
 * Pretrained tokenizers shipped inside the package, by name (as transformers.js and the Hugging
 * Face hub hand out models with `from_pretrained`): `models/<name>/` at the package root holds a
 * checkpoint folder as `vqlab train` writes one, less what only resuming needs (config.json,
 * model.safetensors and checksums.json, verified on every load), plus its model card: card.json
 * (read here) and MODEL.md (the same card for people).
 *
 * Wherever a command or `Tokenizer.pretrained` takes a model, `resolveModelLocation` decides what
 * the word means: a path that exists is always that path (a run folder named like a model stays
 * the user's); otherwise a known name is the shipped model; otherwise one line lists the names.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from '../persistence/checkpoint-weights.js';
import { JsonFields, type JsonSource } from '../persistence/json-fields.js';

export const CARD_FILE = 'card.json';
const CARD_FORMAT = 'vqlab-model-card';
/** 2: the card names its modality, and a speech model's metrics are STOI, SI-SNR and mel distance. */
const CARD_VERSION = 2;

/**
 * Decimals to which a card states each float metric, so that a re-evaluation of the shipped weights
 * can be compared with what the card prints (test/pretrained-models.test.ts); the code counts
 * (`used_codes`, `dead_codes`) and the example counts are exact integers.
 */
export const CARD_METRIC_DECIMALS = { mse: 6, psnr: 3, ssim: 4, perplexity: 2, stoi: 4, si_snr: 2, mel_distance: 4, seconds: 1 } as const;

/** How the test split used the codebook, for a model of any modality. */
interface CardCodeUsage {
  readonly perplexity: number;
  readonly used_codes: number;
  readonly dead_codes: number;
}

/** Test-set metrics of an image model. */
export interface ImageCardMetrics extends CardCodeUsage {
  /** Test images the metrics are over. */
  readonly images: number;
  readonly mse: number;
  readonly psnr: number;
  readonly ssim: number;
}

/** Test-set metrics of a speech model, each utterance coded whole (speech-metrics.ts defines them). */
export interface SpeechCardMetrics extends CardCodeUsage {
  /** Test utterances the metrics are over, and their length in seconds. */
  readonly utterances: number;
  readonly seconds: number;
  readonly mse: number;
  readonly stoi: number;
  readonly si_snr: number;
  readonly mel_distance: number;
}

interface CardFields {
  readonly name: string;
  /** One line: what the model is. */
  readonly summary: string;
  readonly quantizer: string;
  readonly codebook_size: number;
  readonly data: {
    /** What `--data` names (a dataset name or 'mnist-bundled'), to evaluate on its test split. */
    readonly name: string;
    readonly description: string;
    readonly licence: string;
    readonly source: string;
  };
  readonly training: {
    /** The exact command that trained it. */
    readonly command: string;
    readonly vqlab_version: string;
    readonly epochs: number;
    readonly steps: number;
  };
}

/** What a card says its model measured: the modality (the config's) decides which metrics it states. */
export type CardMeasurement = { readonly modality: 'image'; readonly metrics: ImageCardMetrics } | { readonly modality: 'audio'; readonly metrics: SpeechCardMetrics };

/** A model's card. */
export type ModelCard = CardFields & CardMeasurement;

export type CardMetrics = ModelCard['metrics'];

export interface PretrainedModel {
  readonly card: ModelCard;
  /** The model's folder, a checkpoint folder that `Tokenizer.load` and every command read. */
  readonly dir: string;
  /** Bytes of the files a load reads (weights, config, checksums). */
  readonly bytes: number;
}

/** The package root: the nearest folder above this file whose package.json is vqlab's (src/tokenize or dist/src/tokenize). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'vqlab') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`vqlab's package.json was not found above ${fileURLToPath(import.meta.url)}; is the package installed whole?`);
    dir = up;
  }
}

/** Where the shipped models are (`models/` at the package root). */
function pretrainedRoot(): string {
  return join(packageRoot(), 'models');
}

/** The card in `text` (the contents of `path`), every field checked. */
function parseModelCard(text: string, path: string): ModelCard {
  const source: JsonSource = { path, remedy: 'the package is damaged; reinstall vqlab', fail: (message) => new CheckpointError(message) };
  const c = JsonFields.parse(text, source);
  c.constant('format', CARD_FORMAT);
  c.constant('version', CARD_VERSION);
  const data = c.object('data');
  const training = c.object('training');
  const metrics = c.object('metrics');
  const float = (key: string): number => metrics.number(key, 'a finite number', Number.isFinite);
  const usage: CardCodeUsage = { perplexity: float('perplexity'), used_codes: metrics.integer('used_codes', 0), dead_codes: metrics.integer('dead_codes', 0) };
  const fields: CardFields = {
    name: c.string('name'),
    summary: c.string('summary'),
    quantizer: c.string('quantizer'),
    codebook_size: c.integer('codebook_size', 1),
    data: { name: data.string('name'), description: data.string('description'), licence: data.string('licence'), source: data.string('source') },
    training: { command: training.string('command'), vqlab_version: training.string('vqlab_version'), epochs: training.integer('epochs', 1), steps: training.integer('steps', 1) },
  };
  const modality = c.string('modality', { test: /^(image|audio)$/, wanted: "'image' or 'audio'" });
  if (modality === 'image') {
    return { ...fields, modality, metrics: { images: metrics.integer('images', 1), mse: float('mse'), psnr: float('psnr'), ssim: float('ssim'), ...usage } };
  }
  return {
    ...fields,
    modality: 'audio',
    metrics: {
      utterances: metrics.integer('utterances', 1),
      seconds: float('seconds'),
      mse: float('mse'),
      stoi: float('stoi'),
      si_snr: float('si_snr'),
      mel_distance: float('mel_distance'),
      ...usage,
    },
  };
}

/** The text of card.json for `card`. */
export function modelCardText(card: ModelCard): string {
  return `${JSON.stringify({ format: CARD_FORMAT, version: CARD_VERSION, ...card }, null, 2)}\n`;
}

/** Files a load reads, for the size shown. */
const LOADED_FILES = ['config.json', 'model.safetensors', 'checksums.json'];

/** Every model shipped in the package, by name. */
export function pretrainedModels(root = pretrainedRoot()): PretrainedModel[] {
  if (!existsSync(root)) return [];
  const models: PretrainedModel[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const cardPath = join(dir, CARD_FILE);
    if (!existsSync(cardPath)) continue;
    const card = parseModelCard(readFileSync(cardPath, 'utf8'), cardPath);
    if (card.name !== name) throw new CheckpointError(`${cardPath} names the model '${card.name}' but sits in the folder '${name}'; the package is damaged, reinstall vqlab`);
    const bytes = LOADED_FILES.reduce((sum, file) => sum + (existsSync(join(dir, file)) ? statSync(join(dir, file)).size : 0), 0);
    models.push({ card, dir, bytes });
  }
  return models;
}

/** The shipped model `name`, or undefined when there is none of that name. */
export function pretrainedModel(name: string, root = pretrainedRoot()): PretrainedModel | undefined {
  return pretrainedModels(root).find((m) => m.card.name === name);
}

/** The one-line error for a word that is neither an existing path nor a model name. */
export function unknownModelError(location: string, root = pretrainedRoot()): Error {
  const names = pretrainedModels(root).map((m) => m.card.name);
  return new CheckpointError(`'${location}' is neither a run or checkpoint folder nor a pretrained model; pretrained models: ${names.join(', ') || 'none installed'} ('vqlab models' lists them)`);
}

/**
 * The checkpoint location that `location` means: an existing path is itself, and so is anything
 * with a folder separator (no name has one; reading it gives the usual missing-folder error); else
 * a pretrained model's name is its folder; else an error that lists the names.
 */
export function resolveModelLocation(location: string, root = pretrainedRoot()): string {
  if (existsSync(location) || /[/\\]/.test(location)) return location;
  const model = pretrainedModel(location, root);
  if (model === undefined) throw unknownModelError(location, root);
  return model.dir;
}

/**
 * The model registry: a JSON-serializable `ModelConfig` (architecture, input shape, quantizer) that
 * is stored as `config.json` in every checkpoint, and `buildModel` that turns it into a
 * `VqvaeModel`. Train, eval, encode, decode and export all go through here, so a checkpoint is
 * rebuilt exactly as it was trained.
 *
 * Config versions. Version 2 (written today): `quantizer` is the quantizer's own config,
 * `{ kind, ...every option }` (quantizers/registry.ts). Version 1: `quantizer` was
 * `{ name, codebookSize, dim, beta, optimize? }`; `parseModelConfig` reads it and returns the
 * equivalent version-2 config (same quantizer, same variable names, so old weights load).
 *
 * `modality` (modality/registry.ts) is additive to both versions: a config without it is an image
 * model, which is every config written before there were modalities and every image config since,
 * so image checkpoints keep their bytes.
 */
import type { Tensor } from '../graph/tensor.js';
import type { SearchBlocking } from '../quantizers/nearest-code.js';
import type { BuildContext } from '../runtime/build-context.js';
import { convVqvae, defaultConvArchitecture, type ConvArchitecture } from './conv-vqvae.js';
import type { Architecture, ImageShape, VqvaeModel } from './model.js';
import {
  createModelQuantizer,
  quantizerConfigFor,
  upgradeQuantizerV1,
  type SavedQuantizerConfig,
} from './quantizer-settings.js';
import { quotedValue, shownValue } from '../limits/shown-value.js';
import { savedQuantizerConfig, type QuantizerConfig } from '../quantizers/index.js';
import { referenceMnist, type ReferenceMnistArchitecture } from './reference-mnist.js';

export type ArchitectureConfig = ReferenceMnistArchitecture | ConvArchitecture;
export type ModelKind = ArchitectureConfig['kind'];
export const MODEL_KINDS: readonly ModelKind[] = ['reference-mnist', 'conv'];

/** What one example of a model is; each name has its data, loss, metrics and file I/O in modality/. */
export const MODALITY_NAMES = ['image'] as const;
export type ModalityName = (typeof MODALITY_NAMES)[number];
/** The modality of a config that names none. */
export const DEFAULT_MODALITY: ModalityName = 'image';

const CONFIG_FORMAT = 'vqlab-model';
const CONFIG_VERSION = 2;
/** Versions `parseModelConfig` reads (1 is upgraded on read). */
const READABLE_CONFIG_VERSIONS: readonly number[] = [1, 2];

export interface ModelConfig {
  readonly format: typeof CONFIG_FORMAT;
  readonly version: typeof CONFIG_VERSION;
  /** Absent for images (DEFAULT_MODALITY), so configs written before modalities read unchanged. */
  readonly modality?: ModalityName;
  /** Shape of one input image. */
  readonly input: ImageShape;
  readonly architecture: ArchitectureConfig;
  /** The quantizer's own config, `{ kind, ...options }` (`Quantizer.config`). */
  readonly quantizer: SavedQuantizerConfig;
}

/** A config file or option that cannot describe a model; the message names the field and the fix. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export interface ModelChoice {
  /** Recorded in the config unless it is the default (see `ModelConfig.modality`). */
  readonly modality?: ModalityName;
  readonly model?: ModelKind;
  readonly input: ImageShape;
  /** The quantizer, resolved (`resolveQuantizerConfig`); its `dim` is the encoder's output channels. */
  readonly quantizer: QuantizerConfig;
  /** Architecture overrides for the 'conv' model. */
  readonly conv?: Partial<Omit<ConvArchitecture, 'kind'>>;
}

/**
 * The config for a choice. The quantizer was validated when its config was resolved; the
 * architecture is checked here, so a bad choice fails before any data is loaded.
 */
export function makeModelConfig(c: ModelChoice): ModelConfig {
  const kind = c.model ?? 'reference-mnist';
  if (!MODEL_KINDS.includes(kind)) throw new ModelConfigError(`unknown model ${quotedValue(kind)}; choose one of ${MODEL_KINDS.join(', ')}`);
  for (const field of ['channels', 'height', 'width'] as const) boundedInt('model input', field, c.input[field], INPUT_BOUNDS[field]);
  const architecture: ArchitectureConfig = kind === 'reference-mnist' ? { kind } : defaultConvArchitecture(c.conv);
  const modality = c.modality !== undefined && c.modality !== DEFAULT_MODALITY ? { modality: c.modality } : {};
  const config: ModelConfig = { format: CONFIG_FORMAT, version: CONFIG_VERSION, ...modality, input: { ...c.input }, architecture, quantizer: savedQuantizerConfig(c.quantizer) };
  try {
    architectureOf(config);
  } catch (err) {
    throw new ModelConfigError(err instanceof Error ? err.message : String(err));
  }
  return config;
}

function architectureOf(config: ModelConfig): Architecture {
  const a = config.architecture;
  switch (a.kind) {
    case 'reference-mnist':
      return referenceMnist(config.input, config.quantizer.dim);
    case 'conv':
      return convVqvae(config.input, config.quantizer.dim, a);
  }
}

/**
 * The model a config describes. `search` overrides the nearest-code search's block sizes, which
 * change speed and memory but not the codes found (exported models use it, see tokenize/export.ts).
 */
/** The scope of the quantizer's variables (`quantizer.codebook`, …) in every model. */
export const QUANTIZER_SCOPE = 'quantizer';

export function buildModel(config: ModelConfig, options: { readonly search?: SearchBlocking } = {}): VqvaeModel {
  let architecture: Architecture;
  try {
    architecture = architectureOf(config);
  } catch (err) {
    throw new ModelConfigError(err instanceof Error ? err.message : String(err));
  }
  const quantizer = createModelQuantizer(config.quantizer, options.search);
  return {
    input: config.input,
    latent: architecture.latentShape(),
    quantizer,
    encode: (ctx: BuildContext, x: Tensor) => architecture.encode(ctx.scope('encoder'), x),
    decode: (ctx: BuildContext, zq: Tensor) => architecture.decode(ctx.scope('decoder'), zq),
    quantizerScope: (ctx: BuildContext) => ctx.scope(QUANTIZER_SCOPE),
  };
}

// ------------------------------------------------------------------ validation of config.json

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Bounds on the input shape a config may declare, checked before a model is built: an image has
 * at most 4 channels (RGBA), and a side of at most 4,096 pixels, the side of the default cap on
 * the pixels of an image file (4096² = 16,777,216, limits/input-limits.ts).
 */
const INPUT_BOUNDS = { channels: 4, height: 4096, width: 4096 } as const;

function boundedInt(source: string, field: string, v: unknown, max: number): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
    throw new ModelConfigError(`${source}: ${field} must be an integer from 1 to ${max}, got ${shownValue(v)}`);
  }
  return v as number;
}

/** The modality of a config (DEFAULT_MODALITY when it names none). */
export function modalityNameOf(config: Pick<ModelConfig, 'modality'>): ModalityName {
  return config.modality ?? DEFAULT_MODALITY;
}

/** Validate parsed `config.json` content and return it as a `ModelConfig`. */
export function parseModelConfig(json: unknown, source: string): ModelConfig {
  if (!isRecord(json) || json.format !== CONFIG_FORMAT) {
    throw new ModelConfigError(`${source} is not a vqlab model config (expected "format": "${CONFIG_FORMAT}")`);
  }
  if (!READABLE_CONFIG_VERSIONS.includes(json.version as number)) {
    throw new ModelConfigError(`${source} has config version ${shownValue(json.version)}; this vqlab reads versions ${READABLE_CONFIG_VERSIONS.join(' and ')} (a newer vqlab wrote it?)`);
  }
  const modality = json.modality;
  if (modality !== undefined && !MODALITY_NAMES.includes(modality as ModalityName)) {
    throw new ModelConfigError(`${source}: modality ${quotedValue(modality)} is not one this vqlab knows (${MODALITY_NAMES.join(', ')}); a newer vqlab wrote it?`);
  }
  const input = json.input;
  if (!isRecord(input)) throw new ModelConfigError(`${source}: missing "input" {channels, height, width}`);
  const shape: ImageShape = {
    channels: boundedInt(source, 'input.channels', input.channels, INPUT_BOUNDS.channels),
    height: boundedInt(source, 'input.height', input.height, INPUT_BOUNDS.height),
    width: boundedInt(source, 'input.width', input.width, INPUT_BOUNDS.width),
  };
  const a = json.architecture;
  if (!isRecord(a) || !MODEL_KINDS.includes(a.kind as ModelKind)) {
    throw new ModelConfigError(`${source}: architecture.kind must be one of ${MODEL_KINDS.join(', ')}`);
  }
  const q = json.quantizer;
  if (!isRecord(q)) throw new ModelConfigError(`${source}: missing "quantizer" section`);
  let quantizer: SavedQuantizerConfig;
  try {
    if (json.version === 1) {
      quantizer = upgradeQuantizerV1(q);
    } else {
      const { kind, ...options } = q;
      quantizer = savedQuantizerConfig(quantizerConfigFor(kind, options));
    }
  } catch (err) {
    throw new ModelConfigError(`${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = {
    format: CONFIG_FORMAT,
    version: CONFIG_VERSION,
    ...(modality !== undefined ? { modality: modality as ModalityName } : {}),
    input: shape,
    architecture: a as unknown as ArchitectureConfig,
    quantizer,
  } satisfies ModelConfig;
  try {
    architectureOf(config);
  } catch (err) {
    throw new ModelConfigError(`${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return config;
}

/**
 * The quantizer section of a model config: the quantizer's own `config` ({ kind, ...options },
 * see quantizers/registry.ts), how a run's resolved `QuantizerConfig` is saved there, and how
 * model-level settings (K, d, β) and version-1 configs map onto it.
 */
import { quotedValue } from '../limits/shown-value.js';
import {
  buildQuantizer,
  optionsOf,
  requireQuantizerName,
  resolveQuantizerConfig,
  savedQuantizerConfig,
  type Quantizer,
  type QuantizerConfig,
  type QuantizerName,
  type SearchBlocking,
} from '../quantizers/index.js';

/**
 * The quantizer section of config.json: `Quantizer.config`, the registry name and the options its
 * schema keeps (`savedQuantizerConfig`); resolving it gives the run's `QuantizerConfig` back.
 */
export interface SavedQuantizerConfig {
  readonly kind: QuantizerName;
  /** Code dimension d (the encoder's output channels); every quantizer has it. */
  readonly dim: number;
  readonly [option: string]: unknown;
}

class UnknownQuantizerError extends Error {
  constructor(name: unknown) {
    let message: string;
    try {
      requireQuantizerName(name);
      message = `quantizer ${quotedValue(name)}`;
    } catch (err) {
      message = (err as Error).message.replace(/^quantizer: /, '');
    }
    super(message);
    this.name = 'UnknownQuantizerError';
  }
}

/** Model-level settings every training run has; each applies only to quantizers that take it. */
export interface GeneralQuantizerSettings {
  readonly codebookSize?: number;
  readonly dim?: number;
  readonly beta?: number;
}

/**
 * The options for quantizer `kind`: the general settings the quantizer has an option for (FSQ has
 * no codebookSize: its K is Π levels), then `specific` (which wins, and is validated in full).
 */
export function quantizerOptionsFor(kind: QuantizerName, general: GeneralQuantizerSettings, specific: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const specs = optionsOf(kind, typeof specific.base === 'string' ? specific.base : undefined);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(general)) if (value !== undefined && key in specs) out[key] = value;
  return { ...out, ...specific };
}

/** Validate `options` for `kind` and return the run's `QuantizerConfig` (unknown names as `UnknownQuantizerError`). */
export function quantizerConfigFor(kind: unknown, options: Readonly<Record<string, unknown>>): QuantizerConfig {
  let name: QuantizerName;
  try {
    name = requireQuantizerName(kind);
  } catch {
    throw new UnknownQuantizerError(kind);
  }
  return resolveQuantizerConfig(name, options);
}

/**
 * Build the quantizer a config describes. `search` overrides the nearest-code block sizes of the
 * quantizers that search a codebook (it changes speed and memory, not the codes found).
 */
export function createModelQuantizer(config: SavedQuantizerConfig, search?: SearchBlocking): Quantizer {
  const { kind, ...options } = config;
  const searches = search !== undefined && 'search' in optionsOf(kind, typeof options.base === 'string' ? options.base : undefined);
  return buildQuantizer(quantizerConfigFor(kind, searches ? { ...options, search } : options));
}

/**
 * The quantizer section of a version-1 model config, `{ name, codebookSize, dim, beta,
 * optimize? }`, as today's config: version 1 built the quantizer from exactly those options and
 * the defaults of the rest, which is what the upgraded config resolves to.
 */
export function upgradeQuantizerV1(q: Readonly<Record<string, unknown>>): SavedQuantizerConfig {
  const { name, codebookSize, dim, beta, optimize, ...rest } = q;
  const extra = Object.keys(rest);
  if (extra.length) throw new Error(`unexpected field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => `quantizer.${/^\w{1,40}$/.test(k) ? k : quotedValue(k)}`).join(', ')} in a version-1 config`);
  if (typeof name !== 'string') throw new UnknownQuantizerError(name);
  if (!['vq', 'ema', 'simvq'].includes(name)) throw new Error(`quantizer.name must be one of vq, ema, simvq in a version-1 config, got ${quotedValue(name)}`);
  return savedQuantizerConfig(quantizerConfigFor(name, { codebookSize, dim, beta, optimize: name === 'simvq' ? optimize : undefined }));
}

/**
 * The quantizer vocabulary: every quantizer vqlab knows, by name, with its implementation and its
 * options (type, default, bounds, one-line doc). The API (`createQuantizer`), model configs and
 * checkpoints (`quantizerFromConfig`), the command line (`--quantizer NAME --quantizer-option
 * key=value`, and the option list of `vqlab train --help`) and the experiments all read this one
 * table, so a name or an option means the same everywhere and a typo is refused with the valid
 * names listed.
 *
 * A `QuantizerConfig` is `{ kind, ...every option resolved }`: `resolveQuantizerConfig` makes it
 * (validating against the quantizer's schema and filling the defaults), `buildQuantizer` builds
 * from it without validating again. A quantizer's `config` is what a checkpoint saves (the
 * options its schema says to keep), and `quantizerFromConfig(q.config)` rebuilds the same one.
 */
import { quotedValue } from '../limits/shown-value.js';
import { checkEmaVectorQuantizerOptions, EMA_OPTIONS, EmaVectorQuantizer, type EmaVectorQuantizerConfig, type EmaVectorQuantizerOptions } from './ema-vector-quantizer.js';
import { checkFSQOptions, FSQ, FSQ_OPTIONS, type FSQConfig, type FSQOptions } from './fsq.js';
import { checkLFQOptions, LFQ, LFQ_OPTIONS, type LFQConfig, type LFQOptions } from './lfq.js';
import { describeDefault, parseOptionValue, resolveOptions, savedOptions, settableFromCommandLine, type OptionSchema } from './option-schema.js';
import { QUANTIZER_KINDS, type Quantizer, type QuantizerName } from './quantizer.js';
import { checkResidualOptions, RESIDUAL_BASES, RESIDUAL_OPTIONS, ResidualQuantizer, type ResidualBase, type ResidualOptions, type ResidualOwnConfig } from './residual.js';
import { checkSimVQOptions, SIMVQ_OPTIONS, SimVQ, type SimVQConfig, type SimVQOptions } from './simvq.js';
import { checkVectorQuantizerOptions, VQ_OPTIONS, VectorQuantizer, type VectorQuantizerConfig, type VectorQuantizerOptions } from './vector-quantizer.js';

export interface QuantizerEntry {
  readonly name: QuantizerName;
  /** One line for --help and the README. */
  readonly summary: string;
  /** Its options; for 'residual' the stage options of the chosen base come on top (`optionsOf`). */
  readonly options: OptionSchema;
}

export const QUANTIZERS: Readonly<Record<QuantizerName, QuantizerEntry>> = {
  vq: { name: 'vq', summary: 'VQ-VAE codebook trained by the codebook loss (van den Oord et al. 2017)', options: VQ_OPTIONS },
  ema: { name: 'ema', summary: 'VQ with an exponential-moving-average codebook (VQ-VAE appendix A.1)', options: EMA_OPTIONS },
  simvq: { name: 'simvq', summary: 'codebook C·W + b: frozen random basis times one learned linear layer (Zhu et al. 2024)', options: SIMVQ_OPTIONS },
  fsq: { name: 'fsq', summary: 'finite scalar quantization: bounded per-dimension rounding, K = Π levels (Mentzer et al. 2023)', options: FSQ_OPTIONS },
  lfq: { name: 'lfq', summary: 'lookup-free quantization: sign bits, K = 2^b, entropy loss (MAGVIT-v2, Yu et al. 2023)', options: LFQ_OPTIONS },
  residual: {
    name: 'residual',
    summary: 'residual quantization: D stages of a codebook quantizer on the remaining error (SoundStream RVQ)',
    options: RESIDUAL_OPTIONS,
  },
};

export type VectorQuantizerKindConfig = { readonly kind: 'vq' } & VectorQuantizerConfig;
export type EmaKindConfig = { readonly kind: 'ema' } & EmaVectorQuantizerConfig;
export type SimVQKindConfig = { readonly kind: 'simvq' } & SimVQConfig;
export type FSQKindConfig = { readonly kind: 'fsq' } & FSQConfig;
export type LFQKindConfig = { readonly kind: 'lfq' } & LFQConfig;
/** The stage options of a residual quantizer are those of its `base` (checked when resolved). */
export type ResidualKindConfig = { readonly kind: 'residual' } & ResidualOwnConfig & {
  readonly codebookSize: number;
  readonly dim: number;
  readonly [option: string]: unknown;
};
/** A residual stage: one of the bases. */
type StageConfig = VectorQuantizerKindConfig | EmaKindConfig | SimVQKindConfig;

/**
 * One quantizer's settings: its registry name and every option resolved (defaults filled in),
 * made once by `resolveQuantizerConfig` — from the command line, an experiment, the API or a
 * checkpoint — and built by `buildQuantizer`.
 */
export type QuantizerConfig = VectorQuantizerKindConfig | EmaKindConfig | SimVQKindConfig | FSQKindConfig | LFQKindConfig | ResidualKindConfig;

function isOneOf<T extends string>(value: unknown, names: readonly T[]): value is T {
  return names.some((name) => name === value);
}

/** Throw, listing the valid names, unless `name` is a registered quantizer. */
export function requireQuantizerName(name: unknown, where = 'quantizer'): QuantizerName {
  if (!isOneOf(name, QUANTIZER_KINDS)) throw new Error(`${where}: unknown quantizer ${quotedValue(name)}; valid names: ${QUANTIZER_KINDS.join(', ')}`);
  return name;
}

function requireResidualBase(base: unknown): ResidualBase {
  const stage = requireQuantizerName(base, "residual option 'base'");
  if (!isOneOf(stage, RESIDUAL_BASES)) throw new Error(`residual: base must be one of ${RESIDUAL_BASES.join(', ')}, got '${stage}'`);
  return stage;
}

/**
 * The full option table of a quantizer: its own options, and for 'residual' also those of the
 * stage quantizer `base` (default: the schema's).
 */
export function optionsOf(name: QuantizerName, base?: string): OptionSchema {
  if (name !== 'residual') return QUANTIZERS[name].options;
  return { ...RESIDUAL_OPTIONS, ...QUANTIZERS[requireResidualBase(base ?? RESIDUAL_OPTIONS.base.default)].options };
}

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The stage options of a residual config: every option that is not the residual's own. */
function stageOptionsOf(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'kind' && !(key in RESIDUAL_OPTIONS)));
}

function resolveVq(where: string, raw: Readonly<Record<string, unknown>>): VectorQuantizerKindConfig {
  const o = resolveOptions(where, VQ_OPTIONS, raw);
  checkVectorQuantizerOptions(o);
  return { kind: 'vq', ...o };
}

function resolveEma(where: string, raw: Readonly<Record<string, unknown>>): EmaKindConfig {
  const o = resolveOptions(where, EMA_OPTIONS, raw);
  checkEmaVectorQuantizerOptions(o);
  return { kind: 'ema', ...o };
}

function resolveSimVQ(where: string, raw: Readonly<Record<string, unknown>>): SimVQKindConfig {
  const o = resolveOptions(where, SIMVQ_OPTIONS, raw);
  checkSimVQOptions(o);
  return { kind: 'simvq', ...o };
}

function resolveStage(where: string, base: ResidualBase, raw: Readonly<Record<string, unknown>>): StageConfig {
  switch (base) {
    case 'vq':
      return resolveVq(where, raw);
    case 'ema':
      return resolveEma(where, raw);
    case 'simvq':
      return resolveSimVQ(where, raw);
  }
}

function resolveKind(where: string, kind: QuantizerName, raw: Readonly<Record<string, unknown>>): QuantizerConfig {
  switch (kind) {
    case 'vq':
    case 'ema':
    case 'simvq':
      return resolveStage(where, kind, raw);
    case 'fsq': {
      const o = resolveOptions(where, FSQ_OPTIONS, raw);
      checkFSQOptions(o);
      return { kind, ...o };
    }
    case 'lfq': {
      const o = resolveOptions(where, LFQ_OPTIONS, raw);
      checkLFQOptions(o);
      return { kind, ...o };
    }
    case 'residual': {
      const own = resolveOptions(where, RESIDUAL_OPTIONS, Object.fromEntries(Object.entries(raw).filter(([key]) => key in RESIDUAL_OPTIONS)));
      const { kind: _stageKind, ...stage } = resolveStage(where, own.base, stageOptionsOf(raw));
      checkResidualOptions(own, { ...stage, rotationTrick: 'rotationTrick' in stage && stage.rotationTrick });
      return { kind, ...own, ...stage };
    }
  }
}

/**
 * Validate `options` for quantizer `kind` against its schema and return its `QuantizerConfig`:
 * unknown names and option names are refused with the valid ones listed, every value is checked
 * against its bounds and the rules between options, and the defaults are filled in. Options whose
 * value is `undefined` count as unset.
 */
export function resolveQuantizerConfig(kind: unknown, options: unknown, where?: string): QuantizerConfig {
  const name = requireQuantizerName(kind, where ?? 'quantizer');
  const at = where ?? name;
  if (!isObject(options)) throw new Error(`${at}: options must be an object`);
  if (name === 'residual' && options.base !== undefined) requireResidualBase(options.base);
  return resolveKind(at, name, options);
}

/**
 * The config as a checkpoint saves it (`Quantizer.config`): kind, then the options the schema says
 * to keep (option-schema.ts, `SavedWhen`), in the schema's order.
 */
export function savedQuantizerConfig(config: QuantizerConfig): { readonly kind: QuantizerName; readonly dim: number; readonly [option: string]: unknown } {
  const schema = optionsOf(config.kind, config.kind === 'residual' ? config.base : undefined);
  // `dim` is always kept; restating it keeps its place in the schema's order.
  return { kind: config.kind, ...savedOptions(schema, config), dim: config.dim };
}

/** Build the quantizer of a resolved config (`resolveQuantizerConfig`); validates nothing again. */
export function buildQuantizer(config: QuantizerConfig): Quantizer {
  switch (config.kind) {
    case 'vq':
      return new VectorQuantizer(config);
    case 'ema':
      return new EmaVectorQuantizer(config);
    case 'simvq':
      return new SimVQ(config);
    case 'fsq':
      return new FSQ(config);
    case 'lfq':
      return new LFQ(config);
    case 'residual': {
      // The stage options are typed by `base` only once resolved; they were checked when the
      // config was made, so this resolution reproduces them.
      const stage = resolveStage('residual', config.base, stageOptionsOf(config));
      return new ResidualQuantizer(config, () => buildQuantizer(stage));
    }
  }
}

/** Build a quantizer by name, validating its options against the registry. */
export function createQuantizer(name: 'vq', options: VectorQuantizerOptions): VectorQuantizer;
export function createQuantizer(name: 'ema', options: EmaVectorQuantizerOptions): EmaVectorQuantizer;
export function createQuantizer(name: 'simvq', options: SimVQOptions): SimVQ;
export function createQuantizer(name: 'fsq', options: FSQOptions): FSQ;
export function createQuantizer(name: 'lfq', options: LFQOptions): LFQ;
export function createQuantizer(name: 'residual', options: ResidualOptions): ResidualQuantizer;
export function createQuantizer(name: string, options: object): Quantizer;
export function createQuantizer(name: string, options: object): Quantizer {
  return buildQuantizer(resolveQuantizerConfig(name, options, `createQuantizer(${quotedValue(name)})`));
}

/** Rebuild a quantizer from its `config` ({ kind, ...options }, as saved in a checkpoint). */
export function quantizerFromConfig(config: Readonly<Record<string, unknown>>): Quantizer {
  const { kind, ...options } = config;
  if (typeof kind !== 'string') throw new Error(`quantizer config has no 'kind'; valid kinds: ${QUANTIZER_KINDS.join(', ')}`);
  return createQuantizer(kind, options);
}

/**
 * Parse command-line option assignments ("decay=0.9", "levels=8,5,5,5") for quantizer `name` into
 * typed values, refusing unknown option names with the valid ones listed.
 */
export function parseQuantizerOptions(name: QuantizerName, assignments: readonly string[]): Record<string, unknown> {
  const raw = new Map<string, string>();
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`quantizer option '${a}' must be written key=value (e.g. decay=0.9)`);
    raw.set(a.slice(0, eq).trim(), a.slice(eq + 1));
  }
  const specs = optionsOf(name, raw.get('base')?.trim());
  const out: Record<string, unknown> = {};
  for (const [key, text] of raw) {
    const spec = specs[key];
    if (!spec) throw new Error(`${name}: unknown option '${key}'; valid options: ${Object.keys(specs).join(', ')}`);
    out[key] = parseOptionValue(name, key, spec, text);
  }
  return out;
}

/**
 * A quantizer written as one string, `NAME` or `NAME:key=value:key=value` (list values with 'x',
 * e.g. `fsq:levels=8x5x5x5`), as `vqlab experiment --quantizers` takes them.
 */
export function parseQuantizerSpec(text: string): { name: QuantizerName; options: Record<string, unknown> } {
  const [head, ...assignments] = text.split(':');
  const name = requireQuantizerName(head?.trim(), `quantizer '${text}'`);
  return { name, options: parseQuantizerOptions(name, assignments) };
}

/** Help text: every quantizer with its summary and options (name, default, doc). */
export function describeQuantizers(): string {
  const lines: string[] = [];
  for (const entry of Object.values(QUANTIZERS)) {
    lines.push(`  ${entry.name}: ${entry.summary}`);
    for (const [key, spec] of Object.entries(entry.options)) {
      if (!settableFromCommandLine(spec)) continue;
      const dflt = spec.required ? 'required' : `default ${describeDefault(spec)}`;
      lines.push(`      ${key.padEnd(18)} ${spec.doc} (${dflt})`);
    }
    if (entry.name === 'residual') lines.push('      (plus every option of the base quantizer, applied to each stage)');
  }
  return lines.join('\n');
}

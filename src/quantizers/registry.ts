/**
 * The quantizer vocabulary: every quantizer vqlab knows, by name, with its implementation and its
 * options (type, default, bounds, one-line doc). The API (`createQuantizer`), model configs and
 * checkpoints (`quantizerFromConfig`), the command line (`--quantizer NAME --quantizer-option
 * key=value`, and the option list of `vqlab train --help`) and the experiments all read this one
 * table, so a name or an option means the same everywhere and a typo is refused with the valid
 * names listed.
 *
 * A quantizer's `config` is `{ kind, ...options }` with every option it resolved, and
 * `quantizerFromConfig(q.config)` rebuilds the same quantizer.
 */
import { quotedValue } from '../limits/shown-value.js';
import { EMA_OPTIONS, EmaVectorQuantizer, type EmaVectorQuantizerOptions } from './ema-vector-quantizer.js';
import { FSQ, FSQ_OPTIONS, type FSQOptions } from './fsq.js';
import { LFQ, LFQ_OPTIONS, type LFQOptions } from './lfq.js';
import { checkOptions, parseOptionValue, type OptionSpec, type OptionSpecs } from './options.js';
import { QUANTIZER_KINDS, type Quantizer, type QuantizerName } from './quantizer.js';
import { RESIDUAL_OPTIONS, ResidualQuantizer, type ResidualBase, type ResidualOptions } from './residual.js';
import { SIMVQ_OPTIONS, SimVQ, type SimVQOptions } from './simvq.js';
import { VQ_OPTIONS, VectorQuantizer, type VectorQuantizerOptions } from './vector-quantizer.js';

export interface QuantizerEntry {
  readonly name: QuantizerName;
  /** One line for --help and the README. */
  readonly summary: string;
  /** Its options; for 'residual' the stage options of the chosen base come on top (`optionsOf`). */
  readonly options: OptionSpecs;
  readonly create: (options: Readonly<Record<string, unknown>>) => Quantizer;
}

export const QUANTIZERS: Readonly<Record<QuantizerName, QuantizerEntry>> = {
  vq: {
    name: 'vq',
    summary: 'VQ-VAE codebook trained by the codebook loss (van den Oord et al. 2017)',
    options: VQ_OPTIONS,
    create: (o) => new VectorQuantizer(o as unknown as VectorQuantizerOptions),
  },
  ema: {
    name: 'ema',
    summary: 'VQ with an exponential-moving-average codebook (VQ-VAE appendix A.1)',
    options: EMA_OPTIONS,
    create: (o) => new EmaVectorQuantizer(o as unknown as EmaVectorQuantizerOptions),
  },
  simvq: {
    name: 'simvq',
    summary: 'codebook C·W + b: frozen random basis times one learned linear layer (Zhu et al. 2024)',
    options: SIMVQ_OPTIONS,
    create: (o) => new SimVQ(o as unknown as SimVQOptions),
  },
  fsq: {
    name: 'fsq',
    summary: 'finite scalar quantization: bounded per-dimension rounding, K = Π levels (Mentzer et al. 2023)',
    options: FSQ_OPTIONS,
    create: (o) => new FSQ(o as unknown as FSQOptions),
  },
  lfq: {
    name: 'lfq',
    summary: 'lookup-free quantization: sign bits, K = 2^b, entropy loss (MAGVIT-v2, Yu et al. 2023)',
    options: LFQ_OPTIONS,
    create: (o) => new LFQ(o as unknown as LFQOptions),
  },
  residual: {
    name: 'residual',
    summary: 'residual quantization: D stages of a codebook quantizer on the remaining error (SoundStream RVQ)',
    options: RESIDUAL_OPTIONS,
    create: (o) => new ResidualQuantizer(o as ResidualOptions, (base, stage) => createQuantizer(base, stage)),
  },
};

/** Throw, listing the valid names, unless `name` is a registered quantizer. */
export function requireQuantizerName(name: unknown, where = 'quantizer'): QuantizerName {
  if (typeof name !== 'string' || !(QUANTIZER_KINDS as readonly string[]).includes(name)) {
    throw new Error(`${where}: unknown quantizer ${quotedValue(name)}; valid names: ${QUANTIZER_KINDS.join(', ')}`);
  }
  return name as QuantizerName;
}

/**
 * The full option table of a quantizer: its own options, and for 'residual' also those of the
 * stage quantizer `base` (default 'vq').
 */
export function optionsOf(name: QuantizerName, base?: string): OptionSpecs {
  if (name !== 'residual') return QUANTIZERS[name].options;
  const stage = requireQuantizerName(base ?? 'vq', "residual option 'base'");
  if (!(RESIDUAL_OPTIONS.base!.choices ?? []).includes(stage)) throw new Error(`residual: base must be one of ${RESIDUAL_OPTIONS.base!.choices!.join(', ')}, got '${stage}'`);
  return { ...RESIDUAL_OPTIONS, ...QUANTIZERS[stage].options };
}

/** Build a quantizer by name, validating its options against the registry. */
export function createQuantizer(name: 'vq', options: VectorQuantizerOptions): Quantizer;
export function createQuantizer(name: 'ema', options: EmaVectorQuantizerOptions): Quantizer;
export function createQuantizer(name: 'simvq', options: SimVQOptions): Quantizer;
export function createQuantizer(name: 'fsq', options: FSQOptions): Quantizer;
export function createQuantizer(name: 'lfq', options: LFQOptions): Quantizer;
export function createQuantizer(name: 'residual', options: ResidualOptions & { base?: ResidualBase }): Quantizer;
export function createQuantizer(name: string, options: object): Quantizer;
export function createQuantizer(name: string, options: object): Quantizer {
  const kind = requireQuantizerName(name, 'createQuantizer');
  const where = `createQuantizer('${kind}')`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new Error(`${where}: options must be an object`);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  checkOptions(where, defined, optionsOf(kind, defined.base as string | undefined));
  return QUANTIZERS[kind].create(defined);
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
    const spec: OptionSpec | undefined = specs[key];
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
    const own = entry.name === 'residual' ? RESIDUAL_OPTIONS : entry.options;
    for (const [key, spec] of Object.entries(own)) {
      if (spec.type === 'search') continue;
      const dflt = spec.required ? 'required' : `default ${spec.default ?? '-'}`;
      lines.push(`      ${key.padEnd(18)} ${spec.doc} (${dflt})`);
    }
    if (entry.name === 'residual') lines.push('      (plus every option of the base quantizer, applied to each stage)');
  }
  return lines.join('\n');
}

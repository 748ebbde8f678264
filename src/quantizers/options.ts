/**
 * Option validation shared by the quantizers: every check throws an Error that names the
 * quantizer, the option and the offending value, so a bad config fails when the quantizer is
 * constructed rather than as a shape error (or silent NaN) deep inside a training graph.
 */
import { quotedValue, shownValue } from '../limits/shown-value.js';
import type { SearchBlocking } from './nearest-code.js';

/** Codebook initialization of VQ and EMA-VQ. */
export type CodebookInit = 'uniform' | 'normal';
export const CODEBOOK_INITS: readonly CodebookInit[] = ['uniform', 'normal'];

/** Options every quantizer takes. */
export interface CommonQuantizerOptions {
  /** Number of codes K (integer ≥ 1). */
  readonly codebookSize: number;
  /** Code dimension d (integer ≥ 1). */
  readonly dim: number;
  /** Commitment weight β (finite, ≥ 0; default 0.25). */
  readonly beta?: number;
  /** Overall weight of the quantizer loss (finite, ≥ 0; default 1). */
  readonly weight?: number;
  /** Block sizes of the nearest-code search (defaults: `defaultBlocking` in nearest-code.ts). */
  readonly search?: SearchBlocking;
}


/**
 * Bounds on the sizes a config may ask for, checked before any variable is allocated, so that a
 * config with K = 10¹² or d = 10⁹ is refused in one line rather than by an allocation failure.
 * Within them, whether a model fits this machine is train/memory.ts's question.
 *
 * - K ≤ 2²⁴ (16,777,216): the codes whose indices the blocked nearest-code search combines
 *   exactly (MAX_EXACT_INDEX, nearest-code.ts); it refuses larger codebooks anyway.
 * - K·d ≤ 2³⁰ values: a codebook of at most 4 GiB of float32, 12 GiB with Adam's two moments,
 *   more than any machine this library trains on gives one model.
 * - d ≤ 2¹⁴ (16,384): 32 times the widest latents of the VQ-VAE literature (VQGAN's 256–512
 *   channels); SimVQ's d × d layer W then holds at most 2²⁸ values.
 */
export const SIZE_BOUNDS = { maxCodebookSize: 2 ** 24, maxDim: 2 ** 14, maxCodebookValues: 2 ** 30 } as const;

function validateCodebookShape(name: string, codebookSize: number, dim: number): void {
  if (!Number.isInteger(codebookSize) || codebookSize < 1 || codebookSize > SIZE_BOUNDS.maxCodebookSize) {
    throw new Error(`${name}: codebook size K must be an integer from 1 to ${SIZE_BOUNDS.maxCodebookSize}, got ${codebookSize}`);
  }
  if (!Number.isInteger(dim) || dim < 1 || dim > SIZE_BOUNDS.maxDim) throw new Error(`${name}: code dimension d must be an integer from 1 to ${SIZE_BOUNDS.maxDim}, got ${dim}`);
  checkCodebookValues(name, [['K', codebookSize], ['d', dim]]);
}

/**
 * Refuses codebooks of more than SIZE_BOUNDS.maxCodebookValues floats in all; `factors` name the
 * sizes whose product that is, e.g. [['K', 1024], ['d', 64]].
 */
export function checkCodebookValues(name: string, factors: readonly (readonly [string, number])[]): void {
  const values = factors.reduce((n, [, v]) => n * v, 1);
  if (values > SIZE_BOUNDS.maxCodebookValues) {
    const names = factors.map(([n]) => n).join(' × ');
    throw new Error(`${name}: codebooks of ${names} = ${factors.map(([, v]) => v).join(' × ')} values are more than the ${SIZE_BOUNDS.maxCodebookValues} (4 GiB of float32) allowed; make ${factors.map(([n]) => n).join(' or ')} smaller`);
  }
}

function validateBeta(name: string, beta: number): void {
  if (!(typeof beta === 'number' && Number.isFinite(beta) && beta >= 0)) throw new Error(`${name}: beta must be a finite number >= 0, got ${shownValue(beta)}`);
}

export function validateNonNegative(name: string, option: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new Error(`${name}: ${option} must be a finite number >= 0, got ${shownValue(value)}`);
}

export function validateChoice<T extends string>(name: string, option: string, value: T, choices: readonly T[]): void {
  if (!choices.includes(value)) throw new Error(`${name}: ${option} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${quotedValue(value)}`);
}

function validateSearch(name: string, search: SearchBlocking | undefined): void {
  if (search === undefined) return;
  for (const key of Object.keys(search)) {
    if (!['chunkM', 'chunkK', 'group'].includes(key)) throw new Error(`${name}: unknown search option ${quotedValue(key)}; valid: chunkM, chunkK, group`);
  }
  for (const [key, v] of Object.entries(search) as [string, unknown][]) {
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`${name}: search.${key} must be an integer >= 1, got ${shownValue(v)}`);
  }
}

/** Reject option names a quantizer does not know (catches typos such as `betta`). */
function rejectUnknownKeys(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${name}: unknown option ${quotedValue(key)}; valid options: ${known.join(', ')}`);
  }
}

/**
 * The options every quantizer shares, validated once and kept as fields, with their part of the
 * quantizer's `config`. VectorQuantizer, EmaVectorQuantizer and SimVQ extend it.
 */
export abstract class QuantizerBase {
  readonly codebookSize: number;
  readonly dim: number;
  readonly beta: number;
  readonly weight: number;
  readonly search: SearchBlocking;

  protected constructor(name: string, o: CommonQuantizerOptions) {
    const c = commonOptions(name, o);
    this.codebookSize = c.codebookSize;
    this.dim = c.dim;
    this.beta = c.beta;
    this.weight = c.weight;
    this.search = c.search;
  }

  /** `config` = kind and the shared options, then `specific`, then the search blocking if set. */
  protected configWith(kind: string, specific: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    return {
      kind,
      codebookSize: this.codebookSize,
      dim: this.dim,
      beta: this.beta,
      weight: this.weight,
      ...specific,
      ...(Object.keys(this.search).length ? { search: { ...this.search } } : {}),
    };
  }
}

/** Validate the common options and return them with defaults filled in. */
function commonOptions(name: string, o: CommonQuantizerOptions): { codebookSize: number; dim: number; beta: number; weight: number; search: SearchBlocking } {
  if (o === null || typeof o !== 'object') throw new Error(`${name}: options must be an object with at least codebookSize and dim`);
  validateCodebookShape(name, o.codebookSize, o.dim);
  const beta = o.beta ?? 0.25;
  const weight = o.weight ?? 1;
  validateBeta(name, beta);
  validateNonNegative(name, 'weight', weight);
  validateSearch(name, o.search);
  return { codebookSize: o.codebookSize, dim: o.dim, beta, weight, search: { ...(o.search ?? {}) } };
}

// ------------------------------------------------------------------ the option vocabulary

/**
 * How one option of a quantizer is described: its type, bounds, default (as shown in help) and a
 * one-line doc. The registry (registry.ts) validates API options, config files and command-line
 * values against these, and `vqlab train --help` prints them.
 */
export interface OptionSpec {
  readonly type: 'integer' | 'number' | 'boolean' | 'choice' | 'integer-list' | 'search';
  /** One line for --help and the README. */
  readonly doc: string;
  /** The default as shown in help ('0.25', '1/K', 'off'); absent for required options. */
  readonly default?: string;
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** `min` itself is not allowed (e.g. a scale > 0). */
  readonly minExclusive?: boolean;
  /** `max` itself is not allowed (e.g. a decay < 1). */
  readonly maxExclusive?: boolean;
  readonly choices?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The options every codebook quantizer (VQ, EMA-VQ, SimVQ, LFQ) shares. */
export const COMMON_OPTIONS: OptionSpecs = {
  codebookSize: { type: 'integer', min: 1, max: SIZE_BOUNDS.maxCodebookSize, required: true, doc: 'K, the number of codes' },
  dim: { type: 'integer', min: 1, max: SIZE_BOUNDS.maxDim, required: true, doc: "d, the code dimension (= the encoder's output channels)" },
  beta: { type: 'number', min: 0, default: '0.25', doc: 'β, weight of the commitment loss ‖z_e − sg(q)‖²' },
  weight: { type: 'number', min: 0, default: '1', doc: 'overall weight of the quantizer loss' },
  search: { type: 'search', default: 'auto', doc: 'block sizes {chunkM, chunkK, group} of the nearest-code search (speed and memory only)' },
};

function describeBounds(s: OptionSpec): string {
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? '>' : '>='} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? '<' : '<='} ${s.max}`);
  return parts.join(' and ');
}

function inBounds(s: OptionSpec, v: number): boolean {
  if (s.min !== undefined && (s.minExclusive ? !(v > s.min) : !(v >= s.min))) return false;
  if (s.max !== undefined && (s.maxExclusive ? !(v < s.max) : !(v <= s.max))) return false;
  return true;
}

/** What `value` must be, for error messages: "an integer >= 1", "one of 'W', 'C', 'both'". */
function expectedValue(s: OptionSpec): string {
  const bounds = describeBounds(s);
  switch (s.type) {
    case 'integer':
      return `an integer${bounds ? ` ${bounds}` : ''}`;
    case 'number':
      return `a finite number${bounds ? ` ${bounds}` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${(s.choices ?? []).map((c) => `'${c}'`).join(', ')}`;
    case 'integer-list':
      return `a non-empty list of integers${bounds ? ` ${bounds}` : ''}`;
    case 'search':
      return 'an object with integer chunkM, chunkK, group >= 1';
  }
}


/** Check one value against its spec; throws `${where}: option must be …, got …`. */
function checkOptionValue(where: string, key: string, s: OptionSpec, value: unknown): void {
  let ok: boolean;
  switch (s.type) {
    case 'integer':
      ok = typeof value === 'number' && Number.isInteger(value) && inBounds(s, value);
      break;
    case 'number':
      ok = typeof value === 'number' && Number.isFinite(value) && inBounds(s, value);
      break;
    case 'boolean':
      ok = typeof value === 'boolean';
      break;
    case 'choice':
      ok = typeof value === 'string' && (s.choices ?? []).includes(value);
      break;
    case 'integer-list':
      ok = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isInteger(v) && inBounds(s, v));
      break;
    case 'search':
      validateSearch(where, value as SearchBlocking);
      ok = value !== null && typeof value === 'object';
      break;
  }
  if (!ok) throw new Error(`${where}: ${key} must be ${expectedValue(s)}, got ${quotedValue(value)}`);
}

/**
 * Validate a whole option object against `specs`: unknown names are refused with the valid ones
 * listed, required ones must be present, every value must fit its spec. `undefined` values count
 * as absent.
 */
export function checkOptions(where: string, options: Readonly<Record<string, unknown>>, specs: OptionSpecs): void {
  rejectUnknownKeys(where, Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)), Object.keys(specs));
  for (const [key, s] of Object.entries(specs)) {
    const v = options[key];
    if (v === undefined) {
      if (s.required) throw new Error(`${where}: missing required option '${key}' (${s.doc})`);
      continue;
    }
    checkOptionValue(where, key, s, v);
  }
}

/** Parse a command-line value ("0.99", "true", "8,5,5,5" or "8x5x5x5") into the spec's type. */
export function parseOptionValue(where: string, key: string, s: OptionSpec, text: string): unknown {
  const fail = (): never => {
    throw new Error(`${where}: ${key} must be ${expectedValue(s)}, got '${text}'`);
  };
  const t = text.trim();
  let value: unknown;
  switch (s.type) {
    case 'integer':
    case 'number':
      if (t === '' || !Number.isFinite(Number(t))) fail();
      value = Number(t);
      break;
    case 'boolean':
      if (t !== 'true' && t !== 'false') fail();
      value = t === 'true';
      break;
    case 'choice':
      value = t;
      break;
    case 'integer-list':
      value = t.split(/[,x]/).map((p) => (p.trim() === '' ? NaN : Number(p)));
      break;
    case 'search':
      throw new Error(`${where}: ${key} is set through the API or a config file, not on the command line`);
  }
  checkOptionValue(where, key, s, value);
  return value;
}

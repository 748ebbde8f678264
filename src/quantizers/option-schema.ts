/**
 * The option schema of the quantizers: each option is defined once — its type, bounds, default and
 * one-line doc — and everything else is derived from that definition:
 *
 *   OptionValues<S>   the resolved options a constructor receives (every option with a default is
 *                     present; the others are optional), inferred from the schema's literal types;
 *   OptionInput<S>    what a caller may pass (only required options are required);
 *   resolveOptions    the one validation: unknown names refused with the valid ones listed,
 *                     required ones demanded, every value (default values included) checked against
 *                     its definition, defaults filled in declaration order;
 *   parseOptionValue  a command-line value ("0.99", "true", "8,5,5,5") in the option's type;
 *   describeDefault   the default as `--help` and the README print it;
 *   savedOptions      the options a quantizer writes into its `config` (see `SavedWhen`).
 *
 * A default is a value, or `derived(text, from)` when it follows from other options (VQ's initScale
 * is 1/K for a uniform init and 1 for a normal one); derived defaults are computed after every
 * other option is resolved, from those values.
 */
import { quotedValue } from '../limits/shown-value.js';
import type { SearchBlocking } from './nearest-code.js';

/** A default that follows from other resolved options; `text` says how, for help. */
export interface DerivedDefault<T> {
  readonly text: string;
  readonly from: (resolved: ResolvedSoFar) => T;
}

/** The options resolved before a derived default is computed. */
export interface ResolvedSoFar {
  number(key: string): number;
  string(key: string): string;
  value(key: string): unknown;
}

export function derived<T>(text: string, from: (resolved: ResolvedSoFar) => T): DerivedDefault<T> {
  return { text, from };
}

/**
 * When an option is written into the quantizer's `config` (config.json): always (unset), only when
 * it differs from its default ('unless-default', so configs stay short), or when a rule over the
 * resolved options holds (the usage decay only matters while dead codes are replaced).
 */
export type SavedWhen = 'unless-default' | ((resolved: ResolvedSoFar) => boolean);

interface Documented<T> {
  /** One line for --help and the README. */
  readonly doc: string;
  readonly default?: T | DerivedDefault<T>;
  /** No default: a caller must set it. */
  readonly required?: true;
  readonly saved?: SavedWhen;
}

interface Bounded {
  readonly min?: number;
  readonly max?: number;
  /** `min` itself is not allowed (a scale > 0). */
  readonly minExclusive?: boolean;
  /** `max` itself is not allowed (a decay < 1). */
  readonly maxExclusive?: boolean;
}

export interface IntegerOption extends Documented<number>, Bounded {
  readonly type: 'integer';
}
export interface NumberOption extends Documented<number>, Bounded {
  readonly type: 'number';
}
export interface BooleanOption extends Documented<boolean> {
  readonly type: 'boolean';
}
export interface ChoiceOption<C extends string = string> extends Documented<C> {
  readonly type: 'choice';
  readonly choices: readonly C[];
}
export interface IntegerListOption extends Documented<readonly number[]>, Bounded {
  readonly type: 'integer-list';
}
/** Block sizes of the nearest-code search: speed and memory only, set through the API. */
export interface SearchOption extends Documented<SearchBlocking> {
  readonly type: 'search';
}

export type OptionDefinition = IntegerOption | NumberOption | BooleanOption | ChoiceOption | IntegerListOption | SearchOption;
export type OptionSchema = Readonly<Record<string, OptionDefinition>>;

/** The type of an option's value. */
export type OptionValue<D> = D extends { readonly type: 'integer' | 'number' }
  ? number
  : D extends { readonly type: 'boolean' }
    ? boolean
    : D extends { readonly type: 'choice'; readonly choices: readonly (infer C)[] }
      ? C
      : D extends { readonly type: 'integer-list' }
        ? readonly number[]
        : D extends { readonly type: 'search' }
          ? SearchBlocking
          : never;

type Resolved<D> = D extends { readonly required: true } ? true : D extends { readonly default: unknown } ? true : false;
type Required<D> = D extends { readonly required: true } ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };

/** The resolved options of schema S: present when required or defaulted, optional otherwise. */
export type OptionValues<S extends OptionSchema> = Flat<
  { readonly [K in keyof S as Resolved<S[K]> extends true ? K : never]: OptionValue<S[K]> } & {
    readonly [K in keyof S as Resolved<S[K]> extends true ? never : K]?: OptionValue<S[K]>;
  }
>;

/** What a caller passes for schema S: the required options, and any others (`undefined` = unset). */
export type OptionInput<S extends OptionSchema> = Flat<
  { readonly [K in keyof S as Required<S[K]> extends true ? K : never]: OptionValue<S[K]> } & {
    readonly [K in keyof S as Required<S[K]> extends true ? never : K]?: OptionValue<S[K]> | undefined;
  }
>;

function isDerived(d: unknown): d is DerivedDefault<unknown> {
  return typeof d === 'object' && d !== null && !Array.isArray(d) && typeof (d as { from?: unknown }).from === 'function';
}

function describeBounds(s: Bounded): string {
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? '>' : '>='} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? '<' : '<='} ${s.max}`);
  return parts.join(' and ');
}

function inBounds(s: Bounded, v: number): boolean {
  if (s.min !== undefined && (s.minExclusive ? !(v > s.min) : !(v >= s.min))) return false;
  if (s.max !== undefined && (s.maxExclusive ? !(v < s.max) : !(v <= s.max))) return false;
  return true;
}

/** What a value must be, for error messages: "an integer >= 1", "one of 'W', 'C', 'both'". */
function expectedValue(s: OptionDefinition): string {
  switch (s.type) {
    case 'integer': {
      const bounds = describeBounds(s);
      return `an integer${bounds ? ` ${bounds}` : ''}`;
    }
    case 'number': {
      const bounds = describeBounds(s);
      return `a finite number${bounds ? ` ${bounds}` : ''}`;
    }
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${s.choices.map((c) => `'${c}'`).join(', ')}`;
    case 'integer-list': {
      const bounds = describeBounds(s);
      return `a non-empty list of integers${bounds ? ` ${bounds}` : ''}`;
    }
    case 'search':
      return 'an object with integer chunkM, chunkK, group >= 1';
  }
}

const SEARCH_KEYS: readonly string[] = ['chunkM', 'chunkK', 'group'];

function validSearch(where: string, key: string, value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const [k, v] of Object.entries(value)) {
    if (!SEARCH_KEYS.includes(k)) throw new Error(`${where}: unknown ${key} option ${quotedValue(k)}; valid: ${SEARCH_KEYS.join(', ')}`);
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`${where}: ${key}.${k} must be an integer >= 1, got ${quotedValue(v)}`);
  }
  return true;
}

/** Check one value against its definition; throws `${where}: key must be …, got …`. */
function checkValue(where: string, key: string, s: OptionDefinition, value: unknown): void {
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
      ok = typeof value === 'string' && s.choices.includes(value);
      break;
    case 'integer-list':
      ok = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isInteger(v) && inBounds(s, v));
      break;
    case 'search':
      ok = validSearch(where, key, value);
      break;
  }
  if (!ok) throw new Error(`${where}: ${key} must be ${expectedValue(s)}, got ${quotedValue(value)}`);
}

/** A copy that the resolved options own (lists and search blockings are not shared with the caller). */
function owned(value: unknown): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (value !== null && typeof value === 'object') return { ...value };
  return value;
}

/**
 * Validate `raw` against `schema` and fill in the defaults: unknown names are refused with the valid
 * ones listed, required ones must be present, every value must fit its definition. `undefined`
 * values count as absent. The result has the schema's key order.
 */
export function resolveOptions<S extends OptionSchema>(where: string, schema: S, raw: Readonly<Record<string, unknown>>): OptionValues<S> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: options must be an object`);
  const known = Object.keys(schema);
  for (const [key, v] of Object.entries(raw)) {
    if (v !== undefined && !known.includes(key)) throw new Error(`${where}: unknown option ${quotedValue(key)}; valid options: ${known.join(', ')}`);
  }
  const out: Record<string, unknown> = {};
  const pending: [string, OptionDefinition, DerivedDefault<unknown>][] = [];
  for (const [key, s] of Object.entries(schema)) {
    const given = raw[key];
    if (given !== undefined) {
      checkValue(where, key, s, given);
      out[key] = owned(given);
    } else if (isDerived(s.default)) {
      pending.push([key, s, s.default]);
      out[key] = undefined; // holds the key's place in the order
    } else if (s.default !== undefined) {
      out[key] = owned(s.default);
    } else if (s.required) {
      throw new Error(`${where}: missing required option '${key}' (${s.doc})`);
    }
    // An optional option without a default (the search blocking) stays absent when unset.
  }
  const soFar = readerOf(out);
  for (const [key, s, d] of pending) {
    const value = d.from(soFar);
    checkValue(where, key, s, value);
    out[key] = value;
  }
  return out as OptionValues<S>;
}

function readerOf(values: Readonly<Record<string, unknown>>): ResolvedSoFar {
  return {
    number: (key) => values[key] as number,
    string: (key) => values[key] as string,
    value: (key) => values[key],
  };
}

/** The default value of `s` for the resolved options `values` (undefined when it has none). */
function defaultValue(s: OptionDefinition, values: ResolvedSoFar): unknown {
  return isDerived(s.default) ? s.default.from(values) : s.default;
}

/**
 * The resolved options as a quantizer's `config` writes them: in the schema's order, unset ones
 * and those whose `saved` rule says so left out.
 */
export function savedOptions(schema: OptionSchema, resolved: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const values = readerOf(resolved);
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) {
    const value = resolved[key];
    if (value === undefined) continue;
    if (s.saved === 'unless-default' && JSON.stringify(value) === JSON.stringify(defaultValue(s, values))) continue;
    if (typeof s.saved === 'function' && !s.saved(values)) continue;
    out[key] = owned(value);
  }
  return out;
}

/** Parse a command-line value ("0.99", "true", "8,5,5,5" or "8x5x5x5") into the option's type. */
export function parseOptionValue(where: string, key: string, s: OptionDefinition, text: string): unknown {
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
  checkValue(where, key, s, value);
  return value;
}

/** The default as help prints it: 'required', the value ('0.25', '8,5,5,5'), or a derived rule's text. */
export function describeDefault(s: OptionDefinition): string {
  if (s.required) return 'required';
  const d = s.default;
  if (d === undefined) return 'unset';
  if (isDerived(d)) return d.text;
  if (Array.isArray(d)) return d.join(',');
  return String(d);
}

/** Whether the option can be written on the command line (the search blocking cannot). */
export function settableFromCommandLine(s: OptionDefinition): boolean {
  return s.type !== 'search';
}

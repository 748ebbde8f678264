/**
 * Option validation shared by the quantizers: every check throws an Error that names the
 * quantizer, the option and the offending value, so a bad config fails when the quantizer is
 * constructed rather than as a shape error (or silent NaN) deep inside a training graph.
 */
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

export const COMMON_OPTION_KEYS = ['codebookSize', 'dim', 'beta', 'weight', 'search'] as const;

function validateCodebookShape(name: string, codebookSize: number, dim: number): void {
  if (!Number.isInteger(codebookSize) || codebookSize < 1) throw new Error(`${name}: codebook size K must be an integer >= 1, got ${codebookSize}`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${name}: code dimension d must be an integer >= 1, got ${dim}`);
}

function validateBeta(name: string, beta: number): void {
  if (!(typeof beta === 'number' && Number.isFinite(beta) && beta >= 0)) throw new Error(`${name}: beta must be a finite number >= 0, got ${String(beta)}`);
}

export function validateNonNegative(name: string, option: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new Error(`${name}: ${option} must be a finite number >= 0, got ${String(value)}`);
}

export function validateChoice<T extends string>(name: string, option: string, value: T, choices: readonly T[]): void {
  if (!choices.includes(value)) throw new Error(`${name}: ${option} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got '${String(value)}'`);
}

function validateSearch(name: string, search: SearchBlocking | undefined): void {
  if (search === undefined) return;
  for (const key of Object.keys(search)) {
    if (!['chunkM', 'chunkK', 'group'].includes(key)) throw new Error(`${name}: unknown search option '${key}'; valid: chunkM, chunkK, group`);
  }
  for (const [key, v] of Object.entries(search) as [string, unknown][]) {
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new Error(`${name}: search.${key} must be an integer >= 1, got ${String(v)}`);
  }
}

/** Reject option names a quantizer does not know (catches typos such as `betta`). */
export function rejectUnknownKeys(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${name}: unknown option '${key}'; valid options: ${known.join(', ')}`);
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

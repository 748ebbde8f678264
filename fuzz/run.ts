/**
 * Running fuzz cases against one target and judging each outcome. A case is a pure function of
 * (seed, target name, case number), so any failure replays alone with `--target T --case N`.
 *
 * A case passes when the parser returns or resolves (a valid file) or throws or rejects with one
 * of the target's refusal classes and a one-line message. It fails on any other exception (TypeError, RangeError, an
 * allocation failure), on a refusal whose message spans lines or reads like an engine error
 * escaping through a wrapper ("Cannot read properties of undefined"), on taking longer than
 * CASE_TIME_LIMIT_MS, and on a case raising the process's peak resident memory more than
 * RSS_GROWTH_LIMIT_MB above what was resident when it began (the caps under FUZZ_LIMITS allow a
 * few tens of MB per case). The bound is per case, not per run: over 100,000 cases garbage that
 * the collector has not yet returned, and allocator fragmentation, move the resident size too.
 */
import { Rng } from '../src/init/rng.js';
import type { FuzzTarget } from './targets.js';

const CASE_TIME_LIMIT_MS = 2000;
const RSS_GROWTH_LIMIT_MB = 256;
/**
 * Every this many cases the loop yields to the event loop and, with --expose-gc (npm run fuzz),
 * collects, so that the resident size stays a measure of live memory. The yield matters: a
 * zlib engine of `gunzipSync` that failed is released by a callback on a later tick, so a loop
 * that never yields holds every one of them (measured: 72 MB over 5,000 corrupt gzip inputs,
 * none after a yield every 500).
 */
const YIELD_EVERY = 1000;
/** A refusal longer than this is not a one-line message a user reads. */
const MAX_MESSAGE_CHARS = 1000;
/** Engine messages that mean a parser dereferenced or allocated what a file declared, unchecked. */
const ENGINE_ERROR = /Cannot read propert|Cannot set propert|is not a function|is not iterable|Maximum call stack|Invalid array length|Invalid typed array length|Array buffer allocation failed|out of memory/i;

export interface CaseFailure {
  readonly target: string;
  readonly seed: number;
  readonly caseNumber: number;
  readonly reason: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly cases: number;
  readonly valid: number;
  readonly refused: number;
  readonly failures: number;
  readonly slowest_case_ms: number;
  readonly peak_rss_mb: number;
}

/** A number from a string, for seeding: FNV-1a over its UTF-16 code units. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Case numbers per run: a case's Rng seed packs (run seed, target) above 21 bits of case number. */
export const MAX_CASES = 2 ** 21;

/** The mutated input of case `caseNumber`, and the seed file it came from. */
function caseInput(target: FuzzTarget, seed: number, caseNumber: number): { bytes: Uint8Array; seedFile: number } {
  // Rng runs its seed through SplitMix64, so neighbouring case numbers give unrelated streams.
  const rng = new Rng(hash(`${target.name}:${seed}`) * MAX_CASES + caseNumber);
  const seedFile = rng.int(target.seedCount);
  return { bytes: target.mutate(seedFile, rng), seedFile };
}

type Outcome = { kind: 'valid' } | { kind: 'refused' } | { kind: 'failed'; reason: string };

async function judge(target: FuzzTarget, run: () => void | Promise<void>): Promise<Outcome> {
  try {
    await run();
    return { kind: 'valid' };
  } catch (err) {
    const name = err instanceof Error ? err.constructor.name : typeof err;
    const message = err instanceof Error ? err.message : String(err);
    if (!target.refusals.some((c) => err instanceof c)) return { kind: 'failed', reason: `uncaught ${name}: ${message.split('\n')[0]!.slice(0, 300)}` };
    if (message.includes('\n')) return { kind: 'failed', reason: `${name} message spans lines: ${JSON.stringify(message.slice(0, 300))}` };
    if (message.length > MAX_MESSAGE_CHARS) return { kind: 'failed', reason: `${name} message of ${message.length} characters: ${message.slice(0, 200)}…` };
    if (ENGINE_ERROR.test(message)) return { kind: 'failed', reason: `${name} wraps an engine error: ${message.slice(0, 300)}` };
    return { kind: 'refused' };
  }
}

/** Runs `cases` cases of `target` (or only case `only`), collecting failures. */
export async function runFuzz(target: FuzzTarget, options: { readonly cases: number; readonly seed: number; readonly only?: number | undefined }): Promise<{ report: FuzzReport; failures: CaseFailure[] }> {
  const failures: CaseFailure[] = [];
  let valid = 0;
  let refused = 0;
  let slowest = 0;
  const collect = (globalThis as { gc?: () => void }).gc;
  let peakSoFar = process.resourceUsage().maxRSS * 1024;
  const first = options.only ?? 0;
  const last = options.only ?? options.cases - 1;
  for (let n = first; n <= last; n++) {
    if (n % YIELD_EVERY === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      collect?.();
    }
    const { bytes, seedFile } = caseInput(target, options.seed, n);
    const residentBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    const outcome = await judge(target, () => target.parse(bytes, seedFile));
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    const fail = (reason: string): void => void failures.push({ target: target.name, seed: options.seed, caseNumber: n, reason });
    if (outcome.kind === 'failed') fail(outcome.reason);
    else if (outcome.kind === 'valid') valid++;
    else refused++;
    if (ms > CASE_TIME_LIMIT_MS) fail(`took ${Math.round(ms)} ms, over ${CASE_TIME_LIMIT_MS}`);
    const peak = process.resourceUsage().maxRSS * 1024;
    if (peak > peakSoFar) {
      const grownMb = (peak - residentBefore) / 2 ** 20;
      if (grownMb > RSS_GROWTH_LIMIT_MB) fail(`raised peak resident memory to ${Math.round(peak / 2 ** 20)} MB, ${Math.round(grownMb)} MB above where it began (over ${RSS_GROWTH_LIMIT_MB})`);
      peakSoFar = peak;
    }
  }
  return {
    report: {
      target: target.name,
      cases: last - first + 1,
      valid,
      refused,
      failures: failures.length,
      slowest_case_ms: Math.round(slowest * 10) / 10,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    failures,
  };
}

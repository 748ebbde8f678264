/**
 * Reading and writing an experiment's results: results.json (the source of truth the report is
 * rebuilt from) and results.csv (one row per run, for spreadsheets and scripts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { resolveQuantizerConfig } from '../quantizers/registry.js';
import { gridPointOf, simvqOptimizeOf } from './run-quantizer.js';
import { savedRunResult } from './saved-run-spec.js';
import { testCodesCovering, testEffectiveBits, trainSetCodesCovering, trainSetEffectiveBits } from './spread-metrics.js';
import type { ExperimentResults, RunResult } from './types.js';

const RESULTS_JSON = 'results.json';
const RESULTS_CSV = 'results.csv';

export async function writeResults(dir: string, results: ExperimentResults): Promise<void> {
  await writeFileAtomic(join(dir, RESULTS_JSON), `${JSON.stringify(results, null, 1)}\n`);
  await writeFileAtomic(join(dir, RESULTS_CSV), resultsCsv(results.runs));
}

export function readResults(dir: string): ExperimentResults {
  const path = join(dir, RESULTS_JSON);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)} (run an experiment into this directory first)`);
  }
  return checkResults(parsed, path);
}

/** Structural check of parsed results.json: enough to render a report, with a clear error otherwise. */
export function checkResults(value: unknown, where: string): ExperimentResults {
  const fail = (what: string): never => { throw new Error(`${where}: not an experiment results file (${what})`); };
  if (typeof value !== 'object' || value === null) fail('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v['version'] !== 1) fail(`unsupported version ${String(v['version'])}`);
  if (typeof v['experiment'] !== 'string') fail('missing "experiment"');
  if (!Array.isArray(v['runs'])) fail('missing "runs" array');
  for (const [i, r] of (v['runs'] as unknown[]).entries()) {
    const run = r as Record<string, unknown> | null;
    if (!run || typeof run['spec'] !== 'object' || typeof run['metrics'] !== 'object' || !Array.isArray(run['usage'])) fail(`run ${i} lacks spec/metrics/usage`);
  }
  const runs = (v['runs'] as Record<string, unknown>[]).map((run, i) => {
    try {
      return savedRunResult(run);
    } catch (err) {
      return fail(`run ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return { ...(value as ExperimentResults), runs };
}

interface Column {
  readonly name: string;
  readonly get: (r: RunResult) => string | number | null | undefined;
}

/** Options with a results.csv column of their own, and d (the same for every run of an experiment). */
const OPTION_COLUMNS: readonly string[] = ['codebookSize', 'beta', 'optimize', 'dim'];

/**
 * The quantizer's other options that differ from their defaults, as JSON in the schema's order
 * (undefined when none do). An option counts as set when resolving the config without it gives
 * another value (or fails: the option is required, or others depend on it).
 */
function setQuantizerOptions(r: RunResult): string | undefined {
  const { kind, ...options } = r.spec.quantizer;
  const set = Object.entries(options).filter(([key, value]) => {
    if (OPTION_COLUMNS.includes(key)) return false;
    const without: Record<string, unknown> = { ...options, [key]: undefined };
    try {
      const resolved: Readonly<Record<string, unknown>> = resolveQuantizerConfig(kind, without);
      return JSON.stringify(resolved[key]) !== JSON.stringify(value);
    } catch {
      return true;
    }
  });
  return set.length ? JSON.stringify(Object.fromEntries(set)) : undefined;
}

/** CSV columns, one row per run. Units: utilization as a fraction, times in seconds, PSNR in dB. */
const CSV_COLUMNS: readonly Column[] = [
  { name: 'id', get: (r) => r.spec.id },
  { name: 'experiment', get: (r) => r.spec.experiment },
  { name: 'variant', get: (r) => r.spec.variant },
  { name: 'quantizer', get: (r) => r.spec.quantizer.kind },
  { name: 'quantizer_options', get: setQuantizerOptions },
  { name: 'codebook_size', get: (r) => gridPointOf(r.spec).codebookSize },
  { name: 'beta', get: (r) => gridPointOf(r.spec).beta },
  { name: 'simvq_optimize', get: (r) => simvqOptimizeOf(r.spec.quantizer) },
  { name: 'seed', get: (r) => r.spec.seed },
  { name: 'epochs', get: (r) => r.spec.epochs },
  { name: 'train_limit', get: (r) => r.spec.trainLimit },
  { name: 'test_limit', get: (r) => r.spec.testLimit },
  { name: 'utilization', get: (r) => r.metrics.utilization },
  { name: 'perplexity', get: (r) => r.metrics.perplexity },
  { name: 'dead_codes', get: (r) => r.metrics.dead_codes },
  { name: 'mse', get: (r) => r.metrics.mse },
  { name: 'psnr', get: (r) => r.metrics.psnr },
  { name: 'ssim', get: (r) => r.metrics.ssim },
  { name: 'train_set_utilization', get: (r) => r.metrics.train_set?.utilization },
  { name: 'train_set_used_codes', get: (r) => r.metrics.train_set?.used_codes },
  { name: 'train_set_perplexity', get: (r) => r.metrics.train_set?.perplexity },
  { name: 'train_seconds', get: (r) => r.timing.train_seconds },
  { name: 'eval_seconds', get: (r) => r.timing.eval_seconds },
  { name: 'images_per_second', get: (r) => r.timing.images_per_second },
  { name: 'threads', get: (r) => r.timing.threads },
  // After the older columns, so scripts that read columns by position keep working.
  { name: 'effective_bits', get: testEffectiveBits },
  { name: 'codes_covering_50', get: (r) => testCodesCovering(r, 50) },
  { name: 'codes_covering_90', get: (r) => testCodesCovering(r, 90) },
  { name: 'train_set_effective_bits', get: trainSetEffectiveBits },
  { name: 'train_set_codes_covering_50', get: (r) => trainSetCodesCovering(r, 50) },
  { name: 'train_set_codes_covering_90', get: (r) => trainSetCodesCovering(r, 90) },
];

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Columns of speech runs, after all others, written only where some run is one (image results keep their columns). */
const SPEECH_COLUMNS: readonly Column[] = [
  { name: 'stoi', get: (r) => r.metrics.stoi },
  { name: 'si_snr', get: (r) => r.metrics.si_snr },
  { name: 'mel_distance', get: (r) => r.metrics.mel_distance },
  { name: 'audio_seconds_per_second', get: (r) => r.timing.audio_seconds_per_second },
];

function resultsCsv(runs: readonly RunResult[]): string {
  const columns = runs.some((r) => r.metrics.stoi !== undefined) ? [...CSV_COLUMNS, ...SPEECH_COLUMNS] : CSV_COLUMNS;
  const lines = [columns.map((c) => c.name).join(',')];
  for (const r of runs) lines.push(columns.map((c) => csvCell(c.get(r))).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * The ORT thread counts the runs trained with, for captions and the report: "2", or "1 or 2" when
 * runs differ; runs that did not record theirs add "unrecorded".
 */
export function describeRunThreads(runs: readonly RunResult[]): string {
  const counts = [...new Set(runs.map((r) => r.timing.threads))];
  const known = counts.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const parts = known.map(String);
  if (counts.includes(undefined)) parts.push('unrecorded');
  return parts.length <= 1 ? (parts[0] ?? 'unrecorded') : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)!}`;
}

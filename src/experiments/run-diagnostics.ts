/**
 * The training-set diagnostics a run took while it trained (`--diagnose-every`; eval/diagnostics.ts),
 * carried into its result so that results.json, and the views committed from it, hold the curve of
 * full training-set utilization, perplexity, code coverage and W's spectrum by epoch — the evidence
 * for where a long run settled, which the per-epoch batch utilization of metrics.jsonl only
 * approximates.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DIAGNOSTICS_FILE, type DiagnosticsRecord } from '../eval/diagnostics.js';

/** Far above a run's log (about 2 KB an epoch), far below what would strain memory. */
const MAX_DIAGNOSTICS_BYTES = 16 * 1024 * 1024;

function isRecord(v: unknown): v is DiagnosticsRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['epoch'] === 'number' && typeof r['utilization'] === 'number' && typeof r['perplexity'] === 'number';
}

/**
 * The records of `runDir`'s diagnostics.jsonl in epoch order, one per epoch (the last written wins,
 * as a resumed run may diagnose an epoch again), or undefined when the run took none. A line that
 * does not parse, the torn last line of a run stopped while appending it, is skipped.
 */
export function readRunDiagnostics(runDir: string): DiagnosticsRecord[] | undefined {
  const path = join(runDir, DIAGNOSTICS_FILE);
  if (!existsSync(path)) return undefined;
  const size = statSync(path).size;
  if (size > MAX_DIAGNOSTICS_BYTES) throw new Error(`${path} is ${size} bytes, more than a run's diagnostics can be (${MAX_DIAGNOSTICS_BYTES}); it is not a vqlab diagnostics log: move it out of the run directory`);
  const byEpoch = new Map<number, DiagnosticsRecord>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isRecord(parsed)) byEpoch.set(parsed.epoch, parsed);
  }
  const records = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return records.length > 0 ? records : undefined;
}

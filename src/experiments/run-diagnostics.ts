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
import { completeRecords } from '../train/metrics-log.js';

/** Far above a run's log (about 2 KB an epoch), far below what would strain memory. */
const MAX_DIAGNOSTICS_BYTES = 16 * 1024 * 1024;

/**
 * The records of `runDir`'s diagnostics.jsonl in epoch order, one per epoch (the last written wins,
 * as a resumed run may diagnose an epoch again), or undefined when the run took none. Lines are
 * read as metrics.jsonl's are (a line torn by a stop mid-append is skipped), and a line without
 * its utilization and perplexity is not a diagnostics record.
 */
export function readRunDiagnostics(runDir: string): DiagnosticsRecord[] | undefined {
  const path = join(runDir, DIAGNOSTICS_FILE);
  if (!existsSync(path)) return undefined;
  const size = statSync(path).size;
  if (size > MAX_DIAGNOSTICS_BYTES) throw new Error(`${path} is ${size} bytes, more than a run's diagnostics can be (${MAX_DIAGNOSTICS_BYTES}); it is not a vqlab diagnostics log: move it out of the run directory`);
  const byEpoch = new Map<number, DiagnosticsRecord>();
  for (const { record } of completeRecords<DiagnosticsRecord>(readFileSync(path, 'utf8'))) {
    if (typeof record.utilization === 'number' && typeof record.perplexity === 'number') byEpoch.set(record.epoch, record);
  }
  const records = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return records.length > 0 ? records : undefined;
}

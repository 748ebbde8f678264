/**
 * Reading a run's metrics.jsonl (one JSON object per epoch, written by the trainer) into per-epoch
 * records for loss curves and timing. Nested objects are flattened ("loss": {"recon": …} becomes
 * "loss.recon") so the reader does not depend on how the trainer groups its numbers.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { EpochRecord } from './types.js';

function flatten(prefix: string, value: unknown, out: Record<string, number>): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out[prefix] = value;
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  }
}

/**
 * Per-epoch records from metrics.jsonl. Lines that are not epoch summaries (no numeric "epoch"),
 * or that are truncated by an interrupted write, are skipped; a later line for the same epoch (after
 * a resume) replaces the earlier one.
 */
export function readMetricsLog(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  const byEpoch = new Map<number, EpochRecord>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let obj: unknown;
    try { obj = JSON.parse(line); } catch { continue; }
    const values: Record<string, number> = {};
    flatten('', obj, values);
    const epoch = values['epoch'];
    if (epoch === undefined) continue;
    // Only epoch-level records (the trainer may also log other events, marked by a "type"/"kind").
    const rec = obj as Record<string, unknown>;
    const type = rec['type'] ?? rec['kind'] ?? rec['event'];
    if (type !== undefined && type !== 'epoch') continue;
    delete values['epoch'];
    byEpoch.set(epoch, { epoch, values });
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Names of the loss terms in the records (keys mentioning "loss", excluding test-set ones first). */
export function lossKeys(records: readonly EpochRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.values)) if (/loss/i.test(k)) keys.add(k);
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/** First key present in the records among candidates (trainers name the same number differently). */
export function findKey(records: readonly EpochRecord[], candidates: readonly string[]): string | undefined {
  for (const c of candidates) if (records.some((r) => c in r.values)) return c;
  return undefined;
}

/**
 * metrics.jsonl: the trainer's per-epoch log, one JSON line per epoch, appended after every epoch.
 *
 * Crash safety without rewriting the file: a line is appended with one write and flushed
 * (fsync) before the epoch's checkpoint is saved. A crash mid-append can leave a torn last line
 * (no newline, or not valid JSON), and a crash between the append and the checkpoint leaves a
 * line for an epoch the checkpoint does not have. `trimMetricsLog`, run when training starts or
 * resumes, drops both, so the log always matches the checkpoint beside it; `readMetricsLog` skips a
 * torn line so a run can be read while it trains.
 */
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../persistence/atomic-file.js';
import { NO_WRITE_FAULTS, type WriteHook } from '../persistence/write-hook.js';
import type { EvalMetrics } from '../eval/evaluator.js';
import type { RuntimeDevice } from '../runtime/runtime.js';

export const METRICS_FILE = 'metrics.jsonl';

/** One line of metrics.jsonl. Loss terms are means over the epoch's steps. */
export interface EpochRecord {
  readonly epoch: number;
  /** Optimizer steps taken when the epoch ended. */
  readonly step: number;
  readonly loss: { readonly reconstruction: number; readonly codebook: number | null; readonly commitment: number | null; readonly quantizer: number; readonly total: number };
  /** From the exact per-code counts summed over the epoch's training batches. */
  readonly utilization: number;
  readonly perplexity: number;
  readonly dead_codes: number;
  /**
   * Codes the quantizer re-seeded between the epoch's steps (k-means initialization, dead-code
   * replacement); present only for quantizers with such options.
   */
  readonly reseeded_codes?: number;
  /**
   * Training throughput of the epoch's steps (wall-clock; differs between identical runs), in the
   * modality's unit (`Modality.throughput`): images per second for an image run, seconds of audio
   * per second for an audio run. A line holds exactly one of the two.
   */
  readonly img_per_s?: number;
  readonly audio_seconds_per_s?: number;
  /** Wall-clock seconds of the epoch, test evaluation included. */
  readonly epoch_seconds: number;
  /** Wall-clock seconds since this invocation of the trainer started. */
  readonly wall_seconds: number;
  readonly lr: number;
  /** Where the epoch's steps ran: 'cpu', or 'webgpu' (`RuntimeDevice`); absent in logs of older vqlab versions. */
  readonly device?: RuntimeDevice;
  /** The GPU adapter as far as the runtime can tell (`Runtime.adapter`); null on the CPU. */
  readonly adapter?: string | null;
  /** Test-set metrics after the epoch, or null when the trainer was told not to evaluate. */
  readonly test: EvalMetrics | null;
}

/** JSON with non-finite numbers as null (JSON has no NaN). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/** Appends one record as one line and flushes it to disk (and the directory entry of a new file). */
export async function appendEpochRecord(path: string, record: EpochRecord): Promise<void> {
  await appendJsonLine(path, record);
}

/** Appends `value` as one JSON line and flushes it to disk (and the directory entry of a new file). */
export async function appendJsonLine(path: string, value: unknown): Promise<void> {
  const created = !existsSync(path);
  const handle = await open(path, 'a');
  try {
    await handle.writeFile(`${jsonLine(value)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await syncDirectory(dirname(path));
}

/**
 * The complete lines of a per-epoch JSON-lines log (metrics.jsonl, diagnostics.jsonl): the
 * newline-terminated ones that are valid JSON objects with a numeric epoch.
 */
export function completeRecords<T extends { readonly epoch: number } = EpochRecord>(text: string): { line: string; record: T }[] {
  const lines = text.split('\n');
  lines.pop(); // after the last '\n': empty, or a line torn by a crash mid-append
  const out: { line: string; record: T }[] = [];
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value === 'object' && value !== null && typeof (value as { epoch?: unknown }).epoch === 'number') {
      out.push({ line, record: value as T });
    }
  }
  return out;
}

/** The records of a run's log in epoch order ([] when there is no log yet); a torn last line is skipped. */
export async function readMetricsLog(path: string): Promise<EpochRecord[]> {
  if (!existsSync(path)) return [];
  return completeRecords(await readFile(path, 'utf8')).map((l) => l.record);
}

/**
 * Makes the log match a checkpoint of `completedEpochs` epochs: lines of later epochs and torn lines
 * are dropped (the file is replaced atomically, and only when something is dropped).
 */
export async function trimMetricsLog(path: string, completedEpochs: number, hook: WriteHook = NO_WRITE_FAULTS): Promise<void> {
  if (!existsSync(path)) return;
  const text = await readFile(path, 'utf8');
  const kept = completeRecords(text).filter((l) => l.record.epoch <= completedEpochs).map((l) => `${l.line}\n`).join('');
  if (kept !== text) await writeFileAtomic(path, kept, hook);
}

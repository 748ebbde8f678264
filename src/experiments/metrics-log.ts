/**
 * A run's training log as experiment curves: the trainer's per-epoch records (train/metrics-log.ts)
 * flattened to name → value ("loss": {"reconstruction": …} becomes "loss.reconstruction"), the form
 * results.json keeps and the per-epoch figures plot, and the run's training time and throughput.
 */
import type { EpochRecord } from '../train/metrics-log.js';
import type { EpochValues } from './types.js';

/** The flattened name of the training-set utilization of an epoch. */
export const TRAIN_UTILIZATION_KEY = 'utilization' satisfies keyof EpochRecord;
/** The flattened name of the mean reconstruction loss of an epoch. */
export const RECONSTRUCTION_LOSS_KEY = `loss.${'reconstruction' satisfies keyof EpochRecord['loss']}`;

function flatten(prefix: string, value: unknown, out: Record<string, number>): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out[prefix] = value;
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  }
}

/** One flattened record per epoch; numbers that were not logged (null, NaN) are left out. */
export function epochCurves(records: readonly EpochRecord[]): EpochValues[] {
  return records.map(({ epoch, ...rest }) => {
    const values: Record<string, number> = {};
    flatten('', rest, values);
    return { epoch, values };
  });
}

/** Names of the training loss terms in the curves, sorted. */
export function lossKeys(curves: readonly EpochValues[]): string[] {
  const keys = new Set<string>();
  for (const c of curves) for (const k of Object.keys(c.values)) if (k.startsWith('loss.')) keys.add(k);
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/** The mean of `key` over the records, or null when the log has no epochs or they did not log it. */
function meanOf(records: readonly EpochRecord[], key: 'img_per_s' | 'audio_seconds_per_s'): number | null {
  const values = records.flatMap((r) => (r[key] === undefined ? [] : [r[key]]));
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

/**
 * Training seconds (summed over epochs) and throughput (mean over epochs) from the log, which
 * covers the epochs run before a resume too: images per second of an image run, seconds of audio
 * per second of a speech run, each null where the log has none.
 */
export function timingFromLog(records: readonly EpochRecord[]): { seconds: number | null; rate: number | null; audioRate: number | null } {
  return {
    seconds: records.length === 0 ? null : records.reduce((s, r) => s + r.epoch_seconds, 0),
    rate: meanOf(records, 'img_per_s'),
    audioRate: meanOf(records, 'audio_seconds_per_s'),
  };
}

/**
 * Stopping a run once its codebook utilization has settled, in either direction. The plateau rule
 * (plateau.ts) asks whether utilization still rises, so it also stops a run whose utilization is
 * falling; to learn where a quantizer's utilization ends up — a budget reached or a ceiling hit — a
 * run must go on until it stops moving at all.
 *
 * The signal is each epoch's training utilization (`EpochRecord.utilization`). The run has settled
 * after epoch e when each of the last `patience` epochs changed it by less than `delta` from the
 * epoch before:
 *
 *   |u_i − u_{i−1}| < delta   for i = e − p + 1 … e
 *
 * Decided from the metrics log alone, so a resumed run reaches the same decision.
 */
export interface SettleRule {
  /** Consecutive epochs of small change that end the run (≥ 1). */
  readonly patience: number;
  /** A change of the utilization fraction below this counts as none (e.g. 0.005 = half a percentage point). */
  readonly delta: number;
}

/** Default change that counts as none: half a percentage point (5 codes at K = 1,024). */
export const DEFAULT_SETTLE_DELTA = 0.005;

/** True when the utilization series (one value per epoch, oldest first) has settled under `rule`. */
export function hasSettled(utilization: readonly number[], rule: SettleRule): boolean {
  const n = utilization.length;
  if (n <= rule.patience) return false;
  for (let i = n - rule.patience; i < n; i++) {
    if (!(Math.abs(utilization[i]! - utilization[i - 1]!) < rule.delta)) return false;
  }
  return true;
}

export function checkSettleRule(rule: SettleRule): string | undefined {
  if (!(Number.isInteger(rule.patience) && rule.patience >= 1)) return `settle patience must be an integer >= 1 (epochs), got ${rule.patience}`;
  if (!(Number.isFinite(rule.delta) && rule.delta > 0 && rule.delta < 1)) return `settle delta must be a utilization fraction in (0, 1), got ${rule.delta}`;
  return undefined;
}

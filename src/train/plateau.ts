/**
 * Stopping a run once its codebook utilization stops rising, for "train until utilization
 * plateaus" comparisons: codebook collapse and its remedies are about where utilization ends up,
 * and a fixed epoch count either stops a slow quantizer early or wastes hours on a settled one.
 *
 * The signal is each epoch's training utilization (codes chosen at least once by the epoch's
 * batches, `EpochRecord.utilization`). The run has plateaued after epoch e when no epoch of the
 * last `patience` ones beat the best utilization before them by more than `minDelta`:
 *
 *   max(u_{e−p+1} … u_e) ≤ max(u_1 … u_{e−p}) + minDelta
 *
 * Decided from the metrics log alone, so a resumed run reaches the same decision.
 */
export interface PlateauRule {
  /** Epochs without a rise that end the run (≥ 1). */
  readonly patience: number;
  /** Smallest rise of the utilization fraction that counts (e.g. 0.005 = half a percentage point). */
  readonly minDelta: number;
}

/** Default smallest rise: half a percentage point (5 codes at K = 1,024). */
export const DEFAULT_PLATEAU_DELTA = 0.005;

/** True when the utilization series (one value per epoch, oldest first) has plateaued under `rule`. */
export function hasPlateaued(utilization: readonly number[], rule: PlateauRule): boolean {
  const n = utilization.length;
  if (n <= rule.patience) return false;
  const before = Math.max(...utilization.slice(0, n - rule.patience));
  const recent = Math.max(...utilization.slice(n - rule.patience));
  return recent <= before + rule.minDelta;
}

export function checkPlateauRule(rule: PlateauRule): string | undefined {
  if (!(Number.isInteger(rule.patience) && rule.patience >= 1)) return `plateau patience must be an integer >= 1 (epochs), got ${rule.patience}`;
  if (!(Number.isFinite(rule.minDelta) && rule.minDelta >= 0 && rule.minDelta < 1)) return `plateau delta must be a utilization fraction in [0, 1), got ${rule.minDelta}`;
  return undefined;
}

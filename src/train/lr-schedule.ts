/**
 * Learning-rate schedules over the optimizer steps of a run: an optional linear warm-up from
 * lr/warmup to lr over the first `warmupSteps` steps (Goyal et al., 2017, §2.2), then either the
 * constant lr or a cosine decay to `minLr` at the last step (Loshchilov & Hutter, 2017, eq. 5,
 * one cycle without restarts).
 */
export interface LrSchedule {
  readonly warmupSteps: number;
  readonly cosine: boolean;
  /** Where the cosine decay ends (default 0). */
  readonly minLr: number;
}

export const CONSTANT_LR: LrSchedule = { warmupSteps: 0, cosine: false, minLr: 0 };

/** The learning rate of step `step` (0-based) of a run of `totalSteps` steps at base rate `lr`. */
export function learningRateAt(lr: number, step: number, totalSteps: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (lr * (step + 1)) / s.warmupSteps;
  if (!s.cosine) return lr;
  const span = Math.max(1, totalSteps - 1 - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return s.minLr + 0.5 * (lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}

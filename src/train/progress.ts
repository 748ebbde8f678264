/**
 * Training progress on stderr. On a terminal: one line redrawn in place (at most ~8 times a
 * second) with a bar, loss, batch code utilization and throughput. Otherwise (CI logs, pipes): a
 * plain line every `everySteps` steps, so logs stay readable.
 */
export interface ProgressState {
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done in this epoch. */
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Share of codes used by the last batch, in [0, 1]. */
  readonly batchUtilization: number;
  /** Training throughput in the reporter's unit (images, or seconds of audio, per second). */
  readonly throughput: number;
  /** Seconds the run's remaining training steps should take at the speed so far. */
  readonly etaSeconds?: number;
}

/** 75 → "1m15s", 4000 → "1h06m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A throughput as shown: whole units from 10 up (321 img/s), one decimal below (4.6 s audio/s). */
export function formatThroughput(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1);
}

export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const REDRAW_MS = 125;

export class ProgressReporter {
  // -Infinity, not 0: performance.now() counts from process start, so 0 would swallow the first
  // draw of a process younger than the redraw interval.
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly enabled: boolean,
    private readonly everySteps = 50,
    /** Where the steps run (`deviceLabel`), shown at the end of the line when given. */
    private readonly device?: string,
    /** The unit of `ProgressState.throughput` (the modality's, `Modality.throughput`). */
    private readonly unit = 'img/s',
  ) {}

  private describe(s: ProgressState): string {
    const eta = s.etaSeconds !== undefined && Number.isFinite(s.etaSeconds) ? `  ETA ${formatDuration(s.etaSeconds)}` : '';
    const on = this.device === undefined ? '' : `  on ${this.device}`;
    return `loss ${s.loss.toPrecision(4)}  util ${(100 * s.batchUtilization).toFixed(1)}%  ${formatThroughput(s.throughput)} ${this.unit}${eta}${on}`;
  }

  update(s: ProgressState): void {
    if (!this.enabled) return;
    if (this.sink.isTTY) {
      const now = performance.now();
      if (now - this.lastDraw < REDRAW_MS && s.step !== s.steps) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round((width * s.step) / s.steps);
      const line = `epoch ${s.epoch}/${s.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${s.step}/${s.steps}  ${this.describe(s)}`;
      const cols = this.sink.columns ?? 120;
      this.sink.write(`\r\x1b[2K${line.slice(0, Math.max(20, cols - 1))}`);
      this.drawn = true;
    } else if (s.step % this.everySteps === 0 || s.step === s.steps) {
      this.sink.write(`epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.steps}  ${this.describe(s)}\n`);
    }
  }

  /** Clear the in-place line (before other output, and at the end). */
  clear(): void {
    if (this.drawn && this.sink.isTTY) this.sink.write('\r\x1b[2K');
    this.drawn = false;
  }
}

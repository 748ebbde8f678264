/** The page's two live charts, drawn on canvases: the loss curve and the code-usage histogram. */

const AXIS = '#888';
const INK = '#1f6feb';

function prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  return ctx;
}

/**
 * Loss per step on a log scale (the loss falls by orders of magnitude early on, then slowly), with
 * a running mean over 10 steps on top so the trend reads through the batch-to-batch noise.
 */
export function drawLossCurve(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const ctx = prepare(canvas);
  const { width, height } = canvas;
  const left = 44;
  const bottom = height - 18;
  ctx.fillStyle = AXIS;
  ctx.fillText('loss (log) per step', left, 12);
  if (losses.length < 2) return;
  const logs = losses.map((l) => Math.log10(Math.max(l, 1e-6)));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  const span = Math.max(hi - lo, 1e-3);
  const x = (i: number): number => left + ((width - left - 8) * i) / (losses.length - 1);
  const y = (v: number): number => 20 + ((bottom - 20) * (hi - v)) / span;
  ctx.fillText(losses[logs.indexOf(hi)]!.toPrecision(3), 2, y(hi) + 4);
  ctx.fillText(losses[logs.indexOf(lo)]!.toPrecision(3), 2, y(lo));
  ctx.fillText(`step ${losses.length}`, width - 60, height - 4);
  ctx.strokeStyle = '#b6c8e6';
  ctx.beginPath();
  logs.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
  ctx.strokeStyle = INK;
  ctx.lineWidth = 2;
  ctx.beginPath();
  let sum = 0;
  logs.forEach((v, i) => {
    sum += v - (i >= 10 ? logs[i - 10]! : 0);
    const mean = sum / Math.min(i + 1, 10);
    if (i === 0) ctx.moveTo(x(i), y(mean));
    else ctx.lineTo(x(i), y(mean));
  });
  ctx.stroke();
  ctx.lineWidth = 1;
}

/**
 * Per-code counts sorted from most to least used: a collapsed codebook shows as a few tall bars and
 * a long flat tail of dead codes, a healthy one as a slow decline across the whole width.
 */
export function drawUsageHistogram(canvas: HTMLCanvasElement, counts: Float64Array): void {
  const ctx = prepare(canvas);
  const { width, height } = canvas;
  const bottom = height - 16;
  const sorted = Array.from(counts).sort((a, b) => b - a);
  const top = sorted[0] ?? 0;
  const used = sorted.filter((c) => c > 0).length;
  ctx.fillStyle = AXIS;
  ctx.fillText(`codes sorted by use — ${used} of ${counts.length} used`, 4, 12);
  ctx.fillText('0', 2, height - 4);
  ctx.fillText(String(counts.length), width - 30, height - 4);
  if (top === 0) return;
  ctx.fillStyle = INK;
  const barWidth = width / sorted.length;
  sorted.forEach((c, i) => {
    if (c === 0) return;
    const h = ((bottom - 18) * c) / top;
    ctx.fillRect(i * barWidth, bottom - h, Math.max(barWidth, 1), h);
  });
  ctx.fillStyle = '#d33';
  if (used < sorted.length) ctx.fillRect(used * barWidth, bottom, (sorted.length - used) * barWidth, 2);
}

/** A grayscale image (values in [0, 1], row-major) onto a canvas of its own size; CSS scales it up. */
export function drawGray(canvas: HTMLCanvasElement, pixels: Float32Array, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i]!)));
    image.data[4 * i] = v;
    image.data[4 * i + 1] = v;
    image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

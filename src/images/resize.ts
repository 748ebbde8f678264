/**
 * Resizing planar (CHW) float images. Each axis is resampled separately: shrinking averages the
 * source pixels an output pixel covers, weighted by overlap (a box filter, which is what "area"
 * resizing means and avoids the aliasing of point sampling); enlarging interpolates linearly
 * between pixel centres (half-pixel-centre convention, edges clamped). Both are linear filters, so
 * each axis becomes a small table of (source index, weight) taps.
 */

interface Taps {
  /** First source index of each output pixel. */
  readonly start: Int32Array;
  /** Number of taps of each output pixel. */
  readonly count: Int32Array;
  /** Weights, `maxTaps` per output pixel. */
  readonly weights: Float64Array;
  readonly maxTaps: number;
}

/** Box-filter taps for shrinking `src` pixels to `dst` (dst < src). */
function areaTaps(src: number, dst: number): Taps {
  const scale = src / dst;
  const maxTaps = Math.ceil(scale) + 1;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float64Array(dst * maxTaps);
  for (let j = 0; j < dst; j++) {
    const lo = j * scale;
    const hi = (j + 1) * scale;
    const first = Math.floor(lo);
    const last = Math.min(src, Math.ceil(hi)); // exclusive
    start[j] = first;
    count[j] = last - first;
    for (let i = first; i < last; i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      weights[j * maxTaps + (i - first)] = overlap / scale;
    }
  }
  return { start, count, weights, maxTaps };
}

/** Linear-interpolation taps for enlarging (or keeping) `src` pixels to `dst` (dst ≥ src). */
function linearTaps(src: number, dst: number): Taps {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float64Array(dst * 2);
  for (let j = 0; j < dst; j++) {
    // Centre of output pixel j in source pixel coordinates, clamped to the outermost centres.
    const x = Math.min(Math.max((j + 0.5) * scale - 0.5, 0), src - 1);
    const i0 = Math.floor(x);
    const frac = x - i0;
    start[j] = i0;
    if (frac === 0 || i0 + 1 >= src) {
      count[j] = 1;
      weights[j * 2] = 1;
    } else {
      count[j] = 2;
      weights[j * 2] = 1 - frac;
      weights[j * 2 + 1] = frac;
    }
  }
  return { start, count, weights, maxTaps: 2 };
}

function tapsFor(src: number, dst: number): Taps {
  return dst < src ? areaTaps(src, dst) : linearTaps(src, dst);
}

/**
 * Resizes a planar CHW image of `channels` × `srcH` × `srcW` to `channels` × `dstH` × `dstW`:
 * box-filter averaging along an axis that shrinks, bilinear along an axis that grows. Returns a
 * copy when the size is unchanged.
 */
export function resizeImage(
  src: Float32Array,
  channels: number,
  srcH: number,
  srcW: number,
  dstH: number,
  dstW: number,
): Float32Array {
  if (src.length !== channels * srcH * srcW) {
    throw new RangeError(`resizeImage: ${src.length} values do not match ${channels}×${srcH}×${srcW}`);
  }
  for (const v of [srcH, srcW, dstH, dstW]) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`resizeImage: sizes must be positive integers, got ${srcH}×${srcW} → ${dstH}×${dstW}`);
  }
  if (srcH === dstH && srcW === dstW) return src.slice();
  const tx = tapsFor(srcW, dstW);
  const ty = tapsFor(srcH, dstH);
  const out = new Float32Array(channels * dstH * dstW);
  // Horizontal pass into a float64 buffer (srcH × dstW), then vertical pass, per channel.
  const mid = new Float64Array(srcH * dstW);
  for (let c = 0; c < channels; c++) {
    const plane = c * srcH * srcW;
    for (let y = 0; y < srcH; y++) {
      const row = plane + y * srcW;
      for (let j = 0; j < dstW; j++) {
        let acc = 0;
        const s = tx.start[j], n = tx.count[j], w = j * tx.maxTaps;
        for (let k = 0; k < n; k++) acc += tx.weights[w + k] * src[row + s + k];
        mid[y * dstW + j] = acc;
      }
    }
    const outPlane = c * dstH * dstW;
    for (let i = 0; i < dstH; i++) {
      const s = ty.start[i], n = ty.count[i], w = i * ty.maxTaps;
      for (let x = 0; x < dstW; x++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += ty.weights[w + k] * mid[(s + k) * dstW + x];
        out[outPlane + i * dstW + x] = acc;
      }
    }
  }
  return out;
}

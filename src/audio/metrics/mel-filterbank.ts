/**
 * Slaney-style mel filters, as librosa.filters.mel builds them by default (htk=False,
 * norm='slaney'), after Slaney's Auditory Toolbox (1998): the mel scale is linear below 1 kHz
 * (3 mels per 200 Hz) and logarithmic above (27 mels per factor 6.4), the filters are triangles
 * between neighbouring centre frequencies on that scale, and each is scaled by 2 / (its width in
 * Hz) so that every filter has the same area.
 */

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

/** Hz on the Slaney mel scale: 1,000 Hz is 15 mels, 440 Hz is 6.6. */
export function hzToMel(hz: number): number {
  return hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
}

/** The inverse of hzToMel. */
export function melToHz(mel: number): number {
  return mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
}

export interface MelFilterbank {
  readonly mels: number;
  readonly bins: number;
  /** mels × bins weights, filter-major. */
  readonly weights: Float64Array;
  /** Filter m is zero outside bins [firstBin[m], endBin[m]). */
  readonly firstBin: Int32Array;
  readonly endBin: Int32Array;
}

/**
 * `mels` filters over the `fftSize / 2 + 1` bins of a one-sided spectrum at `sampleRate`, with
 * centres equally spaced in mels between `fMin` and `fMax` (default: 0 Hz and the Nyquist frequency).
 */
export function melFilterbank(sampleRate: number, fftSize: number, mels: number, fMin = 0, fMax = sampleRate / 2): MelFilterbank {
  const bins = fftSize / 2 + 1;
  const lo = hzToMel(fMin), hi = hzToMel(fMax);
  // mels + 2 edge frequencies: filter m rises from edge m to edge m + 1 and falls to edge m + 2.
  const edges = Array.from({ length: mels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (mels + 1)));
  const weights = new Float64Array(mels * bins);
  const firstBin = new Int32Array(mels).fill(bins);
  const endBin = new Int32Array(mels);
  for (let m = 0; m < mels; m++) {
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const area = 2 / (right - left);
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / fftSize;
      const rising = (f - left) / (centre - left);
      const falling = (right - f) / (right - centre);
      const w = Math.max(0, Math.min(rising, falling)) * area;
      weights[m * bins + k] = w;
      if (w > 0) {
        firstBin[m] = Math.min(firstBin[m]!, k);
        endBin[m] = k + 1;
      }
    }
  }
  return { mels, bins, weights, firstBin, endBin };
}

/**
 * Multi-resolution mel distance: the mean absolute difference of two signals' log-mel
 * spectrograms, averaged over several STFT sizes, so that both fine frequency detail (long
 * windows) and timing (short windows) count. This is the multi-scale mel loss of neural audio
 * codecs (e.g. DAC, Kumar et al. 2023) used as a metric: mel filters (Slaney, mel-filterbank.ts)
 * applied to the STFT magnitude, log₁₀ of it floored at 10⁻⁵, L1 over mels and frames.
 */
import { melFilterbank } from './mel-filterbank.js';
import { hannWindow, powerSpectrogram } from './stft.js';

export interface MelResolution {
  /** Window and FFT length in samples (a power of two); the hop is a quarter of it. */
  readonly fftSize: number;
  readonly mels: number;
}

/** Windows of 32, 64 and 128 ms at 16 kHz, 64 mel bands each. */
export const DEFAULT_MEL_RESOLUTIONS: readonly MelResolution[] = [
  { fftSize: 512, mels: 64 },
  { fftSize: 1024, mels: 64 },
  { fftSize: 2048, mels: 64 },
];

const LOG_FLOOR = 1e-5;

function logMel(signal: Float32Array, sampleRate: number, r: MelResolution): Float64Array {
  const spec = powerSpectrogram(signal, hannWindow(r.fftSize, 'periodic'), r.fftSize / 4, r.fftSize);
  const bank = melFilterbank(sampleRate, r.fftSize, r.mels);
  const out = new Float64Array(spec.frames * r.mels);
  for (let t = 0; t < spec.frames; t++) {
    for (let m = 0; m < r.mels; m++) {
      let sum = 0;
      for (let k = bank.firstBin[m]!; k < bank.endBin[m]!; k++) sum += bank.weights[m * spec.bins + k]! * Math.sqrt(spec.power[t * spec.bins + k]!);
      out[t * r.mels + m] = Math.log10(Math.max(sum, LOG_FLOOR));
    }
  }
  return out;
}

/**
 * The multi-resolution mel distance between a reference and an estimate of equal length at
 * `sampleRate`: 0 for identical signals, larger the more their spectra differ (in log₁₀ units).
 */
export function melDistance(reference: Float32Array, estimate: Float32Array, sampleRate: number, resolutions: readonly MelResolution[] = DEFAULT_MEL_RESOLUTIONS): number {
  if (reference.length !== estimate.length) throw new RangeError(`melDistance compares signals of equal length, got ${reference.length} and ${estimate.length} samples`);
  if (resolutions.length === 0) throw new RangeError('melDistance needs at least one resolution');
  let total = 0;
  for (const r of resolutions) {
    const a = logMel(reference, sampleRate, r);
    const b = logMel(estimate, sampleRate, r);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    total += sum / a.length;
  }
  return total / resolutions.length;
}

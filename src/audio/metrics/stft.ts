/** Short-time power spectra of a signal: Hann-windowed frames, each through a PowerSpectrum. */
import { PowerSpectrum } from './fft.js';

/**
 * A Hann window of `length` samples. 'periodic' (w[n] = sin²(πn/length), as torch.hann_window
 * and librosa use for spectra) tiles exactly at 50 % and 75 % overlap; 'interior' is
 * sin²(π(n+1)/(length+1)), the window MATLAB's hanning(length) and NumPy's hanning(length + 2)[1:-1]
 * give, which STOI's reference implementation uses.
 */
export function hannWindow(length: number, kind: 'periodic' | 'interior'): Float64Array {
  const w = new Float64Array(length);
  for (let n = 0; n < length; n++) {
    const s = kind === 'periodic' ? Math.sin((Math.PI * n) / length) : Math.sin((Math.PI * (n + 1)) / (length + 1));
    w[n] = s * s;
  }
  return w;
}

export interface PowerSpectrogram {
  readonly frames: number;
  readonly bins: number;
  /** frames × bins values, frame-major: |X_t[k]|² at [t × bins + k]. */
  readonly power: Float64Array;
}

/**
 * Power spectra of the windowed frames starting at 0, hop, 2·hop, … that lie wholly inside the
 * signal (`frameStarts` of them), each zero-padded to `fftSize`. A signal shorter than the
 * window gives one frame, zero-padded.
 */
export function powerSpectrogram(signal: Float32Array | Float64Array, window: Float64Array, hop: number, fftSize: number, frameStarts: number = countFrames(signal.length, window.length, hop)): PowerSpectrogram {
  const fft = new PowerSpectrum(fftSize);
  const frame = new Float64Array(window.length);
  const power = new Float64Array(frameStarts * fft.bins);
  for (let t = 0; t < frameStarts; t++) {
    const start = t * hop;
    for (let n = 0; n < window.length; n++) frame[n] = start + n < signal.length ? signal[start + n]! * window[n]! : 0;
    fft.power(frame, power.subarray(t * fft.bins, (t + 1) * fft.bins));
  }
  return { frames: frameStarts, bins: fft.bins, power };
}

/** Frames of `length` samples at `hop` that lie wholly inside `signalLength` samples; 1 when the signal is shorter than a frame. */
function countFrames(signalLength: number, length: number, hop: number): number {
  return signalLength < length ? 1 : 1 + Math.floor((signalLength - length) / hop);
}

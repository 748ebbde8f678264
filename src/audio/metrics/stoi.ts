/**
 * Short-Time Objective Intelligibility (Taal, Hendriks, Heusdens and Jensen, "An Algorithm for
 * Intelligibility Prediction of Time–Frequency Weighted Noisy Speech", IEEE TASLP 19(7), 2011),
 * step by step as §II of the paper defines it, with the framing details of the authors' MATLAB
 * reference (stoi.m, which the paper's results come from):
 *
 * 1. both signals resampled to 10 kHz (§II-A);
 * 2. silent frames removed: 256-sample frames at 50 % overlap with a Hann window; frames whose
 *    clean-speech energy is more than 40 dB below the loudest frame's are dropped from both
 *    signals, which are then overlap-added back together (§II-A);
 * 3. a short-time DFT of 256-sample Hann frames at 50 % overlap, zero-padded to 512 (§II-A);
 * 4. 15 one-third-octave bands from 150 Hz: band j covers DFT bins from 150·2^((2j−1)/6) to
 *    150·2^((2j+1)/6) Hz, and its envelope is X_j(m) = √(Σ_k |X(k, m)|²) (eq. 1);
 * 5. short-time segments of N = 30 frames (384 ms) ending at each frame m ≥ N (eq. 2);
 * 6. the degraded segment normalized to the clean one's energy and clipped to at most
 *    (1 + 10^(−β/20)) times it, β = −15 dB (a signal-to-distortion floor; eq. 3);
 * 7. the intermediate index d_j(m), the correlation of the clean and the normalized, clipped
 *    degraded segment (eq. 4), averaged over all bands and segments (eq. 5).
 */
import { resample } from '../resample.js';
import { hannWindow, powerSpectrogram } from './stft.js';

const STOI_RATE = 10000;
const FRAME = 256;
const HOP = FRAME / 2;
const FFT_SIZE = 512;
const BANDS = 15;
const LOWEST_CENTRE_HZ = 150;
/** N: frames per short-time segment (30 × 12.8 ms = 384 ms). */
const SEGMENT = 30;
/** β in dB: the lower bound on the signal-to-distortion ratio of a clipped segment. */
const BETA_DB = -15;
/** Frames more than this many dB below the loudest clean frame are silent. */
const DYNAMIC_RANGE_DB = 40;
/** The guard against division by zero on silent segments that pystoi adds (NumPy's float eps); the MATLAB reference divides by zero there. */
const EPS = 2 ** -52;

/**
 * Frame starts of the reference implementation: 0, HOP, … while start < length − FRAME (a frame
 * that would end exactly at the last sample is not taken).
 */
function frameCount(length: number): number {
  return length > FRAME ? Math.ceil((length - FRAME) / HOP) : 0;
}

/**
 * Step 2: the clean and degraded signals with the frames that are silent in the clean one
 * removed, each rebuilt by overlap-adding its remaining windowed frames.
 */
function removeSilentFrames(clean: Float64Array, degraded: Float64Array): [Float64Array, Float64Array] {
  const window = hannWindow(FRAME, 'interior');
  const frames = frameCount(clean.length);
  const energyDb = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let sum = 0;
    for (let n = 0; n < FRAME; n++) { const v = window[n]! * clean[t * HOP + n]!; sum += v * v; }
    energyDb[t] = 20 * Math.log10(Math.sqrt(sum) + EPS);
  }
  const loudest = energyDb.reduce((a, b) => Math.max(a, b), -Infinity);
  const kept: number[] = [];
  for (let t = 0; t < frames; t++) if (energyDb[t]! > loudest - DYNAMIC_RANGE_DB) kept.push(t);
  const length = kept.length === 0 ? 0 : (kept.length - 1) * HOP + FRAME;
  const outClean = new Float64Array(length);
  const outDegraded = new Float64Array(length);
  kept.forEach((t, i) => {
    for (let n = 0; n < FRAME; n++) {
      outClean[i * HOP + n] += window[n]! * clean[t * HOP + n]!;
      outDegraded[i * HOP + n] += window[n]! * degraded[t * HOP + n]!;
    }
  });
  return [outClean, outDegraded];
}

/** Step 4's band edges as DFT bin ranges [first, end) at 10 kHz, each edge at the bin nearest its frequency. */
function thirdOctaveBins(): [number, number][] {
  const binHz = STOI_RATE / FFT_SIZE;
  const nearestBin = (hz: number): number => Math.min(FFT_SIZE / 2, Math.round(hz / binHz));
  return Array.from({ length: BANDS }, (_, j) => [
    nearestBin(LOWEST_CENTRE_HZ * 2 ** ((2 * j - 1) / 6)),
    nearestBin(LOWEST_CENTRE_HZ * 2 ** ((2 * j + 1) / 6)),
  ]);
}

/** Steps 3–4: the one-third-octave band envelopes, bands × frames, band-major. */
function bandEnvelopes(signal: Float64Array): { frames: number; envelopes: Float64Array } {
  const frames = frameCount(signal.length);
  const spec = powerSpectrogram(signal, hannWindow(FRAME, 'interior'), HOP, FFT_SIZE, frames);
  const envelopes = new Float64Array(BANDS * frames);
  thirdOctaveBins().forEach(([first, end], j) => {
    for (let m = 0; m < frames; m++) {
      let sum = 0;
      for (let k = first; k < end; k++) sum += spec.power[m * spec.bins + k]!;
      envelopes[j * frames + m] = Math.sqrt(sum);
    }
  });
  return { frames, envelopes };
}

/** `v` with its mean removed, scaled to unit norm (in place, as the reference does, with ε added to the norm). */
function centreAndNormalize(v: Float64Array): Float64Array {
  let mean = 0;
  for (const x of v) mean += x;
  mean /= v.length;
  let norm = 0;
  for (let i = 0; i < v.length; i++) { v[i] = v[i]! - mean; norm += v[i]! * v[i]!; }
  norm = Math.sqrt(norm) + EPS;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/**
 * STOI of `degraded` against `clean`, both already at 10 kHz and of equal length: about 1 for
 * speech as intelligible as the clean, lower the less (Taal et al.'s logistic fit for additive
 * noise, 100 / (1 + e^(−17.4906 d + 9.6921)) %, maps 0.5 to about 30 % of words understood and 0.9
 * to nearly all). Signals too short to hold one 384 ms segment of non-silent frames are an error.
 */
export function stoiAt10kHz(clean: Float32Array | Float64Array, degraded: Float32Array | Float64Array): number {
  if (clean.length !== degraded.length) throw new RangeError(`stoi compares signals of equal length, got ${clean.length} and ${degraded.length} samples`);
  const [x, y] = removeSilentFrames(Float64Array.from(clean), Float64Array.from(degraded));
  const X = bandEnvelopes(x);
  const Y = bandEnvelopes(y);
  const frames = X.frames;
  if (frames < SEGMENT) {
    throw new RangeError(`stoi needs at least ${SEGMENT} non-silent frames (about 0.4 s of speech at 10 kHz), got ${frames}; compare longer signals`);
  }
  const clip = 1 + 10 ** (-BETA_DB / 20);
  const xs = new Float64Array(SEGMENT);
  const ys = new Float64Array(SEGMENT);
  let total = 0;
  for (let j = 0; j < BANDS; j++) {
    for (let m = SEGMENT; m <= frames; m++) {
      let xNorm = 0, yNorm = 0;
      for (let n = 0; n < SEGMENT; n++) {
        xs[n] = X.envelopes[j * frames + m - SEGMENT + n]!;
        ys[n] = Y.envelopes[j * frames + m - SEGMENT + n]!;
        xNorm += xs[n]! * xs[n]!;
        yNorm += ys[n]! * ys[n]!;
      }
      // Eq. 3: α scales the degraded segment to the clean one's energy, then it is clipped.
      const alpha = Math.sqrt(xNorm) / (Math.sqrt(yNorm) + EPS);
      for (let n = 0; n < SEGMENT; n++) ys[n] = Math.min(alpha * ys[n]!, clip * xs[n]!);
      centreAndNormalize(xs);
      centreAndNormalize(ys);
      let d = 0;
      for (let n = 0; n < SEGMENT; n++) d += xs[n]! * ys[n]!;
      total += d;
    }
  }
  return total / (BANDS * (frames - SEGMENT + 1));
}

/**
 * STOI of `degraded` against `clean`, equal-length signals at `sampleRate`, resampled to 10 kHz
 * first (libsamplerate's best converter) as the measure is defined there.
 */
export async function stoi(clean: Float32Array, degraded: Float32Array, sampleRate: number): Promise<number> {
  if (clean.length !== degraded.length) throw new RangeError(`stoi compares signals of equal length, got ${clean.length} and ${degraded.length} samples`);
  if (sampleRate === STOI_RATE) return stoiAt10kHz(clean, degraded);
  return stoiAt10kHz(await resample(clean, sampleRate, STOI_RATE, 'best'), await resample(degraded, sampleRate, STOI_RATE, 'best'));
}

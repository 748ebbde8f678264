/**
 * Reconstruction metrics of speech, per utterance, from the windows of a `SpeechSet` evaluated in
 * order: each utterance's windows are put back together and trimmed to its length, then
 *
 *   mse           mean of (x − x̂)² over every sample of every utterance (selects the best checkpoint)
 *   si_snr        mean over utterances of the scale-invariant SNR in dB (audio/metrics/si-snr.ts)
 *   mel_distance  mean over utterances of the multi-resolution log-mel L1 distance (mel-distance.ts)
 *   stoi          mean over utterances of STOI (Taal et al. 2011; stoi.ts), a slow metric
 *
 * and the rate of the codes: tokens_per_second (latent frames per second times the stages of a
 * residual quantizer) and bitrate = tokens/s × log₂ K in bits per second.
 *
 * An utterance's SI-SNR is clamped to ±SI_SNR_BOUND dB, so that one exact (+∞) or silent (−∞)
 * reconstruction does not make the mean infinite. Utterances whose reference is silent (SI-SNR
 * undefined) or too short for STOI's 384 ms segment are left out of that metric's mean; a metric no
 * utterance can give is NaN (null in JSON).
 */
import { melDistance } from '../../audio/metrics/mel-distance.js';
import { siSnr } from '../../audio/metrics/si-snr.js';
import { stoi } from '../../audio/metrics/stoi.js';
import type { MetricAccumulator, MetricOptions, ReconstructionMetrics } from '../modality.js';
import { windowsOf, type SpeechSet } from './speech-set.js';

export interface SpeechMetrics extends ReconstructionMetrics {
  readonly si_snr: number;
  readonly mel_distance: number;
  /** NaN when skipped (`slow: false`). */
  readonly stoi: number;
  readonly tokens_per_second: number;
  readonly bitrate: number;
}

/** The code rate of a model: `tokensPerExample` codes for `exampleSamples` samples at `sampleRate`, K codes each. */
export interface CodeRate {
  readonly tokensPerSecond: number;
  readonly codebookSize: number;
}

/** Bound on one utterance's SI-SNR in dB (float32 rounding alone leaves well over 100 dB). */
const SI_SNR_BOUND = 100;

const mean = (values: readonly number[]): number => (values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);

export function speechMetrics(set: SpeechSet, rate: CodeRate, options: MetricOptions): Omit<MetricAccumulator, 'result'> & { result(): Promise<SpeechMetrics> } {
  const size = set.exampleSamples;
  const siSnrs: number[] = [];
  const mels: number[] = [];
  const pending: [Float32Array, Float32Array][] = [];
  let squaredError = 0;
  let samples = 0;
  let utterance = 0;
  let current = new Float32Array(0);
  let filled = 0;
  const finish = (): void => {
    const reference = set.utterances[utterance]!;
    const estimate = current.subarray(0, reference.length);
    for (let i = 0; i < reference.length; i++) squaredError += (estimate[i]! - reference[i]!) ** 2;
    samples += reference.length;
    try {
      siSnrs.push(Math.max(-SI_SNR_BOUND, Math.min(SI_SNR_BOUND, siSnr(reference, estimate))));
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
    mels.push(melDistance(reference, estimate, set.sampleRate));
    if (options.slow) pending.push([reference, estimate]);
    utterance++;
    filled = 0;
  };
  return {
    add(_originals, reconstructions, count) {
      if (set.kind !== 'windows') throw new Error(`speech metrics need the set's windows, got a set of training crops (${set.name})`);
      for (let w = 0; w < count; w++) {
        if (filled === 0) current = new Float32Array(windowsOf(set.utterances[utterance]!.length, size) * size);
        current.set(reconstructions.subarray(w * size, (w + 1) * size), filled);
        filled += size;
        if (filled === current.length) finish();
      }
    },
    async result() {
      const stois: number[] = [];
      for (const [reference, estimate] of pending) {
        try {
          stois.push(await stoi(reference, estimate, set.sampleRate));
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
        }
      }
      return {
        mse: squaredError / samples,
        si_snr: mean(siSnrs),
        mel_distance: mean(mels),
        stoi: options.slow ? mean(stois) : Number.NaN,
        tokens_per_second: rate.tokensPerSecond,
        bitrate: rate.tokensPerSecond * Math.log2(rate.codebookSize),
      };
    },
  };
}

/** 'mse 0.00123 si-snr 5.21 dB mel 1.234 stoi 0.812', as the training log prints test metrics. */
export function describeSpeechMetrics(m: ReconstructionMetrics): string {
  return `mse ${m.mse.toFixed(5)} si-snr ${m.si_snr!.toFixed(2)} dB mel ${m.mel_distance!.toFixed(3)} stoi ${m.stoi!.toFixed(3)}`;
}

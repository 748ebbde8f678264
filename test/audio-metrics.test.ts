import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PowerSpectrum } from '../src/audio/metrics/fft.js';
import { DEFAULT_MEL_RESOLUTIONS, melDistance } from '../src/audio/metrics/mel-distance.js';
import { hzToMel, melFilterbank, melToHz } from '../src/audio/metrics/mel-filterbank.js';
import { siSnr } from '../src/audio/metrics/si-snr.js';
import { hannWindow, powerSpectrogram } from '../src/audio/metrics/stft.js';
import { stoi, stoiAt10kHz } from '../src/audio/metrics/stoi.js';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { resample } from '../src/audio/resample.js';
import { Rng } from '../src/init/rng.js';

// dist/test/… → the repository's test/fixtures/audio: 4 s of espeak-ng speech at 16 kHz.
const SPEECH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');

function gaussianNoise(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.normal());
}

const energy = (x: Float32Array): number => x.reduce((s, v) => s + v * v, 0);

/** `clean` plus `noise` scaled so that the clean-to-noise energy ratio is `snrDb`. */
function withNoise(clean: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  const gain = Math.sqrt(energy(clean) / energy(noise) / 10 ** (snrDb / 10));
  return clean.map((v, i) => v + gain * noise[i]!);
}

test('FFT power spectrum equals the direct DFT; Hann windows are the two textbook forms', () => {
  const rng = new Rng(1);
  for (const size of [2, 8, 64, 512]) {
    const frame = Float64Array.from({ length: size - (size > 8 ? 5 : 0) }, () => rng.normal());
    const power = new PowerSpectrum(size).power(frame);
    for (let k = 0; k <= size / 2; k++) {
      let re = 0, im = 0;
      for (let n = 0; n < frame.length; n++) { re += frame[n]! * Math.cos((2 * Math.PI * k * n) / size); im -= frame[n]! * Math.sin((2 * Math.PI * k * n) / size); }
      assert.ok(Math.abs(power[k]! - (re * re + im * im)) < 1e-9 * (1 + re * re + im * im), `size ${size}, bin ${k}`);
    }
  }
  assert.throws(() => new PowerSpectrum(48), /power of two/);
  // Periodic: w[0] = 0 and overlapping at 50 % sums to exactly 1. Interior (MATLAB's hanning): no zero ends, symmetric.
  const periodic = hannWindow(8, 'periodic');
  assert.equal(periodic[0], 0);
  for (let n = 0; n < 4; n++) assert.ok(Math.abs(periodic[n]! + periodic[n + 4]! - 1) < 1e-15);
  const interior = hannWindow(4, 'interior');
  assert.deepEqual([...interior].map((v) => Number(v.toFixed(12))), [0.345491502813, 0.904508497187, 0.904508497187, 0.345491502813]);
  // A frame at a bin's frequency puts (amplitude × Σw / 2)² in that bin.
  const tone = Float32Array.from({ length: 1024 }, (_, i) => Math.sin((2 * Math.PI * 32 * i) / 256));
  const spec = powerSpectrogram(tone, hannWindow(256, 'periodic'), 64, 256);
  assert.equal(spec.frames, 13);
  assert.ok(Math.abs(Math.sqrt(spec.power[5 * spec.bins + 32]!) - 64) < 1e-4); // float32 samples
});

test('mel scale and filters follow Slaney\'s (librosa\'s defaults): 1 kHz is 15 mels, each filter has unit area', () => {
  // librosa.hz_to_mel's documented values: 60 Hz → 0.9, 110/220/440 Hz → 1.65/3.3/6.6.
  for (const [hz, mel] of [[60, 0.9], [110, 1.65], [220, 3.3], [440, 6.6], [1000, 15]] as const) assert.ok(Math.abs(hzToMel(hz) - mel) < 1e-12, `${hz} Hz`);
  assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-12);
  for (const hz of [0, 37, 999, 1000, 1001, 7999.5]) assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-9);
  const bank = melFilterbank(16000, 4096, 40);
  const binHz = 16000 / 4096;
  for (let m = 0; m < 40; m++) {
    let area = 0, peak = 0, peakBin = 0;
    for (let k = 0; k < bank.bins; k++) {
      const w = bank.weights[m * bank.bins + k]!;
      assert.ok(w >= 0);
      if (w === 0) assert.ok(k < bank.firstBin[m]! || k >= bank.endBin[m]!);
      area += w * binHz;
      if (w > peak) { peak = w; peakBin = k; }
    }
    // 2 / width normalization: the triangle's area in Hz is 1 (to the accuracy of sampling it at the bins).
    assert.ok(Math.abs(area - 1) < 0.03, `filter ${m}: area ${area}`);
    const centre = melToHz((hzToMel(8000) * (m + 1)) / 41);
    assert.ok(Math.abs(peakBin * binHz - centre) <= binHz, `filter ${m} peaks at ${peakBin * binHz} Hz, centre ${centre}`);
  }
});

test('SI-SNR: infinite for the reference itself, blind to gain and offset, exact for orthogonal noise', () => {
  const n = 16000;
  const s = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 50 * i) / n));
  assert.ok(siSnr(s, s) > 100);
  // The cosine is orthogonal to the sine over whole periods, so all of it is noise: 10·log10(1 / 0.1²) = 20 dB.
  const noisy = s.map((v, i) => v + 0.1 * Math.cos((2 * Math.PI * 50 * i) / n));
  assert.ok(Math.abs(siSnr(s, noisy) - 20) < 1e-4, String(siSnr(s, noisy)));
  for (const gain of [0.01, 0.5, 3, -2]) assert.ok(Math.abs(siSnr(s, noisy.map((v) => gain * v + 0.25)) - siSnr(s, noisy)) < 1e-4, `gain ${gain}`);
  assert.equal(siSnr(s, new Float32Array(n).fill(0.3)), -Infinity);
  assert.throws(() => siSnr(s, s.subarray(1)), /equal length/);
  assert.throws(() => siSnr(new Float32Array(10), s.subarray(0, 10)), /silent/);
});

test('mel distance: 0 for identical signals, exactly log10 of a gain on noise, growing as noise is added', async () => {
  const noise = gaussianNoise(8000, 2).map((v) => 0.1 * v);
  assert.equal(melDistance(noise, noise, 16000), 0);
  assert.ok(Math.abs(melDistance(noise, noise.map((v) => 2 * v), 16000) - Math.log10(2)) < 1e-6);
  const speech = (await readAudioFile(SPEECH)).samples;
  const extra = gaussianNoise(speech.length, 3);
  const distances = [30, 20, 10, 0].map((snr) => melDistance(speech, withNoise(speech, extra, snr), 16000));
  for (let i = 1; i < distances.length; i++) assert.ok(distances[i]! > distances[i - 1]!, distances.join(', '));
  assert.equal(DEFAULT_MEL_RESOLUTIONS.length, 3);
  assert.ok(melDistance(speech, speech, 16000, [{ fftSize: 256, mels: 20 }]) === 0);
  assert.throws(() => melDistance(speech, speech.subarray(1), 16000), /equal length/);
});

test('STOI: 1 for identical signals, blind to gain, falling steadily with noise, low for unrelated speech', async () => {
  const speech = (await readAudioFile(SPEECH)).samples;
  assert.ok(Math.abs((await stoi(speech, speech, 16000)) - 1) < 1e-12);
  const at10k = await resample(speech, 16000, 10000);
  assert.ok(Math.abs(stoiAt10kHz(at10k, at10k) - 1) < 1e-12);
  assert.ok(Math.abs(stoiAt10kHz(at10k, at10k.map((v) => 0.01 * v)) - 1) < 1e-12);

  // The rest at 10 kHz, STOI's own rate, where no resampling is needed.
  const noise = gaussianNoise(at10k.length, 4);
  const scores: number[] = [];
  for (const snr of [20, 10, 0, -5]) {
    const noisy = withNoise(at10k, noise, snr);
    const d = stoiAt10kHz(at10k, noisy);
    // Gain invariance (the degraded segment is normalized to the clean one's energy).
    for (const gain of [0.05, 8]) assert.ok(Math.abs(stoiAt10kHz(at10k, noisy.map((v) => gain * v)) - d) < 1e-6, `${snr} dB, gain ${gain}`);
    scores.push(d);
  }
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! < scores[i - 1]! - 0.03, `not falling steadily: ${scores.join(', ')}`);
  assert.ok(scores[0]! > 0.95 && scores[3]! < 0.8, scores.join(', '));
  // At 16 kHz the signals are resampled to 10 kHz first, which white noise survives as noise of the same SNR below 5 kHz.
  const noisy16k = withNoise(speech, gaussianNoise(speech.length, 5), 0);
  assert.ok(Math.abs((await stoi(speech, noisy16k, 16000)) - scores[2]!) < 0.05);

  // Unrelated speech: the same utterance reversed in time, or half a second late.
  const reversed = at10k.slice().reverse();
  const late = new Float32Array(at10k.length);
  late.set(at10k.subarray(5000));
  for (const other of [reversed, late]) assert.ok(stoiAt10kHz(at10k, other) < 0.25);
  // Noise alone: clipping at β = −15 dB leaves some correlation with the clean envelope, but below
  // 0.55, where Taal et al.'s logistic fit for additive noise (a = −17.4906, b = 9.6921) predicts half the words understood.
  const pureNoise = stoiAt10kHz(at10k, noise);
  assert.ok(pureNoise < 0.55, String(pureNoise));
  assert.ok(100 / (1 + Math.exp(-17.4906 * pureNoise + 9.6921)) < 50);

  await assert.rejects(stoi(speech, speech.subarray(1), 16000), /equal length/);
  assert.throws(() => stoiAt10kHz(at10k.subarray(0, 3000), at10k.subarray(0, 3000)), /at least 30 non-silent frames/);
});

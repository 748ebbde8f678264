import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resample, resampledLength, type ResampleQuality } from '../src/audio/resample.js';

function sine(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

/**
 * Amplitude and phase of the `hz` component of `x` (a least-squares fit of a·sin + b·cos over the
 * middle of the signal, away from the edges the filter sees zeros beyond), and the RMS of what the
 * fit leaves.
 */
function fitSine(x: Float32Array, hz: number, rate: number): { amplitude: number; phase: number; residualRms: number } {
  const from = Math.floor(x.length * 0.1), to = Math.floor(x.length * 0.9);
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * hz * i) / rate), c = Math.cos((2 * Math.PI * hz * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i]! * s; xc += x[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
  let residual = 0;
  for (let i = from; i < to; i++) {
    const e = x[i]! - a * Math.sin((2 * Math.PI * hz * i) / rate) - b * Math.cos((2 * Math.PI * hz * i) / rate);
    residual += e * e;
  }
  return { amplitude: Math.hypot(a, b), phase: Math.atan2(b, a), residualRms: Math.sqrt(residual / (to - from)) };
}

const PASSBAND: Record<ResampleQuality, number> = { best: 0.97, medium: 0.9, fastest: 0.8 };

const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

test('resampling keeps a sine\'s frequency, amplitude and phase, down and up, at every quality', async () => {
  const cases: [number, number, number][] = [[44100, 16000, 1000], [22050, 16000, 3000], [16000, 44100, 1000], [16000, 24000, 7000], [48000, 10000, 440]];
  for (const quality of ['best', 'medium', 'fastest'] as ResampleQuality[]) {
    for (const [from, to, hz] of cases) {
      // The converters keep 97 %, 90 % and 80 % of the lower Nyquist band flat; a tone near the edge is attenuated.
      if (hz > (PASSBAND[quality] - 0.05) * Math.min(from, to) / 2) continue;
      const out = await resample(sine(hz, from, 0.5), from, to, quality);
      assert.equal(out.length, resampledLength(Math.round(from * 0.5), from, to));
      const fit = fitSine(out, hz, to);
      const where = `${quality}: ${hz} Hz, ${from} → ${to} Hz`;
      assert.ok(Math.abs(fit.amplitude - 0.5) < 0.005, `${where}: amplitude ${fit.amplitude}`);
      assert.ok(Math.abs(fit.phase) < 0.01, `${where}: phase ${fit.phase} (the filter delay is compensated)`);
      assert.ok(fit.residualRms < 1e-3, `${where}: residual ${fit.residualRms}`);
    }
  }
});

test('resampling down suppresses what lies above the new Nyquist frequency instead of aliasing it', async () => {
  // 11 kHz and 9 kHz at 44.1 kHz would fold to 5 kHz and 7 kHz at 16 kHz.
  for (const hz of [9000, 11000, 15000]) {
    for (const quality of ['best', 'medium', 'fastest'] as ResampleQuality[]) {
      const out = await resample(sine(hz, 44100, 0.5), 44100, 16000, quality);
      const middle = out.subarray(800, out.length - 800);
      const attenuationDb = 20 * Math.log10(rms(middle) / (0.5 / Math.SQRT2));
      assert.ok(attenuationDb < -80, `${quality}, ${hz} Hz: only ${attenuationDb.toFixed(1)} dB down`);
    }
  }
  // A tone below the cutoff next to one above: the first passes, the second is gone.
  const mix = sine(3000, 44100, 0.5).map((v, i) => v + sine(12000, 44100, 0.5)[i]!);
  const fit = fitSine(await resample(mix, 44100, 16000), 3000, 16000);
  assert.ok(Math.abs(fit.amplitude - 0.5) < 0.005 && fit.residualRms < 1e-3, JSON.stringify(fit));
});

test('resampling: equal rates copy, lengths are exact, empty input stays empty, rates too far apart are refused', async () => {
  const x = sine(100, 8000, 0.1);
  const same = await resample(x, 8000, 8000);
  assert.deepEqual(same, x);
  assert.notEqual(same, x);
  for (const n of [0, 1, 2, 3, 7, 100, 101, 4410]) {
    const out = await resample(new Float32Array(n).fill(0.1), 44100, 16000);
    assert.equal(out.length, resampledLength(n, 44100, 16000), `${n} samples`);
  }
  // The same input gives the same output bytes (the WebAssembly converter is deterministic).
  assert.deepEqual(await resample(x, 8000, 11025), await resample(x, 8000, 11025));
  await assert.rejects(resample(x, 8000, 8000 * 300), /differ by a factor of 256 at most/);
  await assert.rejects(resample(x, 0, 8000), /positive numbers/);
});

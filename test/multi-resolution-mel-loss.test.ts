/**
 * The in-graph multi-resolution log-mel / spectral convergence loss (src/layers/multi-resolution-mel-loss.ts)
 * against a direct float64 computation (the mel distance metric and the metric's STFT), by central
 * finite differences through the graph, by gradient descent lowering it, by its counted work, and
 * by its refusals of bad arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MEL_RESOLUTIONS, melDistance, type MelResolution } from '../src/audio/metrics/mel-distance.js';
import { hannWindow, powerSpectrogram } from '../src/audio/metrics/stft.js';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { grad } from '../src/graph/autodiff.js';
import { countFlops } from '../src/graph/flops.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import type { Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import { MAX_FFT_SIZE, multiResolutionMelLoss, type MultiResolutionMelLossOptions } from '../src/layers/multi-resolution-mel-loss.js';
import { CompiledGraph, type TypedData } from '../src/runtime/session.js';
import { gradCheck } from './helpers/gradcheck.js';

// dist/test/… → the repository's test/fixtures/audio: 4 s of espeak-ng speech at 16 kHz.
const SPEECH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');

function noise(length: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => scale * rng.normal());
}

/** The loss of `recon` against `target` (B signals of T samples each, laid out [B, 1, 1, T]) run once. */
async function lossOf(recon: Float32Array, target: Float32Array, batch: number, options: MultiResolutionMelLossOptions): Promise<number> {
  const g = new Graph();
  const t = recon.length / batch;
  const a = g.input('recon', [batch, 1, 1, t]);
  const b = g.input('target', [batch, 1, 1, t]);
  const c = await CompiledGraph.create(g, { loss: multiResolutionMelLoss(a, b, options) }, { threads: 1 });
  try {
    return ((await c.run({ recon, target })).loss as Float32Array)[0]!;
  } finally {
    await c.release();
  }
}

const item = (x: Float32Array, b: number, t: number): Float32Array => x.subarray(b * t, (b + 1) * t);

test('the log-mel term equals the mean over the batch of the mel distance metric (float64) to float32 accuracy', async () => {
  const speech = (await readAudioFile(SPEECH)).samples;
  const t = 16000;
  // Two examples: 1 s of speech against itself plus noise at about 10 dB, and two different 1 s crops.
  const target = new Float32Array(2 * t);
  target.set(speech.subarray(4000, 4000 + t), 0);
  target.set(speech.subarray(30000, 30000 + t), t);
  const recon = new Float32Array(2 * t);
  const hiss = noise(t, 3, 0.03);
  for (let i = 0; i < t; i++) recon[i] = target[i]! + hiss[i]!;
  recon.set(speech.subarray(20000, 20000 + t), t);
  const expected = (melDistance(item(target, 0, t), item(recon, 0, t), 16000) + melDistance(item(target, 1, t), item(recon, 1, t), 16000)) / 2;
  const got = await lossOf(recon, target, 2, { sampleRate: 16000 });
  assert.ok(expected > 0.05, `the test signals differ (${expected})`);
  assert.ok(Math.abs(got - expected) <= 1e-4 * expected, `loss ${got}, metric ${expected}`);
  assert.equal(await lossOf(target, target, 2, { sampleRate: 16000 }), 0);

  // Other resolutions, another rate, weights, and a signal shorter than the largest window (zero-padded to one frame).
  const resolutions: MelResolution[] = [{ fftSize: 256, mels: 20 }, { fftSize: 1024, mels: 40 }];
  const short = 700;
  const a = noise(short, 5), b = noise(short, 6, 0.5);
  const metric = melDistance(a, b, 22050, resolutions);
  const loss = await lossOf(b, a, 1, { sampleRate: 22050, resolutions, weight: 3, logMelWeight: 0.5 });
  assert.ok(Math.abs(loss - 1.5 * metric) <= 1e-4 * metric, `loss ${loss}, 1.5 × metric ${1.5 * metric}`);
});

test('the spectral convergence term equals ‖|X̂| − |X|‖_F / ‖|X|‖_F of the metric\'s STFT, averaged over examples', async () => {
  const t = 3000;
  const resolutions: MelResolution[] = [{ fftSize: 512, mels: 32 }, { fftSize: 128, mels: 16 }];
  const target = noise(2 * t, 11);
  const recon = target.map((v, i) => 0.7 * v + 0.2 * Math.sin(i / 5));
  let expected = 0;
  for (const r of resolutions) {
    for (let b = 0; b < 2; b++) {
      const window = hannWindow(r.fftSize, 'periodic');
      const x = powerSpectrogram(item(target, b, t), window, r.fftSize / 4, r.fftSize).power;
      const y = powerSpectrogram(item(recon, b, t), window, r.fftSize / 4, r.fftSize).power;
      let diff = 0, norm = 0;
      for (let i = 0; i < x.length; i++) {
        diff += (Math.sqrt(y[i]!) - Math.sqrt(x[i]!)) ** 2;
        norm += x[i]!;
      }
      expected += Math.sqrt(diff / norm) / 2 / resolutions.length;
    }
  }
  const got = await lossOf(recon, target, 2, { sampleRate: 16000, resolutions, logMelWeight: 0, spectralConvergenceWeight: 1 });
  assert.ok(Math.abs(got - expected) <= 1e-4 * expected, `loss ${got}, direct ${expected}`);
  const both = await lossOf(recon, target, 2, { sampleRate: 16000, resolutions, spectralConvergenceWeight: 2 });
  const logMel = await lossOf(recon, target, 2, { sampleRate: 16000, resolutions });
  assert.ok(Math.abs(both - (logMel + 2 * expected)) <= 1e-4 * both, `both terms ${both}, log-mel ${logMel} + 2 × sc ${2 * expected}`);
});

test('gradients through framing, DFT conv, magnitude, mel MatMul, clamp and both terms match central differences', async () => {
  // Small windows so every sample is checked: 2 signals of 72 samples, FFT sizes 16 and 32.
  const options: MultiResolutionMelLossOptions = {
    sampleRate: 16000,
    resolutions: [{ fftSize: 16, mels: 4 }, { fftSize: 32, mels: 6 }],
    spectralConvergenceWeight: 0.5,
  };
  const report = await gradCheck(
    'multiResolutionMelLoss',
    [{ shape: [2, 1, 72], name: 'recon' }, { shape: [2, 1, 72], name: 'target' }],
    ([recon, target]) => multiResolutionMelLoss(recon!, target!, options),
    { maxPerInput: 144, eps: 1e-3 },
  );
  assert.equal(report.checked, 288);
  // A signal shorter than the window (zero-padded) and a rank-2 batch.
  await gradCheck('multiResolutionMelLoss, padded', [{ shape: [3, 20], name: 'recon' }, { shape: [3, 20], name: 'target' }], ([recon, target]) =>
    multiResolutionMelLoss(recon!, target!, { sampleRate: 8000, resolutions: [{ fftSize: 32, mels: 5 }] }), { eps: 1e-3 });
});

test('silent signals give a zero loss and a zero, finite gradient (no 0/0 at empty bins or empty frames)', async () => {
  const g = new Graph();
  const recon = g.input('recon', [2, 1, 3000], 'float32', 'param');
  const target = g.input('target', [2, 1, 3000]);
  const loss = multiResolutionMelLoss(recon, target, { sampleRate: 16000, spectralConvergenceWeight: 1 });
  const [dRecon] = grad(loss, [recon]) as [Tensor];
  const c = await CompiledGraph.create(g, { loss, dRecon }, { threads: 1 });
  try {
    const silence = new Float32Array(6000);
    const out = await c.run({ recon: silence, target: silence });
    assert.ok(Math.abs((out.loss as Float32Array)[0]!) < 1e-6, `loss ${(out.loss as Float32Array)[0]}`);
    assert.ok((out.dRecon as Float32Array).every((v) => v === 0));
  } finally {
    await c.release();
  }
});

test('gradient descent through the loss recovers the gain of a quiet copy of speech', async () => {
  // x̂ = a · s for 0.5 s of speech s: the loss is ≈ |log₁₀ a| wherever the mels stay above the floor, so descent on a must reach 1.
  const speech = (await readAudioFile(SPEECH)).samples.subarray(8000, 16000);
  const g = new Graph();
  const gain = g.input('gain', [1], 'float32', 'param');
  const s = g.input('s', [1, 1, speech.length]);
  const loss = multiResolutionMelLoss(op.mul(s, gain), s, { sampleRate: 16000 });
  const [dGain] = grad(loss, [gain]) as [Tensor];
  const c = await CompiledGraph.create(g, { loss, dGain }, { threads: 1 });
  try {
    const a = Float32Array.of(0.2);
    const losses: number[] = [];
    for (let step = 0; step < 25; step++) {
      const out: Record<string, TypedData> = await c.run({ gain: a, s: speech });
      losses.push((out.loss as Float32Array)[0]!);
      a[0]! -= 0.05 * (out.dGain as Float32Array)[0]!;
    }
    assert.ok(Math.abs(losses[0]! - Math.log10(5)) < 0.05, `the loss at gain 0.2 is ≈ log₁₀ 5, got ${losses[0]}`);
    assert.ok(losses.at(-1)! < 0.05 * losses[0]!, `loss went from ${losses[0]} to ${losses.at(-1)}`);
    assert.ok(Math.abs(a[0]! - 1) < 0.05, `gain ${a[0]}`);
  } finally {
    await c.release();
  }
});

test('counted work: the DFT convs of both signals, the input gradient of the reconstruction only, and the mel MatMuls', () => {
  const [batch, t] = [16, 16000];
  const g = new Graph();
  const recon = g.input('recon', [batch, 1, 1, t], 'float32', 'param');
  const target = g.input('target', [batch, 1, 1, t]);
  const loss = multiResolutionMelLoss(recon, target, { sampleRate: 16000 });
  const [dRecon] = grad(loss, [recon]) as [Tensor];
  let forward = 0, backward = 0;
  for (const r of DEFAULT_MEL_RESOLUTIONS) {
    const n = r.fftSize;
    const frames = Math.floor((t - n) / (n / 4)) + 1;
    const dft = 2 * batch * frames * n * n; // N output channels × N taps per frame
    const mel = 2 * batch * frames * (n / 2 + 1) * r.mels;
    forward += 2 * (dft + mel);
    backward += dft + mel; // ConvTranspose of the DFT and |X|'s gradient through the mel MatMul, for x̂ only
  }
  assert.equal(countFlops([loss]), forward);
  assert.equal(countFlops([loss, dRecon]), forward + backward);
});

test('bad arguments are refused in one line naming the problem', () => {
  const g = new Graph();
  const a = g.input('a', [2, 1, 4000]);
  const b = g.input('b', [2, 1, 4000]);
  const short = g.input('short', [2, 1, 3999]);
  const cases: [() => unknown, RegExp][] = [
    [() => multiResolutionMelLoss(a, short, { sampleRate: 16000 }), /must have one shape/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 0 }), /sampleRate must be a positive number/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, resolutions: [] }), /at least one resolution/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, resolutions: [{ fftSize: 1000, mels: 64 }] }), /fftSize 1000 must be a power of two from 16 to 4096/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, resolutions: [{ fftSize: 2 * MAX_FFT_SIZE, mels: 64 }] }), new RegExp(`fftSize ${2 * MAX_FFT_SIZE} must be a power of two from 16 to ${MAX_FFT_SIZE}`)],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, resolutions: [{ fftSize: 64, mels: 40 }] }), /mels 40 must be an integer from 1 to the 33 bins/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, weight: -1 }), /weight must be a finite number ≥ 0/],
    [() => multiResolutionMelLoss(a, b, { sampleRate: 16000, logMelWeight: 0 }), /both 0/],
    [() => multiResolutionMelLoss(a, new Graph().input('b', [2, 1, 4000]), { sampleRate: 16000 }), /different graphs/],
  ];
  for (const [call, message] of cases) assert.throws(call, (e: Error) => e.name === 'GraphError' && message.test(e.message) && !e.message.includes('\n'));
});

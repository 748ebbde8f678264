/**
 * The SEANet-style 1-D encoder/decoder (src/models/seanet.ts): its shapes at the default hop of 320
 * (16,000 samples → 50 latent frames → 16,000 samples), its parameter layout, its refusals of
 * configs it cannot build, and a few training steps on a synthetic signal, with a plain MSE loss
 * and with a vector quantizer between encoder and decoder; and the default hop overfitting half a
 * second of real speech with the time-domain L1 loss of the audio modality.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { l1Loss, mseLoss } from '../src/graph/composites.js';
import * as op from '../src/graph/ops.js';
import { Graph } from '../src/graph/graph.js';
import { Rng } from '../src/init/rng.js';
import { defaultSeanetArchitecture, seanet, seanetHop, type SeanetArchitecture } from '../src/models/seanet.js';
import { Adam } from '../src/optim/adam.js';
import { quantizeFeatureMap } from '../src/quantizers/quantizer.js';
import { createQuantizer } from '../src/quantizers/registry.js';
import { BuildContext } from '../src/runtime/build-context.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';

const signal = (samples: number) => ({ channels: 1, height: 1, width: samples });

/**
 * `batch` clips of two sines each (random frequencies from 100 to 2,000 Hz at 16 kHz, random phases,
 * amplitudes 0.2–0.5): a signal a small SEANet can learn to reconstruct in a few dozen steps.
 */
function sines(batch: number, samples: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(batch * samples);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < 2; k++) {
      const omega = (2 * Math.PI * (100 + 1900 * rng.uniform())) / 16000;
      const phase = 2 * Math.PI * rng.uniform();
      const amplitude = 0.2 + 0.3 * rng.uniform();
      for (let t = 0; t < samples; t++) out[b * samples + t]! += amplitude * Math.sin(omega * t + phase);
    }
  }
  return out;
}

test('the default SEANet maps 16,000 samples to 50 latent frames (hop 2·4·5·8 = 320) and back to 16,000 samples', async () => {
  const a = defaultSeanetArchitecture();
  assert.equal(seanetHop(a), 320);
  const arch = seanet(signal(16000), 64, a);
  assert.deepEqual(arch.latentShape(), { height: 1, width: 50, dim: 64 });
  const store = new VariableStore(1);
  const program = await InferenceProgram.create({
    store,
    threads: 1,
    build: (ctx) => {
      const z = arch.encode(ctx.scope('encoder'), ctx.input('x', [1, 1, 1, 16000]));
      return { z, y: arch.decode(ctx.scope('decoder'), z) };
    },
  });
  const out = await program.run({ x: sines(1, 16000, 3) });
  await program.release();
  assert.equal(out.z!.length, 64 * 50);
  assert.equal(out.y!.length, 16000);
  assert.ok([...(out.y as Float32Array)].every(Number.isFinite));
  // Widths double with every downsampling: 32 → 512 at the latent rate, and back.
  assert.deepEqual(store.require('encoder.conv_in.weight').shape, [32, 1, 7]);
  assert.deepEqual(store.require('encoder.down0.unit2.conv1.weight').shape, [16, 32, 3]);
  assert.deepEqual(store.require('encoder.down3.conv.weight').shape, [512, 256, 16]);
  assert.deepEqual(store.require('encoder.to_code.weight').shape, [64, 512, 7]);
  assert.deepEqual(store.require('decoder.up0.conv.weight').shape, [512, 256, 16]);
  assert.deepEqual(store.require('decoder.up3.conv.weight').shape, [64, 32, 4]);
  assert.deepEqual(store.require('decoder.to_signal.weight').shape, [1, 32, 7]);
});

test('every stride keeps the length exact, odd strides included: T → T/s in the encoder and T·s in the decoder', () => {
  for (const strides of [[3], [5, 3], [2, 7], [8, 5, 4, 2]]) {
    const a = defaultSeanetArchitecture({ channels: 2, strides, dilations: [1] });
    const hop = seanetHop(a);
    const arch = seanet(signal(hop * 4), 3, a);
    const g = new Graph();
    const ctx = BuildContext.create(g, new VariableStore(0), 'eval');
    const z = arch.encode(ctx.scope('encoder'), g.input('x', [2, 1, 1, hop * 4]));
    assert.deepEqual(z.shape, [2, 3, 1, 4], `strides ${strides.join('·')}`);
    assert.deepEqual(arch.decode(ctx.scope('decoder'), z).shape, [2, 1, 1, hop * 4], `strides ${strides.join('·')}`);
  }
});

test('configs the SEANet cannot build are refused with a message naming the field and the fix', () => {
  const build = (samples: number, overrides: Partial<Omit<SeanetArchitecture, 'kind'>>) => () => seanet(signal(samples), 8, defaultSeanetArchitecture(overrides));
  assert.throws(build(16001, {}), /16001 samples must be a multiple of the hop 320 \(= 2·4·5·8\); crop or pad/);
  assert.throws(() => seanet({ channels: 1, height: 2, width: 320 }, 8, defaultSeanetArchitecture()), /got height 2; pass audio as one row/);
  assert.throws(build(320, { residualKernel: 4 }), /residualKernel must be odd/);
  assert.throws(build(320, { kernel: 0 }), /kernel must be an integer from 1 to 31, got 0/);
  assert.throws(build(320, { strides: [2, 0] }), /strides\[1\] must be an integer from 1 to 16, got 0/);
  assert.throws(build(320, { dilations: [1.5] }), /dilations\[0\] must be an integer/);
  assert.throws(build(16000, { channels: 512 }), /reach 8192, above 4096; use fewer channels or strides/);
});

/** A small SEANet for the training tests: channels 16, hop 8, dilations 1 and 3, 100 frames. */
const SMALL = defaultSeanetArchitecture({ channels: 16, strides: [2, 4], dilations: [1, 3] });
const [BATCH, SAMPLES] = [4, 800];

test('a few Adam steps of the SEANet encoder+decoder with a plain MSE loss reduce the loss on a synthetic signal', async () => {
  const arch = seanet(signal(SAMPLES), 16, SMALL);
  const program = await TrainingProgram.create({
    store: new VariableStore(5),
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [BATCH, 1, 1, SAMPLES]);
      const y = arch.decode(ctx.scope('decoder'), arch.encode(ctx.scope('encoder'), x));
      return { loss: mseLoss(y, x) };
    },
  });
  const x = sines(BATCH, SAMPLES, 7);
  const losses: number[] = [];
  for (let step = 0; step < 40; step++) losses.push((await program.step({ x }, 3e-3)).loss);
  await program.release();
  const [first, last] = [losses[0]!, Math.min(...losses.slice(-5))];
  assert.ok(losses.every(Number.isFinite), `losses: ${losses.join(', ')}`);
  assert.ok(last < 0.05 * first, `MSE fell from ${first} only to ${last}`);
});

test('the SEANet trains with a vector quantizer on its latent frames: code indices [N, 1, frames], loss falls', async () => {
  const dim = 16;
  const arch = seanet(signal(SAMPLES), dim, SMALL);
  const quantizer = createQuantizer('vq', { codebookSize: 32, dim });
  const program = await TrainingProgram.create({
    store: new VariableStore(9),
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [BATCH, 1, 1, SAMPLES]);
      const q = quantizeFeatureMap(quantizer, ctx.scope('quantizer'), arch.encode(ctx.scope('encoder'), x));
      const y = arch.decode(ctx.scope('decoder'), q.quantized);
      assert.deepEqual(q.indices.shape, [BATCH, 1, SAMPLES / seanetHop(SMALL)]);
      const reconstruction = mseLoss(y, x);
      return { loss: op.add(reconstruction, q.loss), terms: { reconstruction } };
    },
  });
  const x = sines(BATCH, SAMPLES, 11);
  const errors: number[] = [];
  for (let step = 0; step < 40; step++) errors.push((await program.step({ x }, 3e-3)).terms.reconstruction);
  await program.release();
  assert.ok(errors.every(Number.isFinite), `errors: ${errors.join(', ')}`);
  assert.ok(Math.min(...errors.slice(-5)) < 0.3 * errors[0]!, `reconstruction MSE fell from ${errors[0]} only to ${Math.min(...errors.slice(-5))}`);
});

test('the default hop of 320 overfits half a second of speech with the L1 loss: it leaves the silence plateau (L1 = mean|x|) and falls well below it', async () => {
  // dist/test/… → test/fixtures/audio/speech.ogg (espeak-ng at 16 kHz, see the README there).
  const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');
  const clip = await readAudioFile(fixture);
  assert.equal(clip.sampleRate, 16000);
  const samples = 8000;
  const x = clip.samples.slice(0, samples);
  // Predicting silence costs exactly mean|x|: the loss a decoder that learned nothing sits at.
  const silence = x.reduce((sum, v) => sum + Math.abs(v), 0) / samples;
  const arch = seanet(signal(samples), 16, defaultSeanetArchitecture({ channels: 8 }));
  const program = await TrainingProgram.create({
    store: new VariableStore(5),
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const input = ctx.input('x', [1, 1, 1, samples]);
      return { loss: l1Loss(arch.decode(ctx.scope('decoder'), arch.encode(ctx.scope('encoder'), input)), input) };
    },
  });
  const losses: number[] = [];
  for (let step = 0; step < 200; step++) losses.push((await program.step({ x }, 1e-3)).loss);
  await program.release();
  // Measured: on the plateau (≈ mean|x| = 0.036) until step ~70, then down to 0.004–0.008 by step 200.
  const best = Math.min(...losses.slice(-20));
  assert.ok(best < 0.3 * silence, `L1 ${best} after 200 steps, silence costs ${silence}: the decoder did not learn the signal (losses every 20 steps: ${losses.filter((_, i) => i % 20 === 0).map((l) => l.toFixed(4)).join(', ')})`);
});

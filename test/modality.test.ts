import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataset } from '../src/data/dataset.js';
import { Rng } from '../src/init/rng.js';
import { Evaluator } from '../src/eval/evaluator.js';
import { buildModel, makeModelConfig, parseModelConfig } from '../src/models/config.js';
import { imageMetrics } from '../src/modality/image/image-metrics.js';
import { meanSsim } from '../src/modality/image/ssim.js';
import type { ExampleSet, Modality } from '../src/modality/modality.js';
import { modalityNamed, modalityOf } from '../src/modality/registry.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { VariableStore } from '../src/runtime/variables.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';

// dist/test/… → the repository's test/fixtures, written by the version-1 code (see generate.mjs there).
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'v1-checkpoints');

test('a config without a modality is an image model, and an unknown modality is refused in one line', () => {
  const v1 = JSON.parse(readFileSync(join(fixtures, 'vq', 'config.json'), 'utf8')) as Record<string, unknown>;
  const config = parseModelConfig(v1, 'v1.json');
  assert.equal('modality' in config, false, 'an image config keeps the bytes configs had before modalities');
  assert.equal(modalityOf(config).name, 'image');
  assert.equal(modalityOf(parseModelConfig({ ...v1, modality: 'image' }, 'v1.json')).name, 'image');
  assert.throws(() => parseModelConfig({ ...v1, modality: 'video' }, 'v1.json'), /^ModelConfigError: v1.json: modality 'video' is not one this vqlab knows \(image, audio\); a newer vqlab wrote it\?$/);
  assert.throws(() => modalityNamed('video'), /^Error: unknown modality 'video'; choose one of image, audio$/);
  assert.throws(() => parseModelConfig({ ...v1, modality: 'audio' }, 'v1.json'), /^ModelConfigError: v1.json: input.sampleRate must be an integer from 1 to 192000, got undefined$/, 'an image input is not an audio one');
  const made = makeModelConfig({ modality: 'image', input: { channels: 1, height: 8, width: 8 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4 }) });
  assert.equal('modality' in made, false);
});

test('the image modality describes its examples, files and model families', () => {
  const image = modalityNamed();
  const config = makeModelConfig({ input: { channels: 3, height: 12, width: 16 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4 }), model: 'conv' });
  assert.deepEqual(image.exampleDims(config), [3, 12, 16]);
  assert.deepEqual([image.defaultModel, ...image.modelKinds], ['reference-mnist', 'reference-mnist', 'conv']);
  assert.deepEqual([image.previewName('test'), image.previewName('train'), image.outputExtension, image.signalName], ['recon.png', 'recon-train.png', '.png', 'image']);
  assert.match(image.requestProblem({ imageSize: 8 }) ?? '', /^--image-size 8 is smaller than the 11×11 window of SSIM/);
  assert.equal(image.requestProblem({ imageSize: 11 }), undefined);
  const tiny = makeDataset({ images: new Float32Array(2 * 64), count: 2, channels: 1, height: 8, width: 8, name: 'tiny' });
  assert.match(image.testSetProblem(tiny) ?? '', /^images of 8×8 pixels are smaller than the 11×11 window of SSIM/);
  assert.throws(() => image.valuesFor(tiny, config), /^Error: images are 1×8×8 but the model expects 3×12×16$/);
  const png = image.encodeOutput(new Float32Array(3 * 12 * 16).fill(0.5), config);
  assert.deepEqual(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47], 'a PNG file');
});

test('image metrics accumulated batch by batch equal the metrics of the whole set', () => {
  const shape = { channels: 2, height: 12, width: 13 };
  const size = shape.channels * shape.height * shape.width;
  const count = 7;
  const rng = new Rng(3);
  const a = Float32Array.from({ length: count * size }, () => rng.uniform());
  const b = Float32Array.from({ length: count * size }, () => rng.uniform());
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += (b[i]! - a[i]!) ** 2;
  const whole = { mse: squared / a.length, psnr: 10 * Math.log10(a.length / squared), ssim: meanSsim(a, b, count, shape) };
  for (const batch of [1, 3, 7]) {
    const metrics = imageMetrics(shape, { slow: true });
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      metrics.add(a.subarray(start * size, (start + n) * size), b.subarray(start * size, (start + n) * size), n);
    }
    const r = metrics.result();
    assert.deepEqual(Object.keys(r), ['mse', 'psnr', 'ssim'], 'the order eval prints them in');
    assert.equal(r.mse, whole.mse);
    assert.equal(r.ssim, whole.ssim, `batch ${batch}: the same sum in the same order`);
    assert.ok(Math.abs(r.psnr - whole.psnr) < 1e-12);
  }
  const fast = imageMetrics(shape, { slow: false });
  fast.add(a, b, count);
  assert.ok(Number.isNaN(fast.result().ssim), 'skipped: NaN, null in JSON');
});

test('a version-1 checkpoint encodes through its modality to the indices it was saved with', async () => {
  const dir = join(fixtures, 'simvq');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { indices: number[] };
  const tokenizer = await Tokenizer.load(dir, { batch: 2, threads: 1 });
  try {
    assert.equal(tokenizer.exampleSize, 64);
    const x = Float32Array.from({ length: 2 * 64 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    assert.deepEqual(Array.from(await tokenizer.encode(x)), expected.indices);
  } finally {
    await tokenizer.release();
  }
});

test('the evaluator measures with its modality\'s metrics and keeps the previews asked for, whatever the modality', async () => {
  // A modality of flat examples in sets of its own type, measured by the largest absolute error.
  interface FlatSet extends ExampleSet { readonly values: Float32Array }
  const image = modalityNamed();
  const flat: Modality = {
    ...image,
    valuesFor: (set) => (set as FlatSet).values,
    metrics: () => {
      let worst = 0, squared = 0, values = 0;
      return {
        add(originals, reconstructions, count) {
          for (let i = 0; i < count * 64; i++) {
            worst = Math.max(worst, Math.abs(reconstructions[i]! - originals[i]!));
            squared += (reconstructions[i]! - originals[i]!) ** 2;
            values++;
          }
        },
        result: () => ({ mse: squared / values, worst }),
      };
    },
  };
  const config = makeModelConfig({ input: { channels: 1, height: 8, width: 8 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4 }) });
  const set: FlatSet = { name: 'flat', count: 5, values: Float32Array.from({ length: 5 * 64 }, (_, i) => (i % 7) / 7) };
  const evaluator = await Evaluator.create(flat, config, buildModel(config), new VariableStore(1), { batch: 2, threads: 1 });
  try {
    const { metrics, reconstructions } = await evaluator.evaluate(set, { keep: [4, 1] });
    assert.deepEqual(Object.keys(metrics), ['mse', 'worst', 'utilization', 'perplexity', 'dead_codes', 'effective_bits', 'codes_covering_50', 'codes_covering_90']);
    assert.ok(metrics.worst > 0 && metrics.worst <= 1, 'reconstructions clamped to [0, 1] by the modality');
    const all = await evaluator.evaluate(set, { keep: 5 });
    assert.deepEqual(reconstructions, Float32Array.from([...all.reconstructions.subarray(4 * 64), ...all.reconstructions.subarray(64, 128)]), 'previews in the order asked for');
  } finally {
    await evaluator.release();
  }
});

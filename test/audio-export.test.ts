/**
 * `vqlab export` of a speech model: one encoder.onnx and decoder.onnx whose signal length is left
 * to run time (any multiple of the hop), run in plain onnxruntime-node at two lengths and compared
 * with vqlab's own coding at each length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { buildModel, type ModelConfig } from '../src/models/config.js';
import { audioModality } from '../src/modality/audio/audio-modality.js';
import { loadModelCheckpoint } from '../src/persistence/checkpoint.js';
import { resolveQuantizerConfig } from '../src/quantizers/index.js';
import type { VariableStore } from '../src/runtime/variables.js';
import { BakedSession } from '../src/tokenize/baked-model.js';
import { exportOnnx } from '../src/tokenize/export.js';
import { decoderModelBytes, encoderModelBytes, Tokenizer } from '../src/tokenize/tokenizer.js';
import { trainModel } from '../src/train/train.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { runCli } from './helpers/run-cli.js';

// dist/test/… → the repository's test/fixtures/audio.
const speech = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');

/** vqlab's fixed-shape encoder and decoder of the model built for signals of `samples` samples. */
async function libraryCoding(store: VariableStore, config: ModelConfig, samples: number, signal: Float32Array): Promise<{ indices: number[]; decoded: Float32Array }> {
  const sized = audioModality.withExampleLength!(config, samples);
  const model = buildModel(sized);
  const frames = model.latent.width;
  const indicesSpec = { name: 'indices', dtype: 'int64', shape: [1, 1, frames] } as const;
  const audioSpec = { name: 'audio', dtype: 'float32', shape: [1, 1, 1, samples] } as const;
  const encoder = await BakedSession.create(encoderModelBytes(model, store, sized, 1), audioSpec, indicesSpec, 1);
  const decoder = await BakedSession.create(decoderModelBytes(model, store, sized, 1), indicesSpec, audioSpec, 1);
  const indices = (await encoder.run(signal)) as BigInt64Array;
  const decoded = (await decoder.run(indices)) as Float32Array;
  await encoder.release();
  await decoder.release();
  return { indices: [...indices].map(Number), decoded };
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

test('a speech model is exported with a dynamic length: plain ORT codes and decodes two lengths as vqlab does', async () => {
  const data = tempDir('speech-export-data');
  for (const name of ['a.ogg', 'b.ogg']) copyFileSync(speech, join(data, name));
  const out = join(tempDir('speech-export'), 'run');
  await trainModel({
    quantizer: resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 }),
    modality: 'audio', model: 'seanet', seanet: { channels: 4, strides: [4, 5, 8], dilations: [1] }, cropSamples: 3200,
    lr: 3e-3, batch: 1, epochs: 1, seed: 1, threads: 1, out, data,
  });
  const target = tempDir('speech-onnx');
  const result = await exportOnnx(out, { outDir: target });
  assert.deepEqual(result.inputShape, [1, 1, 1, 'samples']);
  assert.deepEqual(result.indicesShape, [1, 1, 'frames']);
  assert.equal(result.hop, 160);

  const clip = (await readAudioFile(speech)).samples;
  const { config, store } = await loadModelCheckpoint(out);
  const encoder = await ort.InferenceSession.create(result.encoder);
  const decoder = await ort.InferenceSession.create(result.decoder);
  assert.deepEqual(encoder.inputNames, ['audio']);
  assert.deepEqual(decoder.outputNames, ['audio']);
  // One window (what `vqlab encode` codes in one piece) and two and a half windows of the clip.
  for (const samples of [3200, 8000]) {
    const signal = clip.slice(4000, 4000 + samples);
    const encoded = (await encoder.run({ audio: new ort.Tensor('float32', signal, [1, 1, 1, samples]) })).indices!;
    assert.deepEqual(encoded.dims, [1, 1, samples / 160]);
    const indices = [...(encoded.data as BigInt64Array)].map(Number);
    const decodedTensor = (await decoder.run({ indices: encoded })).audio!;
    assert.deepEqual(decodedTensor.dims, [1, 1, 1, samples]);
    const decoded = decodedTensor.data as Float32Array;
    const library = await libraryCoding(store, config, samples, signal);
    assert.deepEqual(indices, library.indices, `codes of ${samples} samples`);
    assert.ok(maxDifference(decoded, library.decoded) < 1e-5, `decoded ${samples} samples differ by ${maxDifference(decoded, library.decoded)}`);
    if (samples === 3200) {
      const tokenizer = await Tokenizer.load(out, { batch: 1, threads: 1 });
      assert.deepEqual([...(await tokenizer.encode(signal))], indices, 'one window: the codes of vqlab encode');
      await tokenizer.release();
    }
  }
  await encoder.release();
  await decoder.release();

  const cli = await runCli(['export', out, '--out', join(target, 'cli'), '--batch', '2']);
  assert.equal(cli.code, 0, cli.stderr);
  const printed = JSON.parse(cli.stdout) as { inputShape: unknown[]; indicesShape: unknown[]; hop: number };
  assert.deepEqual([printed.inputShape, printed.indicesShape, printed.hop], [[2, 1, 1, 'samples'], [2, 1, 'frames'], 160]);
  await assert.rejects(exportOnnx(out, { outDir: join(target, 'no'), batch: 'dynamic' }), /exported with a dynamic length, so the batch is fixed/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { exportOnnx } from '../src/tokenize/export.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { tempDir, tinyCheckpoint, tinyQuantizer } from './helpers/checkpoint-fixture.js';

test('exported encoder.onnx / decoder.onnx run in plain ONNX Runtime and match the library', async () => {
  const { out } = await tinyCheckpoint({ quantizer: tinyQuantizer('simvq') });
  const target = tempDir('export');
  const result = await exportOnnx(out, { outDir: target, batch: 4 });
  assert.deepEqual(result.inputShape, [4, 1, 28, 28]);
  assert.deepEqual(result.indicesShape, [4, 7, 7]);

  const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
  const images = digits.images.slice(0, 4 * 784);

  // Plain ORT, with nothing but the file: the weights are initializers, the only input is the image.
  const encoder = await ort.InferenceSession.create(result.encoder);
  assert.deepEqual(encoder.inputNames, ['image']);
  assert.deepEqual(encoder.outputNames, ['indices']);
  const encoded = await encoder.run({ image: new ort.Tensor('float32', images, [4, 1, 28, 28]) });
  const indices = encoded.indices!;
  assert.equal(indices.type, 'int64');
  assert.deepEqual(indices.dims, [4, 7, 7]);

  const decoder = await ort.InferenceSession.create(result.decoder);
  assert.deepEqual(decoder.inputNames, ['indices']);
  const decoded = (await decoder.run({ indices })).image!;
  assert.deepEqual(decoded.dims, [4, 1, 28, 28]);
  const pixels = decoded.data as Float32Array;
  assert.ok(pixels.every((v) => v >= 0 && v <= 1), 'decoder output is clamped to [0, 1]');

  // The library's tokenizer (a different batch size, 3) gives the same codes and images.
  const tokenizer = await Tokenizer.load(out, { batch: 3, threads: 1 });
  const libraryIndices = await tokenizer.encode(images);
  assert.deepEqual([...libraryIndices], [...(indices.data as BigInt64Array)].map(Number));
  const libraryImages = await tokenizer.decode(libraryIndices);
  let maxDiff = 0;
  for (let i = 0; i < pixels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pixels[i]! - libraryImages[i]!));
  assert.ok(maxDiff < 1e-5, `decoded images differ by ${maxDiff}`);
  await assert.rejects(tokenizer.decode([99, ...new Array(48).fill(0)]), /index 99 at position 0 is outside the codebook \[0, 16\)/);
  await assert.rejects(tokenizer.encode(new Float32Array(100)), /not a whole number of 1×28×28 images/);
  await tokenizer.release();
  await encoder.release();
  await decoder.release();
});

test('an exported model with a dynamic batch runs at batch 1 and batch 5 and matches the library', async () => {
  // SimVQ with K = 64 decodes 49 indices (batch 1) and 98 (batch 2) by different routes; K = 512
  // makes the library's search use its grouped argmin, which the exported model does not.
  const cases = [tinyQuantizer('ema'), tinyQuantizer('simvq', { codebookSize: 64 }), tinyQuantizer('vq', { codebookSize: 512 })];
  for (const config of cases) {
    const quantizer = `${config.kind} K=${'codebookSize' in config ? config.codebookSize : 16}`;
    const { out } = await tinyCheckpoint({ quantizer: config });
    const target = tempDir('export-dynamic');
    const result = await exportOnnx(out, { outDir: target });
    assert.deepEqual(result.inputShape, ['batch', 1, 28, 28]);
    assert.deepEqual(result.indicesShape, ['batch', 7, 7]);
    const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
    const images = digits.images.slice(0, 5 * 784);

    const encoder = await ort.InferenceSession.create(result.encoder);
    const decoder = await ort.InferenceSession.create(result.decoder);
    const five = await encoder.run({ image: new ort.Tensor('float32', images, [5, 1, 28, 28]) });
    assert.deepEqual(five.indices!.dims, [5, 7, 7]);
    // Image 3 alone gives the codes it got inside the batch of five.
    const one = await encoder.run({ image: new ort.Tensor('float32', images.slice(3 * 784, 4 * 784), [1, 1, 28, 28]) });
    assert.deepEqual(one.indices!.dims, [1, 7, 7]);
    assert.deepEqual([...(one.indices!.data as BigInt64Array)], [...(five.indices!.data as BigInt64Array)].slice(3 * 49, 4 * 49));
    const decodedFive = (await decoder.run({ indices: five.indices! })).image!;
    const decodedOne = (await decoder.run({ indices: one.indices! })).image!;
    assert.deepEqual(decodedFive.dims, [5, 1, 28, 28]);
    assert.deepEqual(decodedOne.dims, [1, 1, 28, 28]);
    const pixelsFive = decodedFive.data as Float32Array, pixelsOne = decodedOne.data as Float32Array;
    for (let i = 0; i < 784; i++) assert.ok(Math.abs(pixelsOne[i]! - pixelsFive[3 * 784 + i]!) < 1e-5, `${quantizer}: pixel ${i} of image 3`);

    // The library's fixed-batch tokenizer gives the same codes.
    const tokenizer = await Tokenizer.load(out, { batch: 2, threads: 1 });
    assert.deepEqual([...(await tokenizer.encode(images))], [...(five.indices!.data as BigInt64Array)].map(Number), quantizer);
    await tokenizer.release();
    await encoder.release();
    await decoder.release();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { encodePng } from '../src/images/encode-png.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { runCli } from './helpers/run-cli.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

const TINY_FLAGS = ['--quantizer', 'vq', '--codebook-size', '16', '--dim', '8', '--batch', '32', '--train-limit', '64', '--test-limit', '40', '--threads', '1', '--lr', '0.001'];

test('train, resume, eval, encode, decode and export from the command line', async () => {
  const work = tempDir('cli');
  const run = join(work, 'run');

  // train prints one JSON object: the test metrics of the trained checkpoint.
  const trained = await runCli(['train', ...TINY_FLAGS, '--epochs', '1', '--out', run, '--quiet']);
  assert.equal(trained.code, 0, trained.stderr);
  assert.equal(trained.stderr, '');
  const summary = JSON.parse(trained.stdout) as Record<string, number>;
  assert.equal(summary.epochs, 1);
  for (const key of ['mse', 'psnr', 'ssim', 'utilization', 'perplexity', 'dead_codes']) assert.equal(typeof summary[key], 'number', key);

  // --resume takes everything else from the checkpoint and trains the remaining epoch.
  const resumed = await runCli(['train', '--resume', run, '--epochs', '2', '--threads', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((JSON.parse(resumed.stdout) as { epochs: number }).epochs, 2);
  assert.match(resumed.stderr, /epoch 2\/2/);
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);

  // eval: exactly one JSON object with the six keys, and the PNG grid.
  const grid = join(work, 'grid.png');
  const evaluated = await runCli(['eval', run, '--grid', grid, '--threads', '1']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.equal(evaluated.stdout.trim().split('\n').length, 1);
  assert.deepEqual(Object.keys(JSON.parse(evaluated.stdout) as object).sort(), ['dead_codes', 'mse', 'perplexity', 'psnr', 'ssim', 'utilization']);
  const png = PNG.sync.read(readFileSync(grid));
  assert.ok(png.width > 8 * 28 && png.height > 4 * 28, `${png.width}×${png.height}`);

  // encode two digit PNGs → JSON indices equal to the library's.
  const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
  const files = [0, 1].map((i) => {
    const file = join(work, `digit${i}.png`);
    writeFileSync(file, encodePng(digits.images.subarray(i * 784, (i + 1) * 784), { channels: 1, height: 28, width: 28 }));
    return file;
  });
  const codes = join(work, 'codes.json');
  const encoded = await runCli(['encode', run, ...files, '--out', codes, '--threads', '1']);
  assert.equal(encoded.code, 0, encoded.stderr);
  const json = JSON.parse(readFileSync(codes, 'utf8')) as { grid: number[]; codebook_size: number; images: { file: string; indices: number[][] }[] };
  assert.deepEqual(json.grid, [7, 7]);
  assert.equal(json.codebook_size, 16);
  assert.deepEqual(json.images.map((i) => i.file), ['digit0.png', 'digit1.png']);
  const tokenizer = await Tokenizer.load(run, { threads: 1 });
  // The PNG round trip quantizes pixels to 8 bits, as the CLI saw them.
  const pixels = new Float32Array(2 * 784);
  files.forEach((f, i) => PNG.sync.read(readFileSync(f)).data.forEach((v, j) => { if (j % 4 === 0) pixels[i * 784 + j / 4] = v / 255; }));
  assert.deepEqual(json.images.flatMap((i) => i.indices.flat()), [...(await tokenizer.encode(pixels))]);

  // decode the JSON → one 28×28 grayscale PNG per image.
  const decodedDir = join(work, 'decoded');
  const decoded = await runCli(['decode', run, codes, '--out', decodedDir, '--threads', '1']);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.deepEqual(decoded.stdout.trim().split('\n'), ['digit0', 'digit1'].map((n) => join(decodedDir, `${n}.decoded.png`)));
  const image = PNG.sync.read(readFileSync(join(decodedDir, 'digit0.decoded.png')));
  assert.deepEqual([image.width, image.height, image.color], [28, 28, false]);
  // A bare h×w grid is accepted too; a grid of the wrong size is refused.
  writeFileSync(join(work, 'bare.json'), JSON.stringify(json.images[0]!.indices));
  assert.equal((await runCli(['decode', run, join(work, 'bare.json'), '--out', decodedDir])).code, 0);
  writeFileSync(join(work, 'small.json'), JSON.stringify([[1, 2], [3, 4]]));
  const small = await runCli(['decode', run, join(work, 'small.json')]);
  assert.equal(small.code, 1);
  assert.match(small.stderr, /^vqlab: .*small\.json: grid 0 is 2×2 but the model's latent grid is 7×7\n$/);

  // export writes both models.
  const exported = await runCli(['export', run, '--out', join(work, 'onnx')]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(existsSync(join(work, 'onnx', 'encoder.onnx')) && existsSync(join(work, 'onnx', 'decoder.onnx')));
  await tokenizer.release();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { encodePng } from '../src/images/encode-png.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import type { TrainSummary } from '../src/train/summary.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { runCli } from './helpers/run-cli.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';

const TINY_FLAGS = ['--quantizer', 'vq', '--codebook-size', '16', '--dim', '8', '--batch', '32', '--train-limit', '64', '--test-limit', '40', '--threads', '1', '--lr', '0.001'];
const METRIC_KEYS = ['codes_covering_50', 'codes_covering_90', 'dead_codes', 'effective_bits', 'mse', 'perplexity', 'psnr', 'ssim', 'utilization'];

// One small checkpoint shared by the eval, encode, decode and export tests; each test checks one
// command, so a failing command does not hide the others.
let shared: Promise<TrainSummary> | undefined;
const checkpoint = async (): Promise<string> => (await (shared ??= tinyCheckpoint())).out;

/** Two test digits written as 8-bit grayscale PNGs, and their pixels as the files hold them. */
function digitFiles(dir: string): { files: string[]; pixels: Float32Array } {
  const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
  const files = [0, 1].map((i) => {
    const file = join(dir, `digit${i}.png`);
    writeFileSync(file, encodePng(digits.images.subarray(i * 784, (i + 1) * 784), { channels: 1, height: 28, width: 28 }));
    return file;
  });
  // The PNG round trip quantizes pixels to 8 bits, as the CLI sees them.
  const pixels = new Float32Array(2 * 784);
  files.forEach((f, i) => PNG.sync.read(readFileSync(f)).data.forEach((v, j) => { if (j % 4 === 0) pixels[i * 784 + j / 4] = v / 255; }));
  return { files, pixels };
}

test('train prints the test metrics of the checkpoint it wrote as one JSON object', async () => {
  const run = join(tempDir('cli-train'), 'run');
  const trained = await runCli(['train', ...TINY_FLAGS, '--epochs', '1', '--out', run, '--quiet']);
  assert.equal(trained.code, 0, trained.stderr);
  assert.equal(trained.stderr, '', '--quiet prints nothing on stderr');
  assert.equal(trained.stdout.trim().split('\n').length, 1);
  const summary = JSON.parse(trained.stdout) as Record<string, number | string>;
  assert.equal(summary.out, run);
  assert.equal(summary.epochs, 1);
  assert.equal(summary.steps, 2, '64 images in batches of 32');
  for (const key of METRIC_KEYS) assert.equal(typeof summary[key], 'number', key);
  for (const file of ['checkpoint.json', 'metrics.jsonl', 'recon.png']) assert.ok(existsSync(join(run, file)), `${file} written`);
  for (const file of ['model.safetensors', 'optimizer.safetensors', 'config.json', 'trainer-state.json']) {
    assert.ok(existsSync(join(resolveCheckpoint(run), file)), `${file} written into the checkpoint folder`);
  }
});

test('train --resume takes the settings from the checkpoint and trains the remaining epochs', async () => {
  const run = (await tinyCheckpoint()).out;
  const resumed = await runCli(['train', '--resume', run, '--epochs', '2', '--threads', '1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout) as { epochs: number; steps: number };
  assert.deepEqual([summary.epochs, summary.steps], [2, 2 * (64 / 16)], 'batch 16 and 64 images from the checkpoint');
  assert.match(resumed.stderr, /epoch 2\/2/);
  assert.doesNotMatch(resumed.stderr, /epoch 1\/2/, 'the first epoch is not trained again');
  assert.deepEqual(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1, 2]);
});

test('eval prints exactly one JSON object with the nine metrics and writes the PNG grid', async () => {
  const run = await checkpoint();
  const grid = join(tempDir('cli-eval'), 'grid.png');
  const evaluated = await runCli(['eval', run, '--grid', grid, '--threads', '1']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.equal(evaluated.stdout.trim().split('\n').length, 1);
  assert.deepEqual(Object.keys(JSON.parse(evaluated.stdout) as object).sort(), METRIC_KEYS);
  // 16 test images, 8 a row, each pair of rows originals above reconstructions, scaled up 3×.
  const png = PNG.sync.read(readFileSync(grid));
  assert.ok(png.width > 8 * 28 && png.height > 4 * 28, `${png.width}×${png.height}`);

  // --split train: the run's own 64 training images (its --train-limit), every latent counted, no SSIM.
  const trainGrid = join(tempDir('cli-eval'), 'train.png');
  const onTrain = await runCli(['eval', run, '--split', 'train', '--grid', trainGrid, '--threads', '1']);
  assert.equal(onTrain.code, 0, onTrain.stderr);
  const train = JSON.parse(onTrain.stdout) as Record<string, number | null>;
  assert.equal(train['ssim'], null);
  assert.equal(train['utilization'], (16 - train['dead_codes']!) / 16);
  assert.notEqual(train['mse'], (JSON.parse(evaluated.stdout) as Record<string, number>)['mse'], 'another set than the test set');
  assert.ok(existsSync(trainGrid));
  // --limit N takes N of the split's images (--test-limit is the same option under train's name).
  const limited = await runCli(['eval', run, '--split', 'train', '--limit', '32', '--grid', join(tempDir('cli-eval'), 'a.png'), '--threads', '1']);
  assert.equal(limited.code, 0, limited.stderr);
  assert.notEqual((JSON.parse(limited.stdout) as Record<string, number>)['mse'], train['mse'], '32 of the 64 training images');
  const aliased = await runCli(['eval', run, '--split', 'train', '--test-limit', '32', '--grid', join(tempDir('cli-eval'), 'b.png'), '--threads', '1']);
  assert.equal(aliased.stdout, limited.stdout);
  const both = await runCli(['eval', run, '--limit', '32', '--test-limit', '32']);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give --limit or --test-limit, not both/);
  // --diagnostics: the diagnostics.jsonl record of the checkpoint, over the training set by default.
  const diagnosed = await runCli(['eval', run, '--diagnostics', '--threads', '1']);
  assert.equal(diagnosed.code, 0, diagnosed.stderr);
  const record = JSON.parse(diagnosed.stdout) as Record<string, unknown>;
  assert.deepEqual([record['epoch'], record['split'], record['latents']], [1, 'train', 64 * 49]);
  for (const key of ['utilization', 'perplexity', 'effective_bits', 'codes_covering_50', 'codes_covering_90', 'mse']) assert.equal(record[key], train[key], key);
  assert.equal(record['singular_values'], undefined, 'VQ has no projection W');
  const withGrid = await runCli(['eval', run, '--diagnostics', '--grid', join(tempDir('cli-eval'), 'c.png')]);
  assert.match(withGrid.stderr, /--diagnostics writes no reconstruction grid; drop --grid/);
  const bad = await runCli(['eval', run, '--split', 'validation']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--split must be one of test, train, got 'validation'/);
});

test('encode writes the code indices of PNG files, equal to the library tokenizer\'s', async () => {
  const run = await checkpoint();
  const work = tempDir('cli-encode');
  const { files, pixels } = digitFiles(work);
  const codes = join(work, 'codes.json');
  const encoded = await runCli(['encode', run, ...files, '--out', codes, '--threads', '1']);
  assert.equal(encoded.code, 0, encoded.stderr);
  const json = JSON.parse(readFileSync(codes, 'utf8')) as { grid: number[]; codebook_size: number; images: { file: string; indices: number[][] }[] };
  assert.deepEqual(json.grid, [7, 7]);
  assert.equal(json.codebook_size, 16);
  assert.deepEqual(json.images.map((i) => i.file), ['digit0.png', 'digit1.png']);
  const tokenizer = await Tokenizer.load(run, { threads: 1 });
  try {
    assert.deepEqual(json.images.flatMap((i) => i.indices.flat()), [...(await tokenizer.encode(pixels))]);
  } finally {
    await tokenizer.release();
  }
});

test('decode turns code indices into one grayscale PNG per image and refuses a grid of the wrong size', async () => {
  const run = await checkpoint();
  const work = tempDir('cli-decode');
  const tokenizer = await Tokenizer.load(run, { threads: 1 });
  let indices: Int32Array;
  try {
    indices = await tokenizer.encode(digitFiles(work).pixels);
  } finally {
    await tokenizer.release();
  }
  const grid = (i: number): number[][] => Array.from({ length: 7 }, (_, y) => [...indices.subarray(i * 49 + y * 7, i * 49 + y * 7 + 7)]);
  const codes = join(work, 'codes.json');
  writeFileSync(codes, JSON.stringify({ grid: [7, 7], codebook_size: 16, images: [{ file: 'digit0.png', indices: grid(0) }, { file: 'digit1.png', indices: grid(1) }] }));
  const decodedDir = join(work, 'decoded');
  const decoded = await runCli(['decode', run, codes, '--out', decodedDir, '--threads', '1']);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.deepEqual(decoded.stdout.trim().split('\n'), ['digit0', 'digit1'].map((n) => join(decodedDir, `${n}.decoded.png`)));
  const image = PNG.sync.read(readFileSync(join(decodedDir, 'digit0.decoded.png')));
  assert.deepEqual([image.width, image.height, image.color], [28, 28, false]);
  // A bare h×w grid is accepted too; a grid of the wrong size is refused.
  writeFileSync(join(work, 'bare.json'), JSON.stringify(grid(0)));
  assert.equal((await runCli(['decode', run, join(work, 'bare.json'), '--out', decodedDir])).code, 0);
  writeFileSync(join(work, 'small.json'), JSON.stringify([[1, 2], [3, 4]]));
  const small = await runCli(['decode', run, join(work, 'small.json')]);
  assert.equal(small.code, 1);
  assert.match(small.stderr, /^vqlab: .*small\.json: grid 0 has 2 rows but the model's latent grid is 7×7\n$/);
});

test('export writes an encoder and a decoder that plain ONNX Runtime runs at any batch size', async () => {
  const run = await checkpoint();
  const out = join(tempDir('cli-export'), 'onnx');
  const exported = await runCli(['export', run, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  const result = JSON.parse(exported.stdout) as { encoder: string; decoder: string; inputShape: unknown[]; indicesShape: unknown[] };
  assert.deepEqual([result.encoder, result.decoder], [join(out, 'encoder.onnx'), join(out, 'decoder.onnx')]);
  assert.deepEqual([result.inputShape, result.indicesShape], [['batch', 1, 28, 28], ['batch', 7, 7]]);
  const encoder = await ort.InferenceSession.create(result.encoder);
  try {
    const codes = await encoder.run({ image: new ort.Tensor('float32', new Float32Array(3 * 784), [3, 1, 28, 28]) });
    assert.deepEqual(codes.indices!.dims, [3, 7, 7]);
  } finally {
    await encoder.release();
  }
});

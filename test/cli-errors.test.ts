import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Graph } from '../src/graph/graph.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { BuildContext } from '../src/runtime/build-context.js';
import { VariableStore } from '../src/runtime/variables.js';
import { checkTrainingMemory, MemoryBudgetError } from '../src/train/memory.js';
import { decodeSafetensors, encodeSafetensors } from '../src/persistence/safetensors.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { CHECKSUMS_FILE, checksumsText } from '../src/persistence/checksums.js';
import { assertOneLineError, runCli } from './helpers/run-cli.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';

let checkpoint = '';

before(async () => {
  checkpoint = (await tinyCheckpoint()).out;
});

/** A copy of the run's last checkpoint folder, which every command reads as a checkpoint itself. */
function copyCheckpoint(): string {
  const dir = tempDir('bad');
  cpSync(resolveCheckpoint(checkpoint), dir, { recursive: true });
  return dir;
}

/**
 * Record the checksums of `dir`'s files again after a test edited one, so that what refuses the
 * edited checkpoint is the check of its contents, not of its checksums (checkpoint-checksums.test.ts).
 */
async function reseal(dir: string): Promise<void> {
  const files = ['model.safetensors', 'optimizer.safetensors', 'config.json', 'trainer-state.json'];
  writeFileSync(join(dir, CHECKSUMS_FILE), await checksumsText(new Map(files.map((f) => [f, readFileSync(join(dir, f))]))));
}

function writePng(file: string, width: number, height: number, color: boolean): void {
  const png = new PNG({ width, height });
  png.data.fill(128);
  writeFileSync(file, PNG.sync.write(png, { colorType: color ? 2 : 0 }));
}

test('unknown flags, commands and choices are refused with the valid ones listed', async () => {
  assertOneLineError(await runCli(['train', '--bogus', '1']), /unknown option '--bogus' for 'vqlab train'; valid options: --quantizer, --quantizer-option, --codebook-size, .*--simvq-optimize.*--help/);
  assertOneLineError(await runCli(['train', '--quantizer', 'pq']), /--quantizer: quantizer 'pq': unknown quantizer 'pq'; valid names: vq, ema, simvq, fsq, lfq, residual/);
  assertOneLineError(await runCli(['train', '--quantizer', 'ema', '--quantizer-option', 'decai=0.9']), /ema: unknown option 'decai'; valid options: codebookSize, dim, beta, weight, decay/);
  assertOneLineError(await runCli(['train', '--quantizer', 'ema', '--quantizer-option', 'decay=1.5']), /ema: decay must be a finite number >= 0 and < 1, got 1.5/);
  assertOneLineError(await runCli(['train', '--quantizer', 'fsq', '--codebook-size', '512']), /--codebook-size does not apply to quantizer 'fsq' \(it has no option 'codebookSize'\); its options: dim, levels/);
  assertOneLineError(await runCli(['train', '--batch', 'lots']), /--batch must be an integer >= 1, got 'lots'/);
  assertOneLineError(await runCli(['train', '--adam-betas', '0.5']), /--adam-betas takes two numbers in \[0, 1\) separated by a comma, e.g. 0.5,0.9; got '0.5'/);
  assertOneLineError(await runCli(['train', '--optimizer-preset', 'paper']), /--optimizer-preset must be one of reference, simvq-paper, got 'paper'/);
  assertOneLineError(await runCli(['train', '--data', 'fashion-mnist-v2']), /dataset path .*fashion-mnist-v2 does not exist; check the path, give a dataset name \(fashion-mnist\), or omit it/);
  assertOneLineError(await runCli(['eval']), /'vqlab eval' needs one checkpoint directory/);
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^vqlab: unknown command 'frobnicate'; choose one of train, eval, encode, decode, export/);
});

test('a refused train or decode leaves no folder it created behind', async () => {
  const box = tempDir('refused-out');
  assertOneLineError(await runCli(['train', '--data', join(box, 'no-such-data'), '--out', join(box, 'runs', 'new')]), /no-such-data does not exist/);
  const indices = join(box, 'indices.json');
  writeFileSync(indices, '{}');
  assertOneLineError(await runCli(['decode', join(box, 'no-such-run'), indices, '--out', join(box, 'decoded', 'pngs')]), /config\.json does not exist/);
  assert.deepEqual(readdirSync(box), ['indices.json']);
  // The default --out (runs/<time>-<quantizer>, and runs/ itself) is created in the working folder, and removed again.
  assertOneLineError(await runCli(['train', '--data', join(box, 'no-such-data')], {}, box), /no-such-data does not exist/);
  assert.equal(existsSync(join(box, 'runs')), false);
  // A folder that existed before is kept, empty or not.
  mkdirSync(join(box, 'mine'));
  assertOneLineError(await runCli(['train', '--data', join(box, 'no-such-data'), '--out', join(box, 'mine')]), /no-such-data does not exist/);
  assert.equal(existsSync(join(box, 'mine')), true);
});

test('every command has --help', async () => {
  for (const command of ['train', 'eval', 'encode', 'decode', 'export', 'verify']) {
    const r = await runCli([command, '--help']);
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^usage: vqlab ${command}`), command);
    assert.match(r.stdout, /--help/);
  }
});

test('missing or corrupt checkpoints fail with one line naming the file', async () => {
  const missing = join(tempDir('missing'), 'nothing-here');
  assertOneLineError(await runCli(['eval', missing]), /config\.json does not exist; is this a vqlab checkpoint directory/);

  const truncated = copyCheckpoint();
  const bytes = readFileSync(join(truncated, 'model.safetensors'));
  writeFileSync(join(truncated, 'model.safetensors'), bytes.subarray(0, 1000));
  await reseal(truncated);
  assertOneLineError(await runCli(['eval', truncated]), /model\.safetensors: header length \d+ exceeds the 992 bytes .*the checkpoint is corrupt/);

  const garbage = copyCheckpoint();
  writeFileSync(join(garbage, 'model.safetensors'), Buffer.from('this is not a safetensors file at all'));
  await reseal(garbage);
  assertOneLineError(await runCli(['export', garbage]), /model\.safetensors: header length \d+ exceeds/);

  const reshaped = copyCheckpoint();
  const config = JSON.parse(readFileSync(join(reshaped, 'config.json'), 'utf8')) as { quantizer: { dim: number } };
  config.quantizer.dim = 12;
  writeFileSync(join(reshaped, 'config.json'), JSON.stringify(config));
  await reseal(reshaped);
  assertOneLineError(await runCli(['eval', reshaped]), /checkpoint 'decoder\.from_code\.weight' has shape \[128,8,3,3\] but the model expects \[128,12,3,3\]/);

  const nan = copyCheckpoint();
  const { tensors, metadata } = decodeSafetensors(readFileSync(join(nan, 'model.safetensors')), 'model.safetensors');
  tensors.get('encoder.conv1.weight')!.data[5] = Number.NaN;
  writeFileSync(join(nan, 'model.safetensors'), encodeSafetensors(tensors, metadata));
  await reseal(nan);
  assertOneLineError(await runCli(['eval', nan]), /checkpoint 'encoder\.conv1\.weight' contains a non-finite value at 5; the checkpoint is corrupt/);

  const badJson = copyCheckpoint();
  writeFileSync(join(badJson, 'config.json'), '{"format": "vqlab-model", ');
  await reseal(badJson);
  assertOneLineError(await runCli(['eval', badJson]), /config\.json is not valid JSON/);
});

test('images of the wrong size or channels are refused naming expected and found', async () => {
  const dir = tempDir('images');
  writePng(join(dir, 'big.png'), 32, 32, false);
  writePng(join(dir, 'rgb.png'), 28, 28, true);
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  writeFileSync(join(dir, 'photo.jpg'), jpeg.encode({ width: 28, height: 28, data: new Uint8Array(28 * 28 * 4).fill(200) }, 90).data);
  assertOneLineError(await runCli(['encode', checkpoint, join(dir, 'big.png')]), /big\.png is 32×32 pixels but the model expects 28×28; resize it or pass --fit/);
  assertOneLineError(await runCli(['encode', checkpoint, join(dir, 'rgb.png')]), /rgb\.png has 3 channels \(RGB\) but the model expects 1 channel \(grayscale\); convert it or pass --fit/);
  assertOneLineError(await runCli(['encode', checkpoint, join(dir, 'notes.txt')]), /notes\.txt is neither a PNG nor a JPEG/);
  assertOneLineError(await runCli(['encode', checkpoint, join(dir, 'photo.jpg')]), /photo\.jpg has 3 channels \(RGB\) but the model expects 1 channel/);
  const fitted = await runCli(['encode', checkpoint, join(dir, 'big.png'), join(dir, 'rgb.png'), join(dir, 'photo.jpg'), '--fit']);
  assert.equal(fitted.code, 0, fitted.stderr);
  assert.equal((JSON.parse(fitted.stdout) as { images: unknown[] }).images.length, 3);
});

test('missing or corrupt datasets, and runs too large for memory, fail before training', async () => {
  const out = tempDir('run');
  assertOneLineError(await runCli(['train', '--data', join(out, 'no-such-data'), '--out', join(out, 'a')]), /dataset path .*no-such-data does not exist/);
  const corrupt = join(out, 'idx');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 9]));
  const r = await runCli(['train', '--data', corrupt, '--out', join(out, 'b')]);
  assertOneLineError(r, /train-images-idx3-ubyte/);
  assertOneLineError(
    await runCli(['train', '--codebook-size', '16000000', '--out', join(out, 'c'), '--train-limit', '256']),
    /a training step needs about \d+\.\d GiB .* more than 80% of this machine's .*; reduce --codebook-size or --dim/,
  );
});

test('the memory check suggests the largest batch that fits', () => {
  const model = buildModel(makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 1024, dim: 64, beta: 0.25 }) }));
  const fine = checkTrainingMemory(model, 128, 24 * 2 ** 30);
  assert.ok(fine.totalBytes < 4 * 2 ** 30, `${fine.totalBytes}`);
  assert.equal(fine.searchShape[1], 1024, 'the search block spans the K = 1024 codes');
  const store = new VariableStore(0);
  const ctx = BuildContext.create(new Graph(), store, 'train');
  autoencode(ctx, model, ctx.input('x', [2, 1, 28, 28]));
  assert.equal(fine.parameterCount, store.parameterCount(), 'the estimate counts the parameters the model creates');
  // On a (pretend) 1 GiB machine batch 4096 does not fit; the message names a batch that does.
  assert.throws(() => checkTrainingMemory(model, 4096, 2 ** 30), (err: unknown) => {
    assert.ok(err instanceof MemoryBudgetError);
    const suggested = Number(/use --batch (\d+) or less/.exec(err.message)?.[1]);
    assert.ok(suggested >= 1 && suggested < 4096, err.message);
    checkTrainingMemory(model, suggested, 2 ** 30);
    return true;
  });
});

test('VQLAB_DEBUG=1 adds the stack trace', async () => {
  const r = await runCli(['eval', join(tempDir('debug'), 'none')], { VQLAB_DEBUG: '1' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\n\s+at /);
  assert.match(r.stderr, /vqlab: .*config\.json does not exist/);
});

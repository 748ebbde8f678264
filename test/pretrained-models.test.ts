/**
 * The pretrained tokenizers shipped in the package (models/<name>/): each card's test-set metrics are
 * measured again from the shipped weights and must equal what the card states (code counts exactly,
 * floats to the decimals the card prints), the files must pass their checksums, MODEL.md must be
 * the card's rendering, and each model must fit the size budget. Then the ways a user reaches them:
 * Tokenizer.pretrained, `vqlab models`, `vqlab encode --model NAME`, and what `npm pack` ships.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { locateDataset, NAMED_DATASETS } from '../src/data/named-datasets.js';
import { speechSource } from '../src/modality/audio/speech-sources.js';
import { melDistance } from '../src/audio/metrics/mel-distance.js';
import { stoi } from '../src/audio/metrics/stoi.js';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { encodePng } from '../src/images/encode-png.js';
import { CHECKSUMS_FILE, parseChecksums } from '../src/persistence/checksums.js';
import { modalityNameOf } from '../src/models/config.js';
import { loadModelCheckpoint, verifyCheckpoint } from '../src/persistence/checkpoint.js';
import { CARD_FILE, pretrainedModels, resolveModelLocation } from '../src/tokenize/pretrained.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { BUNDLED_MNIST, measureCardMetrics, modelCardMarkdown, pretrainedTables } from './helpers/model-card.js';
import { REPO_ROOT } from './helpers/readme-example.js';
import { runCli } from './helpers/run-cli.js';

/** The models the package promises (README; issues 25 and 23), in the order of their names. */
const SHIPPED = ['fashion-mnist-simvq-1k', 'festvox-ru-simvq-4k', 'mnist-simvq-16k', 'mnist-simvq-1k'];
/**
 * Bytes a model may add to the package: the K = 16,384 SimVQ model is 6.5 MiB, most of it the
 * frozen random basis C (K × d float32; vqlab stores float32 only), the K = 1,024 models 2.8 MiB,
 * the speech model 7.7 MiB (SEANet with 16 channels, 2.0 M parameters).
 */
const MODEL_BUDGET_BYTES = 8 * 2 ** 20;

const models = pretrainedModels();

/**
 * Why a card's data set cannot be read on this machine (the loader's own one-line error, which
 * names the install command), or undefined when it can.
 */
function missingData(data: string): string | undefined {
  try {
    if (data === BUNDLED_MNIST) return undefined;
    if (NAMED_DATASETS[data] !== undefined) locateDataset(data);
    else speechSource(data);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

test('the package ships the promised pretrained models, each within the size budget, and README tabulates their cards', () => {
  assert.deepEqual(models.map((m) => m.card.name), SHIPPED);
  for (const { card, bytes } of models) assert.ok(bytes <= MODEL_BUDGET_BYTES, `${card.name}: ${bytes} bytes is over the ${MODEL_BUDGET_BYTES}-byte budget`);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const table of Object.values(pretrainedTables(models))) assert.ok(readme.includes(table), `README.md should show the cards' table:\n${table}`);
});

describe('each shipped model against its card', () => {
  for (const { card, dir, bytes } of models) {
    const data = card.data.name;
    const missing = missingData(data);
    const skip = missing !== undefined && process.env.CI !== 'true' ? missing : false;

    test(`${card.name}: checksums verify, the config is the card's, MODEL.md renders card.json`, async () => {
      await verifyCheckpoint(dir);
      const checksums = parseChecksums(readFileSync(join(dir, CHECKSUMS_FILE), 'utf8'), CHECKSUMS_FILE);
      assert.deepEqual([...checksums.keys()], ['config.json', 'model.safetensors']);
      const { config, model } = await loadModelCheckpoint(dir);
      assert.equal(modalityNameOf(config), card.modality);
      assert.equal(config.quantizer.kind, card.quantizer);
      assert.equal(model.quantizer.codebookSize, card.codebook_size);
      assert.equal(card.metrics.used_codes + card.metrics.dead_codes, card.codebook_size);
      assert.equal(readFileSync(join(dir, 'MODEL.md'), 'utf8'), modelCardMarkdown(card, bytes));
    });

    test(`${card.name}: the test-set metrics on its card are reproduced from its weights`, { skip }, async () => {
      assert.deepEqual(await measureCardMetrics(dir, data), { modality: card.modality, metrics: card.metrics });
    });
  }
});

test('Tokenizer.pretrained(name) is the shipped model; an unknown name is refused with the list of names', async () => {
  const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
  const images = digits.images.slice(0, 3 * 784);
  const byName = await Tokenizer.pretrained('mnist-simvq-1k', { threads: 1, batch: 3 });
  const byDir = await Tokenizer.load(join(REPO_ROOT, 'models', 'mnist-simvq-1k'), { threads: 1, batch: 3 });
  try {
    assert.equal(byName.codebookSize, 1024);
    assert.deepEqual(await byName.encode(images), await byDir.encode(images));
  } finally {
    await byName.release();
    await byDir.release();
  }
  await assert.rejects(Tokenizer.pretrained('mnist-simvq-2k'), new RegExp(`'mnist-simvq-2k' is neither .* pretrained models: ${SHIPPED.join(', ')}`));
});

test('a path that exists wins over a model name; anything with a folder separator stays a path', () => {
  const work = tempDir('shadow');
  const before = process.cwd();
  try {
    process.chdir(work);
    assert.equal(resolveModelLocation('mnist-simvq-1k'), join(REPO_ROOT, 'models', 'mnist-simvq-1k'));
    mkdirSync('mnist-simvq-1k');
    assert.equal(resolveModelLocation('mnist-simvq-1k'), 'mnist-simvq-1k');
    assert.equal(resolveModelLocation('runs/typo'), 'runs/typo');
  } finally {
    process.chdir(before);
    rmSync(work, { recursive: true, force: true });
  }
});

test('vqlab models lists them; encode and decode --model NAME run a shipped model with no training', async () => {
  const listed = await runCli(['models']);
  assert.equal(listed.code, 0, listed.stderr);
  for (const { card } of models) assert.match(listed.stdout, new RegExp(`^${card.name}\\s+${card.codebook_size}\\s+${card.data.name}\\s`, 'm'));
  const json = await runCli(['models', '--json']);
  assert.deepEqual((JSON.parse(json.stdout) as { name: string }[]).map((m) => m.name), SHIPPED);

  const work = tempDir('pretrained-cli');
  try {
    const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
    const png = join(work, 'digit.png');
    writeFileSync(png, encodePng(digits.images.subarray(0, 784), { channels: 1, height: 28, width: 28 }));
    const encoded = await runCli(['encode', '--model', 'mnist-simvq-1k', png, '--threads', '1']);
    assert.equal(encoded.code, 0, encoded.stderr);
    const result = JSON.parse(encoded.stdout) as { codebook_size: number; grid: number[]; images: { indices: number[][] }[] };
    assert.equal(result.codebook_size, 1024);
    const tokenizer = await Tokenizer.pretrained('mnist-simvq-1k', { threads: 1, batch: 1 });
    try {
      assert.deepEqual(result.images[0]!.indices.flat(), [...(await tokenizer.encode(digits.images.slice(0, 784)))]);
    } finally {
      await tokenizer.release();
    }
    // The model's name as DIR does the same as --model.
    const positional = await runCli(['encode', 'mnist-simvq-1k', png, '--threads', '1']);
    assert.equal(positional.stdout, encoded.stdout);
    writeFileSync(join(work, 'codes.json'), encoded.stdout);
    const decoded = await runCli(['decode', '--model', 'mnist-simvq-1k', join(work, 'codes.json'), '--out', join(work, 'decoded')]);
    assert.equal(decoded.code, 0, decoded.stderr);
    assert.ok(existsSync(join(work, 'decoded', 'digit.decoded.png')));

    const unknown = await runCli(['encode', '--model', 'fashion-simvq', png]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `vqlab: 'fashion-simvq' is neither a run or checkpoint folder nor a pretrained model; pretrained models: ${SHIPPED.join(', ')} ('vqlab models' lists them)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the shipped speech model codes a voice it never heard: encode and decode --model NAME give back a clip of the same length, STOI 0.78', async () => {
  // test/fixtures/audio/speech.ogg: 4 s of English from espeak-ng, where the model heard one Russian
  // speaker only. The figures are this file's, quoted in README; the tolerance covers ORT's kernels
  // differing across CPUs, not a change of the model.
  const work = tempDir('pretrained-speech');
  try {
    const clip = join(REPO_ROOT, 'test', 'fixtures', 'audio', 'speech.ogg');
    const codes = join(work, 'codes.json');
    const encoded = await runCli(['encode', '--model', 'festvox-ru-simvq-4k', clip, '--threads', '1', '--out', codes]);
    assert.equal(encoded.code, 0, encoded.stderr);
    const result = JSON.parse(readFileSync(codes, 'utf8')) as { codebook_size: number; codes_per_example: number; sequences: { length: number; indices: number[] }[] };
    const original = await readAudioFile(clip);
    assert.equal(result.codebook_size, 4096);
    assert.equal(result.sequences[0]!.length, original.samples.length);
    // 50 codes a second, the last 1-second window zero-padded: ceil(63,752 / 16,000) = 4 windows.
    assert.equal(result.sequences[0]!.indices.length, Math.ceil(original.samples.length / 16000) * 50);
    const decoded = await runCli(['decode', '--model', 'festvox-ru-simvq-4k', codes, '--out', work, '--threads', '1']);
    assert.equal(decoded.code, 0, decoded.stderr);
    const back = await readAudioFile(join(work, 'speech.decoded.wav'));
    assert.equal(back.sampleRate, 16000);
    assert.equal(back.samples.length, original.samples.length);
    assert.ok(Math.abs((await stoi(original.samples, back.samples, 16000)) - 0.781) < 0.005);
    assert.ok(Math.abs(melDistance(original.samples, back.samples, 16000) - 0.625) < 0.005);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('npm pack ships each model folder: card.json, MODEL.md, config.json, model.safetensors, checksums.json', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  for (const name of SHIPPED) {
    for (const file of [CARD_FILE, 'MODEL.md', 'config.json', 'model.safetensors', CHECKSUMS_FILE]) assert.ok(files.has(`models/${name}/${file}`), `models/${name}/${file} is not in the package`);
  }
});

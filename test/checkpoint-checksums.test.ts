import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { evaluateCheckpoint } from '../src/eval/evaluate-checkpoint.js';
import { DEFAULT_LIMITS } from '../src/limits/input-limits.js';
import { CHECKPOINT_FILES, loadModelCheckpoint, parseTrainerState, readConfig } from '../src/persistence/checkpoint.js';
import { CheckpointError } from '../src/persistence/checkpoint-weights.js';
import { CHECKSUMS_FILE, parseChecksums, verifyCheckpointFiles } from '../src/persistence/checksums.js';
import { bestCheckpoint, parsePointer, resolveCheckpoint, RunDirectoryError } from '../src/persistence/run-directory.js';
import { exportOnnx } from '../src/tokenize/export.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { trainModel } from '../src/train/train.js';
import { tempDir, TINY, tinyCheckpoint } from './helpers/checkpoint-fixture.js';
import { assertOneLineError, runCli } from './helpers/run-cli.js';

// dist/test/… → the repository's test/fixtures, written by the version-1 code (no checksums).
const V1_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'v1-checkpoints', 'vq');

/** A run whose last checkpoint (epoch 2, not evaluated) is not its best (epoch 1). */
let run = '';

before(async () => {
  run = (await tinyCheckpoint({ evaluateEachEpoch: true })).out;
  await trainModel({ ...TINY, out: run, epochs: 2, resume: true });
});

/** A copy of the run's last checkpoint folder, read by every command as a checkpoint itself. */
function copyOfLast(): string {
  const dir = tempDir('sums');
  cpSync(resolveCheckpoint(run), dir, { recursive: true });
  return dir;
}

function flipBit(file: string, offset: number, bit: number): void {
  const bytes = readFileSync(file);
  bytes[offset]! ^= bit;
  writeFileSync(file, bytes);
}

test('a checkpoint records the SHA-256 and size of each of its files, and vqlab verify finds the run intact', async () => {
  const folder = resolveCheckpoint(run);
  const recorded = parseChecksums(readFileSync(join(folder, CHECKSUMS_FILE), 'utf8'), CHECKSUMS_FILE);
  assert.deepEqual([...recorded.keys()].sort(), Object.values(CHECKPOINT_FILES).sort());
  for (const [name, { sha256, bytes }] of recorded) {
    const contents = readFileSync(join(folder, name));
    assert.equal(sha256, createHash('sha256').update(contents).digest('hex'), name);
    assert.equal(bytes, contents.length, name);
  }
  const r = await runCli(['verify', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `${join(run, 'checkpoints/step-00000008')} (last): intact: 4 files match their SHA-256`,
    `${join(run, 'checkpoints/step-00000004')} (best): intact: 4 files match their SHA-256`,
  ]);
});

test('one flipped bit in any file of a checkpoint is refused by eval, encode, decode, export and resume', async () => {
  const work = tempDir('flip-work');
  const png = new PNG({ width: 28, height: 28 });
  png.data.fill(128);
  const image = join(work, 'digit.png');
  writeFileSync(image, PNG.sync.write(png, { colorType: 0 }));
  const codes = join(work, 'codes.json');
  writeFileSync(codes, JSON.stringify(Array.from({ length: 7 }, () => Array.from({ length: 7 }, () => 0))));
  const mismatch = (file: string): RegExp => new RegExp(`${file.replace('.', '\\.')} does not match the SHA-256 recorded when it was saved .*--checkpoint best`);
  // Each file with the bit flipped, the refusal expected, and the command that shows it on the command line.
  const cases: { file: string; at: (bytes: Buffer) => number; refusal: RegExp; cli: (dir: string) => string[] }[] = [
    { file: CHECKPOINT_FILES.model, at: (b) => b.length - 64, refusal: mismatch(CHECKPOINT_FILES.model), cli: (dir) => ['eval', dir, '--grid', ''] },
    { file: CHECKPOINT_FILES.optimizer, at: (b) => b.length - 64, refusal: mismatch(CHECKPOINT_FILES.optimizer), cli: (dir) => ['train', '--resume', dir, '--epochs', '3', '--quiet'] },
    { file: CHECKPOINT_FILES.config, at: (b) => b.length >> 1, refusal: mismatch(CHECKPOINT_FILES.config), cli: (dir) => ['encode', dir, image] },
    { file: CHECKPOINT_FILES.trainer, at: (b) => b.length >> 1, refusal: mismatch(CHECKPOINT_FILES.trainer), cli: (dir) => ['export', dir, '--out', join(work, 'onnx')] },
    // 'q' of "vqlab-checksums" becomes 'p'.
    { file: CHECKSUMS_FILE, at: (b) => b.indexOf('vqlab-checksums') + 1, refusal: /checksums\.json: "format" must be "vqlab-checksums", got "vplab-checksums"; the checkpoint's checksums are damaged/, cli: (dir) => ['decode', dir, codes, '--out', join(work, 'decoded')] },
  ];
  for (const { file, at, refusal, cli } of cases) {
    const dir = copyOfLast();
    flipBit(join(dir, file), at(readFileSync(join(dir, file))), 0x01);
    const refused = (err: unknown): boolean => err instanceof CheckpointError && refusal.test(err.message);
    await assert.rejects(evaluateCheckpoint(dir, { grid: '', threads: 1 }), refused, `eval, ${file}`);
    await assert.rejects(Tokenizer.load(dir, { threads: 1 }), refused, `encode and decode, ${file}`);
    await assert.rejects(exportOnnx(dir, { outDir: join(work, 'onnx') }), refused, `export, ${file}`);
    await assert.rejects(trainModel({ ...TINY, out: dir, epochs: 3, resume: true }), refused, `resume, ${file}`);
    assertOneLineError(await runCli(cli(dir)), refusal);
  }
  assert.ok(!existsSync(join(work, 'onnx', 'encoder.onnx')), 'nothing was exported from a corrupt checkpoint');
});

test('a listed file that is missing or resized, a file not listed and a damaged checksums file are refused', async () => {
  const refuses = async (dir: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(loadModelCheckpoint(dir), (err: unknown) => err instanceof CheckpointError && pattern.test(err.message));
  };
  const missing = copyOfLast();
  rmSync(join(missing, CHECKPOINT_FILES.optimizer));
  await refuses(missing, /optimizer\.safetensors is listed in checksums\.json but missing; use another checkpoint/);

  const grown = copyOfLast();
  const size = readFileSync(join(grown, CHECKPOINT_FILES.config)).length;
  appendFileSync(join(grown, CHECKPOINT_FILES.config), ' ');
  await refuses(grown, new RegExp(`config\\.json has ${size + 1} bytes but ${size} were recorded when it was saved`));

  const unlisted = copyOfLast();
  const sums = JSON.parse(readFileSync(join(unlisted, CHECKSUMS_FILE), 'utf8')) as { files: Record<string, unknown> };
  delete sums.files[CHECKPOINT_FILES.trainer];
  writeFileSync(join(unlisted, CHECKSUMS_FILE), JSON.stringify(sums));
  await refuses(unlisted, /trainer-state\.json is not listed in .*checksums\.json, so it cannot be verified/);

  const garbage = copyOfLast();
  writeFileSync(join(garbage, CHECKSUMS_FILE), '{"format": "vqlab-checksums", ');
  await refuses(garbage, /checksums\.json is not valid JSON; the checkpoint's checksums are damaged/);
});

test('vqlab verify names the corrupt checkpoint and file, exits 1, and reports checkpoints without checksums', async () => {
  const copy = tempDir('verify-run');
  cpSync(run, copy, { recursive: true });
  const best = bestCheckpoint(copy)!;
  flipBit(join(best, CHECKPOINT_FILES.model), 100, 0x80);
  const r = await runCli(['verify', copy]);
  assertOneLineError(r, /1 of 2 checkpoints in .* is corrupt; use an intact one \(--checkpoint best, or last\)/, 'any');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /step-00000008 \(last\): intact/);
  assert.match(lines[1]!, /step-00000004 \(best\): CORRUPT: .*step-00000004\/model\.safetensors does not match the SHA-256/);

  const old = await runCli(['verify', V1_FIXTURE]);
  assert.equal(old.code, 0, old.stderr);
  assert.equal(old.stdout, `${V1_FIXTURE}: no checksums (written before vqlab recorded them)\n`);
  assertOneLineError(await runCli(['verify', tempDir('empty')]), /is neither a run directory \(it has no checkpoint\.json\) nor a checkpoint folder/);
});

test('checkpoints written before checksums load with a one-line notice', async () => {
  const notices: string[] = [];
  const { epoch } = await loadModelCheckpoint(V1_FIXTURE, { notice: (line) => notices.push(line) });
  assert.equal(epoch, 1);
  assert.deepEqual(notices, [`${V1_FIXTURE} carries no checksums (written before vqlab recorded them), so its files are loaded unverified`]);
  const out = tempDir('v1-export');
  const r = await runCli(['export', V1_FIXTURE, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `note: ${notices[0]}\n`);
  assert.ok(existsSync(join(out, 'encoder.onnx')));
  // The same notice from the browser-side check, given the files as bytes.
  const files = { [CHECKPOINT_FILES.config]: readFileSync(join(V1_FIXTURE, CHECKPOINT_FILES.config)) };
  assert.deepEqual(await verifyCheckpointFiles(files, undefined, 'vq'), { verified: [], notice: 'vq carries no checksums (written before vqlab recorded them), so its files are loaded unverified' });
});

test('verifyCheckpointFiles checks files given as bytes, as the demo page does', async () => {
  const folder = resolveCheckpoint(run);
  const checksums = readFileSync(join(folder, CHECKSUMS_FILE));
  const files = { [CHECKPOINT_FILES.config]: readFileSync(join(folder, CHECKPOINT_FILES.config)), [CHECKPOINT_FILES.model]: readFileSync(join(folder, CHECKPOINT_FILES.model)) };
  assert.deepEqual(await verifyCheckpointFiles(files, checksums, 'upload'), { verified: [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model] });
  files[CHECKPOINT_FILES.model][5000]! ^= 0x02;
  await assert.rejects(verifyCheckpointFiles(files, checksums, 'upload'), /^CheckpointError: upload\/model\.safetensors does not match the SHA-256/);
});

test('--checkpoint best reads the run\'s best checkpoint; a run without one says so', async () => {
  const best = await loadModelCheckpoint(run, { checkpoint: 'best' });
  assert.equal(best.dir, join(run, 'checkpoints/step-00000004'));
  assert.equal(best.epoch, 1);
  assert.equal((await loadModelCheckpoint(run)).epoch, 2);
  const out = tempDir('best-export');
  const r = await runCli(['export', run, '--checkpoint', 'best', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(join(out, 'encoder.onnx')), readFileSync((await exportOnnx(best.dir, { outDir: tempDir('best-direct') })).encoder));

  const unevaluated = (await tinyCheckpoint()).out;
  assert.throws(() => resolveCheckpoint(unevaluated, 'best'), (err: unknown) => err instanceof RunDirectoryError && /has no best checkpoint \(the run did not evaluate its test set at the end of an epoch\); use --checkpoint last/.test(err.message));
  assertOneLineError(await runCli(['eval', V1_FIXTURE, '--checkpoint', 'best']), /is a single checkpoint, not a run directory with checkpoint\.json, so it has no best checkpoint; drop --checkpoint best/);
});

test('the JSON files of a run are refused above the JSON cap before they are read', async () => {
  const small = { ...DEFAULT_LIMITS, maxJsonBytes: 100 };
  const folder = resolveCheckpoint(run);
  const size = readFileSync(join(folder, CHECKSUMS_FILE)).length;
  await assert.rejects(readConfig(folder, { limits: small }), (err: unknown) => err instanceof CheckpointError && err.message === `${join(folder, CHECKSUMS_FILE)} declares ${size.toLocaleString('en-US')} bytes, over the cap of 100; raise it with --max-json-bytes N if the file is genuine`);
  assert.throws(() => resolveCheckpoint(run, 'last', small), /checkpoint\.json declares \d+ bytes, over the cap of 100; raise it with --max-json-bytes N/);
  assertOneLineError(await runCli(['verify', run, '--max-json-bytes', '100']), /checkpoint\.json declares \d+ bytes, over the cap of 100; raise it with --max-json-bytes N/);
});

test('the trainer state, pointer and checksums parsers refuse wrong types and ranges, naming the field', () => {
  const state = readFileSync(join(resolveCheckpoint(run), CHECKPOINT_FILES.trainer), 'utf8');
  assert.equal(parseTrainerState(state, 't.json').step, 8);
  const withField = (path: string[], value: unknown): string => {
    const json = JSON.parse(state) as Record<string, unknown>;
    let at = json;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path[path.length - 1]!] = value;
    return JSON.stringify(json);
  };
  const trainerRefusals: [string[], unknown, RegExp][] = [
    [['step'], -1, /"step" must be an integer >= 0, got -1/],
    [['batch'], 2.5, /"batch" must be an integer >= 1, got 2\.5/],
    [['lr'], 0, /"lr" must be a finite number > 0, got 0/],
    [['lr'], '1e-3', /"lr" must be a finite number > 0, got "1e-3"/],
    [['dataPosition', 'batch'], null, /"dataPosition\.batch" must be an integer >= 0, got null/],
    [['data', 'trainLimit'], 0, /"data\.trainLimit" must be an integer >= 1, got 0/],
    [['optimizer', 'config'], [], /"optimizer\.config" must be an object, got an array of 0/],
    [['epochProgress'], { steps: 1, lossSums: { total: 1 }, codeCounts: [3, -1], stepMs: 5 }, /"epochProgress\.codeCounts\[1\]" must be an integer >= 0, got -1/],
    [['epoch'], 1e300, /"epoch" must be an integer >= 0, got 1e\+300/],
  ];
  for (const [path, value, pattern] of trainerRefusals) {
    assert.throws(() => parseTrainerState(withField(path, value), 't.json'), (err: unknown) => err instanceof CheckpointError && /^t\.json: /.test(err.message) && pattern.test(err.message), path.join('.'));
  }
  assert.throws(() => parseTrainerState('[1, 2]', 't.json'), /t\.json does not hold a JSON object/);

  const pointer = { format: 'vqlab-run', version: 1, last: 'checkpoints/step-00000008', best: null, best_test_mse: null };
  assert.equal(parsePointer(JSON.stringify(pointer), 'p.json').last, 'checkpoints/step-00000008');
  for (const last of ['../elsewhere', '/etc', 'checkpoints/../../x', 'checkpoints/.step-8.123.tmp', 'checkpoints/a/b', 7]) {
    assert.throws(() => parsePointer(JSON.stringify({ ...pointer, last }), 'p.json'), (err: unknown) => err instanceof RunDirectoryError && /^p\.json: "last" must be a folder under checkpoints\//.test(err.message), String(last));
  }

  const sums = readFileSync(join(resolveCheckpoint(run), CHECKSUMS_FILE), 'utf8');
  assert.equal(parseChecksums(sums, 'c.json').size, 4);
  const upper = sums.replace(/"sha256": "([0-9a-f]{64})"/, (_m, hex: string) => `"sha256": "${hex.toUpperCase()}"`);
  assert.throws(() => parseChecksums(upper, 'c.json'), /c\.json: "files\.config\.json\.sha256" must be 64 lowercase hexadecimal digits/);
  assert.throws(() => parseChecksums(sums.replace('"config.json"', '"../config.json"'), 'c.json'), /c\.json lists "\.\.\/config\.json", which is not a plain file name/);
  assert.throws(() => parseChecksums(sums.replace(/"bytes": \d+/, '"bytes": -5'), 'c.json'), /"files\.config\.json\.bytes" must be an integer >= 0, got -5/);
});

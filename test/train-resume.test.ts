import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundledMnist, makeDataset, splitTrainTest, subset } from '../src/data/index.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSafetensors } from '../src/persistence/safetensors.js';
import { readMetricsLog } from '../src/train/metrics-log.js';
import { TrainingDivergedError } from '../src/train/epoch-loop.js';
import { resumeOptions } from '../src/train/resume.js';
import { trainModel } from '../src/train/train.js';
import { TrainOptionsError, type TrainOptions } from '../src/train/train-options.js';
import { tempDir, TINY, tinyQuantizer } from './helpers/checkpoint-fixture.js';

const base: Omit<TrainOptions, 'out'> = { ...TINY, quantizer: tinyQuantizer('simvq'), epochs: 2 };

/** The lines of a metrics.jsonl with the wall-clock fields (which differ between identical runs) removed. */
function withoutClock(path: string): unknown[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => {
    const { img_per_s: _rate, epoch_seconds: _epoch, wall_seconds: _wall, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

function tensorsOf(dir: string, file: string) {
  return decodeSafetensors(readFileSync(join(resolveCheckpoint(dir), file)), file).tensors;
}

test('2 epochs in one go and 1 epoch + resume 1 give identical weights, optimizer state and step', async () => {
  const straight = tempDir('straight');
  const split = tempDir('split');
  await trainModel({ ...base, out: straight });
  await trainModel({ ...base, out: split, epochs: 1 });
  const firstMetrics = readFileSync(join(split, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(firstMetrics.length, 1);
  const logInode = statSync(join(split, 'metrics.jsonl')).ino;
  const resumed = await trainModel({ ...base, out: split, resume: true });
  assert.equal(resumed.startEpoch, 1);
  assert.equal(resumed.completedEpochs, 2);
  for (const file of [CHECKPOINT_FILES.model, CHECKPOINT_FILES.optimizer]) {
    const a = tensorsOf(straight, file);
    const b = tensorsOf(split, file);
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${file}: ${name} differs after resume`);
  }
  const state = (dir: string) => JSON.parse(readFileSync(join(resolveCheckpoint(dir), CHECKPOINT_FILES.trainer), 'utf8')) as { step: number; epoch: number; dataPosition: unknown };
  assert.deepEqual(state(split), state(straight));
  assert.equal(state(split).step, 2 * (64 / 16));
  // The second epoch's line was appended to the same file, and the lines equal the straight run's
  // but for the wall-clock fields.
  assert.equal(statSync(join(split, 'metrics.jsonl')).ino, logInode);
  assert.deepEqual(withoutClock(join(split, 'metrics.jsonl')), withoutClock(join(straight, 'metrics.jsonl')));
  assert.equal(withoutClock(join(split, 'metrics.jsonl')).length, 2);
  // Nothing is left behind under temporary names.
  assert.deepEqual(readdirSync(split).filter((f) => f.includes('.tmp')), []);
});

test('resume refuses different settings, and a new run refuses a directory that holds a checkpoint', async () => {
  const dir = tempDir('conflict');
  await trainModel({ ...base, out: dir, epochs: 1 });
  await assert.rejects(trainModel({ ...base, out: dir, resume: true, batch: 32 }), (err: unknown) => {
    assert.ok(err instanceof TrainOptionsError);
    assert.match(err.message, /batch 32 vs 16 in the checkpoint/);
    return true;
  });
  await assert.rejects(trainModel({ ...base, out: dir, resume: true, quantizer: tinyQuantizer('simvq', { optimize: 'both' }) }), /quantizer option optimize "both" vs "W" in the checkpoint/);
  // The checkpoint gives back the QuantizerConfig the run was trained with.
  assert.deepEqual((await resumeOptions(dir)).quantizer, base.quantizer);
  await assert.rejects(trainModel({ ...base, out: dir }), /already holds a training checkpoint; pass --resume/);
  await assert.rejects(trainModel({ ...base, out: tempDir('none'), resume: true }), /has no trainer-state\.json/);
});

test('a NaN loss stops training with a clear error and leaves the last good checkpoint intact', async () => {
  const dir = tempDir('nan');
  const { train, test } = splitTrainTest(loadBundledMnist(), 1000, 0);
  const clean = { train: subset(train, Array.from({ length: 64 }, (_, i) => i * 100)), test: subset(test, [0, 1, 2, 3]) };
  await trainModel({ ...base, out: dir, epochs: 1 }, { datasets: clean });
  const folder = resolveCheckpoint(dir);
  const before = new Map(Object.values(CHECKPOINT_FILES).map((f) => [f, readFileSync(join(folder, f))]));
  const mtimes = Object.values(CHECKPOINT_FILES).map((f) => statSync(join(folder, f)).mtimeMs);
  // Same shapes and counts, but one pixel of every image is NaN: the first step of epoch 2 diverges.
  const poisoned = clean.train.images.slice();
  for (let i = 0; i < clean.train.count; i++) poisoned[i * 784 + 400] = Number.NaN;
  const nan = { ...clean, train: makeDataset({ ...clean.train, images: poisoned }) };
  await assert.rejects(trainModel({ ...base, out: dir, resume: true }, { datasets: nan }), (err: unknown) => {
    assert.ok(err instanceof TrainingDivergedError, String(err));
    assert.match(err.message, /loss became NaN at epoch 2, step 5( \(\d+ encoder outputs were NaN\/Inf\))?; the last good checkpoint \(epoch 1\) in .* is intact; lower --lr/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  assert.equal(resolveCheckpoint(dir), folder);
  for (const [file, bytes] of before) assert.deepEqual(readFileSync(join(folder, file)), bytes, `${file} changed`);
  assert.deepEqual(Object.values(CHECKPOINT_FILES).map((f) => statSync(join(folder, f)).mtimeMs), mtimes);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1);
});

test('a line torn by a crash mid-append, and a line the checkpoint never got, are dropped on resume', async () => {
  const straight = tempDir('torn-straight');
  const torn = tempDir('torn');
  await trainModel({ ...base, out: straight, epochs: 3 });
  await trainModel({ ...base, out: torn, epochs: 1 });
  const log = join(torn, 'metrics.jsonl');
  const complete = readFileSync(join(straight, 'metrics.jsonl'), 'utf8').split('\n');
  // A crash after epoch 2's line was written but before its checkpoint, then one halfway through
  // appending epoch 3's line: the file holds more than the epoch-1 checkpoint says.
  appendFileSync(log, `${complete[1]}\n${complete[2]!.slice(0, 40)}`);
  assert.deepEqual((await readMetricsLog(log)).map((r) => r.epoch), [1, 2], 'a reader skips the torn line');
  await trainModel({ ...base, out: torn, epochs: 3, resume: true });
  const text = readFileSync(log, 'utf8');
  assert.ok(text.endsWith('}\n'), 'the log ends with a complete line');
  assert.deepEqual(withoutClock(log), withoutClock(join(straight, 'metrics.jsonl')));
  assert.deepEqual((await readMetricsLog(log)).map((r) => [r.epoch, r.step]), [[1, 4], [2, 8], [3, 12]]);
});

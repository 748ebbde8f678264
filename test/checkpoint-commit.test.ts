import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES, loadModelCheckpoint, readTrainerState } from '../src/persistence/checkpoint.js';
import { bestCheckpoint, CHECKPOINTS_DIR, POINTER_FILE, resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSafetensors } from '../src/persistence/safetensors.js';
import { failWritesTo } from '../src/persistence/write-hook.js';
import { readMetricsLog } from '../src/train/metrics-log.js';
import { TrainingStoppedError } from '../src/train/epoch-loop.js';
import { trainModel } from '../src/train/train.js';
import { TrainOptionsError } from '../src/train/train-options.js';
import { tempDir, TINY } from './helpers/checkpoint-fixture.js';
import { CLI_MAIN, loaderFlags, runCli } from './helpers/run-cli.js';
import { runTrainChild, trainAsChild } from './helpers/train-child.js';

const weights = (dir: string, file: string = CHECKPOINT_FILES.model): Buffer => readFileSync(join(resolveCheckpoint(dir), file));

/** Every file and folder under `dir` (relative paths). */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** The checkpoint the run directory names is whole: its files agree on epoch and step. */
async function assertConsistent(dir: string): Promise<number> {
  const folder = resolveCheckpoint(dir);
  const state = await readTrainerState(dir);
  for (const file of [CHECKPOINT_FILES.model, CHECKPOINT_FILES.optimizer]) {
    const { metadata } = decodeSafetensors(readFileSync(join(folder, file)), file);
    assert.deepEqual([metadata.epoch, metadata.step], [String(state.epoch), String(state.step)], `${folder}/${file}`);
  }
  return state.epoch;
}

test('a training process killed at any write of a save resumes, never losing a finished epoch', { timeout: 300_000 }, async () => {
  const base = tempDir('kill-base');
  await trainAsChild(base, 1);
  const copyOfBase = (name: string): string => {
    const dir = tempDir(name);
    cpSync(base, dir, { recursive: true });
    return dir;
  };

  // Kill the process training epoch 2 at its 1st, 2nd, … write point (two at a time), until one
  // has fewer write points than that and finishes: the run that was never killed.
  const killed: string[] = [];
  let straight: string | undefined;
  for (let point = 1; straight === undefined; point += 2) {
    const runs = await Promise.all([point, point + 1].map(async (p) => {
      const dir = copyOfBase(`kill-${p}`);
      return { dir, ...(await runTrainChild(dir, 2, p)) };
    }));
    for (const r of runs) {
      if (r.signal === 'SIGKILL') killed.push(r.dir);
      else {
        assert.equal(r.code, 0, r.stderr);
        straight ??= r.dir;
      }
    }
  }
  assert.ok(killed.length >= 8, `only ${killed.length} write points in a save`);
  const epochs = await Promise.all(killed.map(assertConsistent));
  assert.ok(epochs.every((e) => e === 1 || e === 2), `epochs after the kills: ${epochs}`);
  assert.ok(epochs.includes(1) && epochs.includes(2), 'kills land both before and after the commit');
  // Each resumes (again a training process) to the bytes of the run never killed, leaving nothing stale.
  for (let i = 0; i < killed.length; i += 2) {
    const resumed = await Promise.all(killed.slice(i, i + 2).map((dir) => runTrainChild(dir, 2)));
    for (const r of resumed) assert.equal(r.code, 0, r.stderr);
  }
  for (const dir of killed) {
    assert.deepEqual(weights(dir), weights(straight), dir);
    assert.deepEqual(weights(dir, CHECKPOINT_FILES.optimizer), weights(straight, CHECKPOINT_FILES.optimizer), dir);
    assert.deepEqual(tree(dir).filter((f) => f.includes('.tmp')), [], dir);
    assert.deepEqual(readdirSync(join(dir, CHECKPOINTS_DIR)), readdirSync(join(straight, CHECKPOINTS_DIR)), dir);
    assert.deepEqual((await readMetricsLog(join(dir, 'metrics.jsonl'))).map((r) => r.epoch), [1, 2]);
  }
});

test('a full disk during a save names the file and keeps the previous checkpoint', async () => {
  const dir = tempDir('enospc');
  await trainModel({ ...TINY, out: dir, epochs: 1 });
  const before = tree(dir);
  const model = weights(dir);
  const writeHook = failWritesTo('optimizer.safetensors', 'ENOSPC');
  await assert.rejects(trainModel({ ...TINY, out: dir, epochs: 2, resume: true }, { writeHook }), /cannot write .*optimizer\.safetensors: the disk is full \(ENOSPC\); free some space/);
  assert.equal(await assertConsistent(dir), 1);
  assert.deepEqual(weights(dir), model);
  // The epoch-2 metrics line was written before the save failed; everything else is as it was.
  assert.deepEqual(tree(dir), before);
  await trainModel({ ...TINY, out: dir, epochs: 2, resume: true });
  assert.equal(await assertConsistent(dir), 2);
  assert.deepEqual((await readMetricsLog(join(dir, 'metrics.jsonl'))).map((r) => r.epoch), [1, 2]);
});

test('a run saved with the four files in its directory still loads and resumes into the new layout', async () => {
  const legacy = tempDir('legacy');
  const straight = tempDir('legacy-straight');
  await trainModel({ ...TINY, out: legacy, epochs: 1 });
  await trainModel({ ...TINY, out: straight, epochs: 2 });
  const folder = resolveCheckpoint(legacy);
  for (const f of Object.values(CHECKPOINT_FILES)) renameSync(join(folder, f), join(legacy, f));
  rmSync(join(legacy, CHECKPOINTS_DIR), { recursive: true });
  rmSync(join(legacy, POINTER_FILE));
  assert.equal((await loadModelCheckpoint(legacy)).epoch, 1);
  await trainModel({ ...TINY, out: legacy, epochs: 2, resume: true });
  assert.deepEqual(weights(legacy), weights(straight));
  assert.deepEqual(Object.values(CHECKPOINT_FILES).filter((f) => existsSync(join(legacy, f))), [], 'the superseded flat files are gone');
});

test('a new run refuses a folder holding a model unless forced, and then leaves nothing stale', async () => {
  const shipped = tempDir('shipped');
  await trainModel({ ...TINY, out: shipped, epochs: 1 });
  // A model copied somewhere to ship it: weights and config, no trainer state, plus its export.
  const dir = tempDir('copy');
  for (const f of [CHECKPOINT_FILES.model, CHECKPOINT_FILES.config]) cpSync(join(resolveCheckpoint(shipped), f), join(dir, f));
  writeFileSync(join(dir, 'encoder.onnx'), 'old export');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const original = readFileSync(join(dir, CHECKPOINT_FILES.model));
  await assert.rejects(trainModel({ ...TINY, out: dir, seed: 4 }), (err: unknown) => {
    assert.ok(err instanceof TrainOptionsError);
    assert.match(err.message, /already holds model\.safetensors, config\.json, encoder\.onnx from another model; choose another --out, or pass --force to replace them/);
    return true;
  });
  assert.deepEqual(readFileSync(join(dir, CHECKPOINT_FILES.model)), original);
  await trainModel({ ...TINY, out: dir, seed: 4, force: true });
  assert.deepEqual(tree(dir).filter((f) => !f.startsWith(CHECKPOINTS_DIR)), ['checkpoint.json', 'metrics.jsonl', 'notes.txt']);
  assert.notDeepEqual(weights(dir), original);
});

test('a stopped run saves mid-epoch and resumes to the bytes and metrics of an uninterrupted one', async () => {
  const straight = tempDir('stop-straight');
  const stopped = tempDir('stopped');
  const options = { ...TINY, epochs: 2, evaluateEachEpoch: true };
  await trainModel({ ...options, out: straight });
  // Stop requested after the 6th step: the middle of epoch 2 (4 steps an epoch).
  let checks = 0;
  const stopSignal = { get aborted() { return ++checks >= 6; } } as AbortSignal;
  await assert.rejects(trainModel({ ...options, out: stopped }, { stopSignal }), (err: unknown) => {
    assert.ok(err instanceof TrainingStoppedError, String(err));
    assert.match(err.message, /^stopped at epoch 2, step 6 with a checkpoint of that step saved; continue with: vqlab train --resume /);
    return true;
  });
  const state = await readTrainerState(stopped);
  assert.deepEqual([state.epoch, state.step, state.dataPosition], [1, 6, { epoch: 1, batch: 2 }]);
  await trainModel({ ...options, out: stopped, resume: true });
  assert.deepEqual(weights(stopped), weights(straight));
  assert.deepEqual(weights(stopped, CHECKPOINT_FILES.optimizer), weights(straight, CHECKPOINT_FILES.optimizer));
  const clockless = async (dir: string) => (await readMetricsLog(join(dir, 'metrics.jsonl'))).map(({ img_per_s: _r, epoch_seconds: _e, wall_seconds: _w, ...rest }) => rest);
  assert.deepEqual(await clockless(stopped), await clockless(straight));
  // The best checkpoint by test mse is kept beside the last.
  const records = await readMetricsLog(join(straight, 'metrics.jsonl'));
  const bestEpoch = records.reduce((a, b) => (b.test!.mse < a.test!.mse ? b : a)).epoch;
  assert.equal((await readTrainerState(bestCheckpoint(straight)!)).epoch, bestEpoch);
});

test('Ctrl-C stops vqlab train with a checkpoint and the resume command; resuming gives the bytes of an unstopped run', async () => {
  const dir = tempDir('sigint');
  const straight = tempDir('sigint-straight');
  const flags = ['--quantizer', 'vq', '--codebook-size', '16', '--dim', '8', '--batch', '16', '--train-limit', '128', '--test-limit', '16', '--threads', '1', '--lr', '0.001', '--seed', '3', '--epochs', '2'];
  const child = spawn(process.execPath, [...loaderFlags(), CLI_MAIN, 'train', ...flags, '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // The first line comes once the step is compiled, right before the first step.
    if (stderr.includes('\n') && !child.killed) {
      child.kill('SIGINT');
      resolve();
    }
  }));
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /SIGINT: stopping after this step and saving a checkpoint/);
  // Wherever the signal lands, the run stops at a step boundary with that step saved.
  assert.match(stderr, /\nvqlab: stopped (at epoch \d+, step \d+|after epoch 1 \(step 8\))[^\n]*; continue with: vqlab train --resume \S+\n$/);
  assert.ok((await readTrainerState(dir)).step < 16, 'stopped before the end');

  const resumed = await runCli(['train', '--resume', dir, '--threads', '1', '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  await trainModel({ quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 8, beta: 0.25 }), lr: 0.001, batch: 16, epochs: 2, seed: 3, threads: 1, trainLimit: 128, testLimit: 16, out: straight });
  assert.deepEqual(weights(dir), weights(straight));
  assert.deepEqual(weights(dir, CHECKPOINT_FILES.optimizer), weights(straight, CHECKPOINT_FILES.optimizer));
});

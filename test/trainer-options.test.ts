import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES, readTrainerState } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { failWritesTo } from '../src/persistence/write-hook.js';
import { OPTIMIZER_PRESETS } from '../src/train/defaults.js';
import { learningRateAt } from '../src/train/lr-schedule.js';
import { hasPlateaued } from '../src/train/plateau.js';
import { readMetricsLog } from '../src/train/metrics-log.js';
import { formatDuration, ProgressReporter } from '../src/train/progress.js';
import { resumeOptions } from '../src/train/resume.js';
import { trainModel } from '../src/train/train.js';
import { TrainOptionsError } from '../src/train/train-options.js';
import { tempDir, TINY, tinyQuantizer } from './helpers/checkpoint-fixture.js';

test('warm-up rises linearly to lr, then the cosine falls to the minimum at the last step', () => {
  const s = { warmupSteps: 4, cosine: true, minLr: 0.1 };
  // 15 steps: warm-up 0–3, cosine from step 4 (lr) to step 14 (the minimum).
  assert.deepEqual([0, 1, 2, 3].map((t) => learningRateAt(1, t, 15, s)), [0.25, 0.5, 0.75, 1]);
  assert.equal(learningRateAt(1, 4, 15, s), 1);
  assert.ok(Math.abs(learningRateAt(1, 9, 15, s) - 0.55) < 1e-12, 'halfway down: (lr + min) / 2');
  assert.ok(Math.abs(learningRateAt(1, 14, 15, s) - 0.1) < 1e-12);
  assert.equal(learningRateAt(0.5, 7, 14, { warmupSteps: 0, cosine: false, minLr: 0 }), 0.5);
});

test('schedule and gradient clipping reach the steps, are saved, and a resume keeps them', async () => {
  const dir = tempDir('schedule');
  const lrSchedule = { warmupSteps: 3, cosine: true, minLr: 1e-4 };
  const summary = await trainModel({ ...TINY, epochs: 2, out: dir, lrSchedule, clipGradNorm: 0.5 });
  // 4 steps an epoch: epoch 1 ends with step index 3, epoch 2 with index 7 (the last: the minimum).
  assert.deepEqual(summary.history.map((r) => r.lr), [learningRateAt(TINY.lr, 3, 8, lrSchedule), 1e-4]);
  const restored = await resumeOptions(dir);
  assert.deepEqual([restored.lrSchedule, restored.clipGradNorm], [lrSchedule, 0.5]);
  await assert.rejects(trainModel({ ...TINY, epochs: 3, out: dir, resume: true, lrSchedule }), (err: unknown) => {
    assert.ok(err instanceof TrainOptionsError);
    assert.match(err.message, /gradient clipping none vs 0\.5 in the checkpoint/);
    return true;
  });
});

test('Adam betas (the simvq-paper preset) reach the update, are saved, and a resume keeps them', async () => {
  const paper = tempDir('betas');
  const reference = tempDir('betas-ref');
  const { adamBetas, lr } = OPTIMIZER_PRESETS['simvq-paper'];
  await trainModel({ ...TINY, lr, adamBetas, out: paper });
  await trainModel({ ...TINY, lr, out: reference });
  const state = await readTrainerState(resolveCheckpoint(paper));
  assert.deepEqual([state.optimizer.config['beta1'], state.optimizer.config['beta2']], [0.5, 0.9]);
  const weights = (dir: string): Buffer => readFileSync(join(resolveCheckpoint(dir), CHECKPOINT_FILES.model));
  assert.ok(!weights(paper).equals(weights(reference)), 'other betas, other weights after the same steps');
  assert.deepEqual((await resumeOptions(paper)).adamBetas, [0.5, 0.9]);
  assert.deepEqual((await resumeOptions(reference)).adamBetas, [0.9, 0.999]);
  await assert.rejects(trainModel({ ...TINY, lr, epochs: 2, out: paper, resume: true }), /Adam betas 0\.9,0\.999 vs 0\.5,0\.9 in the checkpoint/);
  await assert.rejects(trainModel({ ...TINY, adamBetas: [0.5, 1], out: tempDir('betas-bad') }), /Adam betas must be two numbers in \[0, 1\), got \[0\.5,1\]/);
});

test('the plateau rule: no epoch of the last P beat the best before them by more than δ', () => {
  const rule = { patience: 2, minDelta: 0.01 };
  assert.equal(hasPlateaued([0.1, 0.2], rule), false, 'too few epochs to judge');
  assert.equal(hasPlateaued([0.1, 0.3, 0.305, 0.31], rule), true, 'rises of 0.005 and 0.01 are not more than δ');
  assert.equal(hasPlateaued([0.1, 0.3, 0.305, 0.311], rule), false, 'a rise of 0.011 is');
  assert.equal(hasPlateaued([0.5, 0.3, 0.4, 0.45], rule), true, 'measured against the best before, not the last');
  assert.equal(hasPlateaued([0.4, 0.4], { patience: 1, minDelta: 0 }), true);
});

test('--until-plateau stops a run early, and a resumed plateaued run trains nothing more', async () => {
  const dir = tempDir('plateau');
  // δ = 0.9: no epoch can rise that much, so the run stops after epoch 1 + patience.
  const stopOnPlateau = { patience: 1, minDelta: 0.9 };
  const lines: string[] = [];
  const summary = await trainModel({ ...TINY, epochs: 10, out: dir, stopOnPlateau }, { log: (l) => lines.push(l) });
  assert.equal(summary.completedEpochs, 2);
  assert.deepEqual((await readMetricsLog(join(dir, 'metrics.jsonl'))).map((r) => r.epoch), [1, 2]);
  assert.ok(lines.some((l) => /stopping after epoch 2 of at most 10/.test(l)), lines.join('\n'));
  const restored = await resumeOptions(dir);
  assert.deepEqual(restored.stopOnPlateau, stopOnPlateau);
  const again = await trainModel(restored, { log: (l) => lines.push(l) });
  assert.equal(again.history.length, 0, 'nothing trained');
  assert.match(lines[lines.length - 1]!, /has already trained 2 of 10 epochs and its utilization has plateaued; nothing to do/);
  await assert.rejects(trainModel({ ...TINY, out: tempDir('plateau-bad'), stopOnPlateau: { patience: 0, minDelta: 0 } }), /plateau patience must be an integer >= 1/);
});

test('--save-every checkpoints mid-epoch, and a run resumed from one equals one never interrupted', async () => {
  const straight = tempDir('every-straight');
  const dir = tempDir('every');
  await trainModel({ ...TINY, epochs: 2, out: straight });
  // Saves at steps 2 and 6 (mid-epoch) and 4 and 8 (epoch ends); the disk fills at the last one.
  const writeHook = failWritesTo('step-00000008', 'ENOSPC');
  await assert.rejects(trainModel({ ...TINY, epochs: 2, out: dir, saveEvery: 2 }, { writeHook }), /cannot write .*step-00000008.*ENOSPC/);
  const state = await readTrainerState(dir);
  assert.deepEqual([state.epoch, state.step, state.dataPosition], [1, 6, { epoch: 1, batch: 2 }]);
  await trainModel({ ...TINY, epochs: 2, out: dir, resume: true, saveEvery: 2 });
  for (const file of [CHECKPOINT_FILES.model, CHECKPOINT_FILES.optimizer]) {
    assert.deepEqual(readFileSync(join(resolveCheckpoint(dir), file)), readFileSync(join(resolveCheckpoint(straight), file)), file);
  }
  assert.deepEqual((await readMetricsLog(join(dir, 'metrics.jsonl'))).map((r) => [r.epoch, r.step, r.loss]), (await readMetricsLog(join(straight, 'metrics.jsonl'))).map((r) => [r.epoch, r.step, r.loss]));
});

test('the codes dead-code replacement re-seeds are logged per epoch, and a stopped and resumed run logs the same', async () => {
  const options = { ...TINY, epochs: 2, quantizer: tinyQuantizer('vq', { deadCodeShare: 0.5 }) };
  const lines: string[] = [];
  const straight = tempDir('reseed-straight');
  await trainModel({ ...options, out: straight }, { log: (l) => lines.push(l) });
  const records = await readMetricsLog(join(straight, 'metrics.jsonl'));
  // One notice an epoch (4 steps an epoch), for its first replacement; the epoch's line totals them.
  const notices = lines.flatMap((l) => {
    const m = /^step (\d+): replaced (\d+) dead codes? with encoder outputs of the batch \(the epoch's line totals the codes re-seeded\)$/.exec(l);
    return m ? [{ epoch: Math.floor((Number(m[1]) - 1) / 4) + 1, codes: Number(m[2]) }] : [];
  });
  assert.deepEqual(notices.map((n) => n.epoch), [1, 2], lines.join(' | '));
  const totals = lines.flatMap((l) => /^epoch \d+\/2 .* re-seeded (\d+) codes /.exec(l)?.[1] ?? []).map(Number);
  assert.deepEqual(records.map((r) => r.reseeded_codes), totals);
  for (const n of notices) assert.ok(n.codes > 0 && n.codes <= totals[n.epoch - 1]!, `epoch ${n.epoch}: a step re-seeded ${n.codes} codes, the epoch ${totals[n.epoch - 1]}`);
  // Stopped after step 6, in the middle of epoch 2: the resumed epoch counts its first two steps too.
  const stopped = tempDir('reseed-stopped');
  let checks = 0;
  const stopSignal = { get aborted() { return ++checks >= 6; } } as AbortSignal;
  await assert.rejects(trainModel({ ...options, out: stopped }, { stopSignal }), /stopped at epoch 2, step 6/);
  await trainModel({ ...options, out: stopped, resume: true });
  assert.deepEqual((await readMetricsLog(join(stopped, 'metrics.jsonl'))).map((r) => [r.reseeded_codes, r.utilization, r.loss]), records.map((r) => [r.reseeded_codes, r.utilization, r.loss]));
  // Quantizers without host steps log no such field.
  const plain = await trainModel({ ...TINY, out: tempDir('reseed-none') });
  assert.equal('reseeded_codes' in plain.history[0]!, false);
});

test('the progress line shows the time the remaining steps should take', () => {
  const out: string[] = [];
  new ProgressReporter({ write: (t: string) => out.push(t), isTTY: false }, true, 1).update({ epoch: 1, epochs: 2, step: 1, steps: 10, loss: 0.5, batchUtilization: 0.5, throughput: 100, etaSeconds: 75 });
  assert.match(out[0]!, /  ETA 1m15s\n$/);
  assert.deepEqual([formatDuration(9.6), formatDuration(3600 * 2 + 61)], ['10s', '2h01m']);
});

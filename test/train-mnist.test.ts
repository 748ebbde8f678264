import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateCheckpoint } from '../src/eval/evaluate-checkpoint.js';
import type { EpochRecord } from '../src/train/metrics-log.js';
import { trainModel } from '../src/train/train.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

test('a short SimVQ run on 384 MNIST digits lowers the loss and reports code usage', async () => {
  const out = tempDir('mnist');
  const lines: string[] = [];
  const summary = await trainModel({
    quantizer: resolveQuantizerConfig('simvq', { codebookSize: 64, dim: 16, beta: 0.25 }),
    lr: 1e-3,
    batch: 32,
    epochs: 3,
    seed: 0,
    threads: 1,
    out,
    trainLimit: 384,
    testLimit: 100,
  }, { log: (l) => lines.push(l) });
  const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
  assert.equal(records.length, 3);
  assert.deepEqual(records.map((r) => r.epoch), [1, 2, 3]);
  assert.equal(summary.steps, 3 * 12);
  const [first, , last] = records as [EpochRecord, EpochRecord, EpochRecord];
  assert.ok(last.loss.reconstruction < 0.7 * first.loss.reconstruction, `reconstruction ${first.loss.reconstruction} → ${last.loss.reconstruction}`);
  for (const r of records) {
    assert.ok(r.utilization > 0 && r.utilization <= 1, `utilization ${r.utilization}`);
    assert.equal(r.dead_codes, Math.round(64 * (1 - r.utilization)));
    assert.ok(r.perplexity >= 1 && r.perplexity <= 64);
    assert.ok(r.loss.codebook !== null && r.loss.commitment !== null);
    assert.ok(r.epoch_seconds <= r.wall_seconds, 'an epoch lasts no longer than the run so far');
    assert.ok(r.test !== null && r.test.psnr > 0 && r.test.ssim <= 1);
  }
  assert.ok(last.test!.mse < first.test!.mse, `test mse ${first.test!.mse} → ${last.test!.mse}`);
  assert.equal(lines.filter((l) => l.startsWith('epoch ')).length, 3);

  // evaluateCheckpoint agrees with the last epoch's test metrics (same images, same weights).
  const { metrics: evaluated, counts } = await evaluateCheckpoint(out, { threads: 1 });
  assert.equal(counts.length, 64);
  assert.equal(counts.reduce((s, c) => s + c, 0), 100 * 7 * 7, 'one count per test latent');
  assert.equal(counts.filter((c) => c === 0).length, evaluated.dead_codes);
  assert.deepEqual(Object.keys(evaluated).sort(), ['codes_covering_50', 'codes_covering_90', 'dead_codes', 'effective_bits', 'mse', 'perplexity', 'psnr', 'ssim', 'utilization']);
  assert.ok(Math.abs(evaluated.mse - last.test!.mse) < 1e-9);
  assert.ok(Math.abs(evaluated.psnr - 10 * Math.log10(1 / evaluated.mse)) < 1e-9);
  assert.ok(readFileSync(join(out, 'recon.png')).subarray(1, 4).toString() === 'PNG');
});

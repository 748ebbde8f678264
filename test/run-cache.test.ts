import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBackend } from '../src/experiments/default-backend.js';
import { resolveSettings } from '../src/experiments/presets.js';
import { experimentDefinition } from '../src/experiments/registry.js';
import { runCacheKey, RunCache } from '../src/experiments/run-cache.js';
import { runExperiment } from '../src/experiments/run-experiment.js';
import type { ExperimentSettings, RunSpec } from '../src/experiments/types.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { readMetricsLog } from '../src/train/metrics-log.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'vqlab-cache-'));
}

const TINY = { sizes: [16], quantizers: ['vq:deadCodeShare=0.5'], seeds: [0], trainLimit: 64, testLimit: 20, batch: 32, threads: 1 };

function settingsOf(overrides: Partial<ExperimentSettings>): ExperimentSettings {
  return resolveSettings('codebook-size', 'quick', { ...TINY, ...overrides });
}

function onlyRun(s: ExperimentSettings): RunSpec {
  return experimentDefinition('codebook-size').plan(s)[0]!;
}

/** The checkpoint bytes and the utilization per epoch of the one run of an experiment in `out`. */
function trained(out: string, s: ExperimentSettings): { model: Buffer; optimizer: Buffer; runDir: string } {
  const runDir = join(out, 'runs', onlyRun(s).id);
  const folder = resolveCheckpoint(runDir);
  return { model: readFileSync(join(folder, CHECKPOINT_FILES.model)), optimizer: readFileSync(join(folder, CHECKPOINT_FILES.optimizer)), runDir };
}

async function utilizations(runDir: string): Promise<number[]> {
  return (await readMetricsLog(join(runDir, 'metrics.jsonl'))).map((r) => r.utilization);
}

test('the run cache key: what names a run or stops it is out, what decides its weights is in', () => {
  const s = settingsOf({ epochs: 3 });
  const run = onlyRun(s);
  const key = runCacheKey(run, s);
  assert.equal(runCacheKey({ ...run, id: 'other', experiment: 'beta', variant: 'x', epochs: 50, plateauPatience: 3, settlePatience: 2, settleDelta: 0.01 }, s), key);
  for (const other of [{ ...run, seed: 1 }, { ...run, lr: 1e-3 }, { ...run, batch: 16 }, { ...run, trainLimit: 32 }, { ...run, testLimit: 10 }, { ...run, warmupSteps: 10 }, { ...run, data: 'fashion-mnist' }, { ...run, quantizer: { ...run.quantizer, beta: 1 } }]) {
    assert.notEqual(runCacheKey(other, s), key, JSON.stringify(other));
  }
  assert.notEqual(runCacheKey(run, { ...s, threads: 2 }), key, 'threads change the floating-point sums');
  // A cosine schedule at every step depends on the total steps: its epoch cap is part of the key.
  const cosine = { ...run, cosine: true };
  assert.notEqual(runCacheKey({ ...cosine, epochs: 4 }, s), runCacheKey(cosine, s));
  // The β = 0.25 run of the β sweep is the codebook grid's run under another name.
  const beta = resolveSettings('beta', 'quick', { ...TINY, size: 16, quantizers: ['vq:deadCodeShare=0.5'], betas: [0.25, 1], epochs: 3 });
  const [quarter, one] = experimentDefinition('beta').plan(beta);
  assert.equal(runCacheKey(quarter!, beta), key);
  assert.notEqual(runCacheKey(one!, beta), key);
});

test('a run continued from the run cache gives byte-identical checkpoints to one trained anew, and a stopping rule stops at a cached epoch', async () => {
  const root = tmp();
  try {
    const backend = defaultBackend();
    const three = settingsOf({ epochs: 3 });
    const two = settingsOf({ epochs: 2 });
    const cacheDir = join(root, 'cache');
    const cache = new RunCache(cacheDir);
    // Uncached: three epochs in one go.
    await runExperiment({ kind: 'codebook-size', settings: three, out: join(root, 'anew'), backend });
    const anew = trained(join(root, 'anew'), three);
    // Two epochs through the cache, then the same training with a cap of three.
    await runExperiment({ kind: 'codebook-size', settings: two, out: join(root, 'two'), backend, cache });
    const entry = join(cacheDir, runCacheKey(onlyRun(two), two));
    assert.deepEqual(readdirSync(entry).sort(), ['epoch-0001', 'epoch-0002', 'key.json']);
    const lines: string[] = [];
    await runExperiment({ kind: 'codebook-size', settings: three, out: join(root, 'continued'), backend, cache, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => /: epochs 1–2 from the run cache /.test(l)), lines.join('\n'));
    const continued = trained(join(root, 'continued'), three);
    assert.ok(continued.model.equals(anew.model), 'model.safetensors byte for byte');
    assert.ok(continued.optimizer.equals(anew.optimizer), 'optimizer.safetensors byte for byte');
    assert.deepEqual(await utilizations(continued.runDir), await utilizations(anew.runDir));
    assert.ok(existsSync(join(entry, 'epoch-0003')), 'the continuation adds its own epochs');

    // A run that stops once utilization settles (any change under 0.99) ends after epoch 2: the
    // cached epoch 2 is its result, and nothing trains.
    const settling = settingsOf({ epochs: 10, settlePatience: 1, settleDelta: 0.99 });
    const settled: string[] = [];
    await runExperiment({ kind: 'codebook-size', settings: settling, out: join(root, 'settling'), backend, cache, log: (l) => settled.push(l) });
    assert.ok(settled.some((l) => /: epochs 1–2 from the run cache /.test(l)), settled.join('\n'));
    assert.ok(settled.some((l) => /has already trained 2 of 10 epochs and its utilization has settled; nothing to do/.test(l)), settled.join('\n'));
    assert.ok(trained(join(root, 'settling'), settling).model.equals(trained(join(root, 'two'), two).model));

    // Other training finds nothing: another seed trains from the start.
    const seed1 = settingsOf({ epochs: 1, seeds: [1] });
    const fresh: string[] = [];
    await runExperiment({ kind: 'codebook-size', settings: seed1, out: join(root, 'seed1'), backend, cache, log: (l) => fresh.push(l) });
    assert.ok(!fresh.some((l) => /run cache/.test(l)), fresh.join('\n'));

    // A damaged entry is refused rather than trained on.
    writeFileSync(join(entry, 'epoch-0003', CHECKPOINT_FILES.model), 'not a checkpoint');
    await assert.rejects(runExperiment({ kind: 'codebook-size', settings: three, out: join(root, 'damaged'), backend, cache }), /model\.safetensors/);
    writeFileSync(join(entry, 'key.json'), '{}\n');
    await assert.rejects(runExperiment({ kind: 'codebook-size', settings: two, out: join(root, 'other-key'), backend, cache }), /describes other training than its name says; remove .* from the run cache/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnoseCheckpoint } from '../src/eval/evaluate-checkpoint.js';
import type { DiagnosticsRecord } from '../src/eval/diagnostics.js';
import { Rng } from '../src/init/rng.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSafetensors } from '../src/persistence/safetensors.js';
import { singularValueDecomposition } from '../src/quantizers/singular-values.js';
import { hasPlateaued } from '../src/train/plateau.js';
import { readMetricsLog } from '../src/train/metrics-log.js';
import { resumeOptions } from '../src/train/resume.js';
import { hasSettled } from '../src/train/settle.js';
import { trainModel } from '../src/train/train.js';
import { tempDir, TINY, tinyQuantizer } from './helpers/checkpoint-fixture.js';

/** A·B for row-major m×k and k×n. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!; out[i * n + j] = s; }
  return out;
}

function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** A seeded random orthogonal n×n matrix: a product of n Householder reflections I − 2vvᵀ/‖v‖². */
function randomOrthogonal(n: number, rng: Rng): Float64Array {
  let q: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let r = 0; r < n; r++) {
    const v = Float64Array.from({ length: n }, () => rng.uniform() - 0.5);
    const vv = v.reduce((s, x) => s + x * x, 0);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - (2 * v[i]! * v[j]!) / vv;
    q = matmul(q, h, n, n, n);
  }
  return q;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('SVD by Jacobi rotations: a hand example and U·diag(σ)·Vᵀ built from known factors', () => {
  // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5.
  const small = singularValueDecomposition([3, 0, 4, 5], 2, 2);
  assert.ok(maxAbsDiff(small.values, [Math.sqrt(45), Math.sqrt(5)]) < 1e-14, String(small.values));

  const rng = new Rng(11);
  for (const n of [3, 8, 64]) {
    const u = randomOrthogonal(n, rng);
    const v = randomOrthogonal(n, rng);
    // Spread over six orders of magnitude with the largest value repeated, as a collapsing W might have.
    const sigma = Float64Array.from({ length: n }, (_, i) => (i === 1 ? 1 : 10 ** (-6 * (i / (n - 1)))));
    const us = Float64Array.from(u, (x, idx) => x * sigma[idx % n]!);
    const a = matmul(us, transpose(v, n, n), n, n, n);
    const svd = singularValueDecomposition(a, n, n);
    const sorted = Float64Array.from(sigma).sort().reverse();
    for (let i = 0; i < n; i++) assert.ok(Math.abs(svd.values[i]! - sorted[i]!) <= 1e-13 * sorted[0]!, `n=${n}: σ_${i} ${svd.values[i]} vs ${sorted[i]}`);
    // The factors reproduce A and are orthogonal.
    const usv = matmul(Float64Array.from(svd.u, (x, idx) => x * svd.values[idx % n]!), transpose(svd.v, n, n), n, n, n);
    assert.ok(maxAbsDiff(usv, a) < 1e-13, `n=${n}: U·Σ·Vᵀ = A`);
    const identity = Float64Array.from({ length: n * n }, (_, idx) => (Math.floor(idx / n) === idx % n ? 1 : 0));
    assert.ok(maxAbsDiff(matmul(transpose(svd.v, n, n), svd.v, n, n, n), identity) < 1e-13, `n=${n}: VᵀV = I`);
    assert.ok(maxAbsDiff(matmul(transpose(svd.u, n, n), svd.u, n, n, n), identity) < 1e-12, `n=${n}: UᵀU = I`);
  }
  // A tall matrix (m > n) and a rank-deficient one.
  const rank1 = singularValueDecomposition([1, 2, 2, 4, 3, 6], 3, 2);
  assert.ok(Math.abs(rank1.values[0]! - Math.sqrt(14 * 5)) < 1e-13 && rank1.values[1]! < 1e-14, String(rank1.values));
  assert.throws(() => singularValueDecomposition([1, 2], 1, 2), /m >= n >= 1, got 1×2/);
  assert.throws(() => singularValueDecomposition([1, 2, 3], 2, 2), /2×2 needs 4 values, got 3/);
  assert.throws(() => singularValueDecomposition([1, NaN, 0, 1], 2, 2), /non-finite entry/);
});

test('the settle rule: each of the last P epochs moved utilization by less than δ, up or down', () => {
  const rule = { patience: 2, delta: 0.01 };
  assert.equal(hasSettled([0.3, 0.3], rule), false, 'too few epochs to judge');
  assert.equal(hasSettled([0.1, 0.3, 0.305, 0.299], rule), true, 'moves of +0.005 and −0.006');
  assert.equal(hasSettled([0.1, 0.3, 0.305, 0.315], rule), false, 'a move of 0.01 is not less than δ');
  // A falling run has plateaued (nothing beat the best before) but has not settled: it goes on.
  const falling = [0.6, 0.5, 0.4, 0.3];
  assert.equal(hasPlateaued(falling, { patience: 2, minDelta: 0.01 }), true);
  assert.equal(hasSettled(falling, rule), false);
  assert.equal(hasSettled([0.6, 0.5, 0.4, 0.395, 0.39], rule), true, 'until it stops falling');
});

function diagnosticsLines(dir: string): DiagnosticsRecord[] {
  return readFileSync(join(dir, 'diagnostics.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as DiagnosticsRecord);
}

test('--diagnose-every writes training-set diagnostics and W\'s spectrum without changing the weights; eval --diagnostics gives the same record for the checkpoint', async () => {
  const simvq = { ...TINY, quantizer: tinyQuantizer('simvq'), epochs: 2 };
  const plain = tempDir('diag-plain');
  const dir = tempDir('diag');
  await trainModel({ ...simvq, out: plain });
  const lines: string[] = [];
  await trainModel({ ...simvq, out: dir, diagnoseEvery: 1 }, { log: (l) => lines.push(l) });
  const weights = (d: string): Buffer => readFileSync(join(resolveCheckpoint(d), CHECKPOINT_FILES.model));
  assert.ok(weights(dir).equals(weights(plain)), 'diagnosing leaves the trained weights byte for byte');
  const records = diagnosticsLines(dir);
  assert.deepEqual(records.map((r) => [r.epoch, r.split, r.latents]), [[1, 'train', 64 * 49], [2, 'train', 64 * 49]]);
  assert.ok(lines.some((l) => /^diagnostics after epoch 2: training set utilization/.test(l)), lines.join('\n'));
  const last = records[1]!;
  assert.ok(last.codes_covering_50 <= last.codes_covering_90 && last.codes_covering_90 <= last.used_codes);
  // W's singular values, from the checkpoint's own W.
  const model = decodeSafetensors(readFileSync(join(resolveCheckpoint(dir), CHECKPOINT_FILES.model)), 'model');
  const w = model.tensors.get('quantizer.proj.weight')!;
  const d = simvq.quantizer.dim;
  assert.deepEqual(last.singular_values, Array.from(singularValueDecomposition(w.data, d, d).values));
  // The same record after the fact, from the checkpoint folder alone.
  assert.deepEqual(await diagnoseCheckpoint(resolveCheckpoint(dir), { threads: 1 }), last);
  // Other quantizers have no W.
  const vq = tempDir('diag-vq');
  await trainModel({ ...TINY, out: vq, diagnoseEvery: 1 });
  assert.equal(diagnosticsLines(vq)[0]!.singular_values, undefined);
  await assert.rejects(trainModel({ ...TINY, out: tempDir('diag-bad'), diagnoseEvery: 0 }), /diagnose every must be an integer >= 1, got 0/);
});

test('--until-settled stops a run once utilization stops moving, and a resumed settled run trains nothing more', async () => {
  const dir = tempDir('settle');
  // δ = 0.99: every change is less, so the run stops after epoch 1 + patience.
  const stopOnSettle = { patience: 2, delta: 0.99 };
  const lines: string[] = [];
  const summary = await trainModel({ ...TINY, epochs: 10, out: dir, stopOnSettle }, { log: (l) => lines.push(l) });
  assert.equal(summary.completedEpochs, 3);
  assert.deepEqual((await readMetricsLog(join(dir, 'metrics.jsonl'))).map((r) => r.epoch), [1, 2, 3]);
  assert.ok(lines.some((l) => /changed by less than 99 points in each of the last 2 epochs; stopping after epoch 3 of at most 10/.test(l)), lines.join('\n'));
  const restored = await resumeOptions(dir);
  assert.deepEqual(restored.stopOnSettle, stopOnSettle);
  const again = await trainModel(restored, { log: (l) => lines.push(l) });
  assert.equal(again.history.length, 0, 'nothing trained');
  assert.match(lines[lines.length - 1]!, /has already trained 3 of 10 epochs and its utilization has settled; nothing to do/);
  await assert.rejects(trainModel({ ...TINY, out: tempDir('settle-bad'), stopOnSettle: { patience: 1, delta: 0 } }), /settle delta must be a utilization fraction in \(0, 1\), got 0/);
});

/**
 * The options that give the quantizer family fair set-ups (issue 26): codes started at unit norm
 * (`init: 'unit'`), SimVQ's "C only" with a frozen random W (`frozenW: 'random'`), and k-means from
 * encoder outputs drawn across the training set (`kmeansSamples`), in the quantizers and through
 * the trainer. LFQ's and FSQ's `preNorm` is in quantizer-pre-norm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { Adam } from '../src/optim/adam.js';
import { loadModelCheckpoint } from '../src/persistence/checkpoint.js';
import { createQuantizer, parseQuantizerSpec, resolveQuantizerConfig, savedQuantizerConfig, type Quantizer } from '../src/quantizers/index.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableView } from '../src/runtime/variable-view.js';
import { VariableStore } from '../src/runtime/variables.js';
import { trainModel } from '../src/train/train.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { tempDir, TINY, tinyQuantizer } from './helpers/checkpoint-fixture.js';
import { randomNormal, runOnce } from './helpers/quantizer-fixtures.js';

/** A training program whose loss is the quantizer's, on input z [m, d]. */
async function quantizerProgram(q: Quantizer, store: VariableStore, m: number) {
  return TrainingProgram.create({ store, optimizer: new Adam(), threads: 1, build: (ctx) => {
    // A trainable stand-in for the encoder (EMA-VQ has no parameter of its own), starting at 0.
    const shift = ctx.param('shift', [q.dim], { kind: 'constant', value: 0 });
    const res = q.quantize(ctx.scope('quantizer'), op.add(ctx.input('z', [m, q.dim]), shift));
    return { loss: res.loss, metrics: { counts: res.counts, search_inputs: res.searchInputs! } };
  } });
}

function row(values: Float32Array, i: number, width: number): number[] {
  return Array.from(values.subarray(i * width, (i + 1) * width));
}

function distinctRows(values: Float32Array, width: number): number {
  return new Set(Array.from({ length: values.length / width }, (_, i) => row(values, i, width).join(','))).size;
}

test("init 'unit' draws every code at norm s in a random direction, for VQ and EMA-VQ", async () => {
  for (const [kind, scale] of [['vq', undefined], ['vq', 2], ['ema', undefined]] as const) {
    const q = createQuantizer(kind, { codebookSize: 64, dim: 8, init: 'unit', initScale: scale });
    const e = (await runOnce(new VariableStore(1), (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array;
    for (let k = 0; k < 64; k++) assert.ok(Math.abs(Math.hypot(...row(e, k, 8)) - (scale ?? 1)) < 1e-5, `${kind} code ${k}`);
    // Directions spread over the sphere: the mean code is far shorter than a code.
    const mean = Array.from({ length: 8 }, (_, j) => Array.from({ length: 64 }, (_, k) => e[k * 8 + j]!).reduce((a, b) => a + b) / 64);
    assert.ok(Math.hypot(...mean) < 0.4 * (scale ?? 1), `${kind}: mean code of norm ${Math.hypot(...mean)}`);
  }
  assert.equal(createQuantizer('vq', { codebookSize: 4, dim: 2, init: 'unit' }).initScale, 1);
});

test("Adam's first steps send cosine codes started at U(±1/K) onto the cube's diagonals, and barely turn codes started at unit norm", async () => {
  const k = 4096, d = 8, m = 256;
  const z = randomNormal(m * d, new Rng(4));
  const shapes: Record<string, { moved: number; diagonal: number; turned: number }> = {};
  for (const init of ['uniform', 'unit'] as const) {
    const q = createQuantizer('vq', { codebookSize: k, dim: d, cosine: true, init });
    const store = new VariableStore(2);
    const program = await quantizerProgram(q, store, m);
    try {
      const before = Float32Array.from(store.get('quantizer.codebook')!.value);
      for (let s = 0; s < 3; s++) await program.step({ z }, 1e-3);
      const after = store.get('quantizer.codebook')!.value;
      let moved = 0, diagonal = 0, turned = 0;
      for (let c = 0; c < k; c++) {
        const a = row(after, c, d), b = row(before, c, d);
        if (a.every((v, j) => v === b[j])) continue;
        moved++;
        const magnitudes = a.map(Math.abs);
        // On a diagonal: every coordinate of about the same size.
        if (Math.min(...magnitudes) > 0.5 * Math.max(...magnitudes)) diagonal++;
        const cos = a.reduce((s2, v, j) => s2 + v * b[j]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
        if (cos < 0.99) turned++;
      }
      shapes[init] = { moved, diagonal, turned };
    } finally {
      await program.release();
    }
  }
  const { uniform, unit } = shapes as Record<'uniform' | 'unit', { moved: number; diagonal: number; turned: number }>;
  assert.ok(uniform.moved > 50 && unit.moved > 50, JSON.stringify(shapes));
  assert.ok(uniform.diagonal > 0.8 * uniform.moved && uniform.turned === uniform.moved, `U(±1/K): ${JSON.stringify(uniform)}`);
  assert.equal(unit.turned, 0, `unit: ${JSON.stringify(unit)}`);
});

test("SimVQ's frozenW 'random' keeps a random W and b fixed while C trains, and is refused unless only C trains", async () => {
  const d = 4, m = 32;
  const q = createQuantizer('simvq', { codebookSize: 16, dim: d, optimize: 'C', frozenW: 'random' });
  const store = new VariableStore(3);
  const program = await quantizerProgram(q, store, m);
  try {
    const w = Float32Array.from(store.get('quantizer.proj.weight')!.value);
    const b = Float32Array.from(store.get('quantizer.proj.bias')!.value);
    const c = Float32Array.from(store.get('quantizer.codebook')!.value);
    // nn.Linear's U(±1/√d), not the identity.
    assert.ok(w.every((v) => Math.abs(v) <= 0.5) && w.some((v, i) => v !== (i % (d + 1) === 0 ? 1 : 0)));
    assert.ok(b.some((v) => v !== 0));
    for (let s = 0; s < 3; s++) await program.step({ z: randomNormal(m * d, new Rng(s)) }, 1e-2);
    assert.deepEqual(store.get('quantizer.proj.weight')!.value, w);
    assert.deepEqual(store.get('quantizer.proj.bias')!.value, b);
    assert.notDeepEqual(store.get('quantizer.codebook')!.value, c);
  } finally {
    await program.release();
  }
  // The default stays W = I, b = 0 and is not written into configs.
  assert.equal('frozenW' in savedQuantizerConfig(resolveQuantizerConfig('simvq', { codebookSize: 4, dim: 2, optimize: 'C' })), false);
  assert.equal(parseQuantizerSpec('simvq:optimize=C:frozenW=random').options.frozenW, 'random');
  assert.throws(() => resolveQuantizerConfig('simvq', { codebookSize: 4, dim: 2, frozenW: 'random' }), /SimVQ: frozenW 'random' says how W is frozen, but optimize 'W' trains W; use optimize 'C' or drop frozenW/);
});

test('k-means initializes from the samples drawn across the training set when given them, so more codes than a batch holds start distinct', async () => {
  const k = 256, d = 4, m = 64;
  for (const kind of ['vq', 'ema', 'simvq'] as const) {
    const q = createQuantizer(kind, { codebookSize: k, dim: d, kmeansIters: 2, kmeansSamples: 1000 });
    assert.equal(q.initSampleCount, 1000);
    const store = new VariableStore(4);
    const program = await quantizerProgram(q, store, m);
    try {
      const r = await program.step({ z: randomNormal(m * d, new Rng(5)) }, 1e-3);
      const variables = new VariableView(store, 'quantizer.', program.optimizer);
      const initSamples = randomNormal(1000 * d, new Rng(6));
      const outcome = await q.hostStep!({ variables, step: 1, searchInputs: r.metrics.search_inputs as Float32Array, counts: r.metrics.counts as Float32Array, initSamples });
      assert.match(outcome?.notice ?? '', /k-means initialized the 256 codes from 1000 encoder outputs drawn across the training set \(2 Lloyd iterations\)/);
      // SimVQ's effective codes C·W + b, the others' rows.
      const codes = (await runOnce(store, (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array;
      // Every code distinct: from the batch alone at most m = 64 could be.
      assert.equal(distinctRows(codes, d), k, `${kind}: distinct codes from a batch of ${m}`);
    } finally {
      await program.release();
    }
  }
  assert.equal(createQuantizer('vq', { codebookSize: 4, dim: 2, kmeansSamples: 0, kmeansIters: 3 }).initSampleCount, 0);
  assert.throws(() => resolveQuantizerConfig('vq', { codebookSize: 4, dim: 2, kmeansSamples: 100 }), /VectorQuantizer: kmeansSamples \(100\) is the sample of the k-means initialization, which kmeansIters 0 turns off; set kmeansIters/);
  assert.throws(() => resolveQuantizerConfig('residual', { codebookSize: 4, dim: 2, kmeansIters: 3, kmeansSamples: 100 }), /ResidualQuantizer: kmeansSamples does not apply to residual stages/);
  assert.throws(() => resolveQuantizerConfig('vq', { codebookSize: 4, dim: 2, kmeansIters: 3, kmeansSamples: 2 ** 20 + 1 }), /kmeansSamples must be an integer >= 0 and <= 1048576/);
});

test('the trainer draws kmeansSamples encoder outputs across the training set before the first step, and a stopped run resumes to the same weights', async () => {
  // 16 images a batch, 7×7 latents each: 784 vectors a batch, fewer than the 1,024 codes.
  const options = { ...TINY, epochs: 2, quantizer: tinyQuantizer('vq', { codebookSize: 1024, kmeansIters: 2, kmeansSamples: 1500 }) };
  const lines: string[] = [];
  const straight = tempDir('kmeans-samples');
  await trainModel({ ...options, out: straight }, { log: (l) => lines.push(l) });
  assert.ok(lines.includes('drew 1500 encoder outputs of 31 training images, chosen at random, for the quantizer\'s initialization'), lines.join(' | '));
  assert.ok(lines.some((l) => /^step 1: k-means initialized the 1024 codes from 1500 encoder outputs drawn across the training set/.test(l)), lines.join(' | '));
  const { store } = await loadModelCheckpoint(straight);
  const codes = store.get('quantizer.codebook')!.value;
  assert.ok(distinctRows(codes, 8) > 784, `${distinctRows(codes, 8)} distinct codes`);
  // Stopped after step 2 (before any checkpoint of the k-means): the resumed run draws nothing again.
  const stopped = tempDir('kmeans-samples-stopped');
  let checks = 0;
  const stopSignal = { get aborted() { return ++checks >= 2; } } as AbortSignal;
  await assert.rejects(trainModel({ ...options, out: stopped }, { stopSignal }), /stopped at epoch 1, step 2/);
  const resumed: string[] = [];
  await trainModel({ ...options, out: stopped, resume: true }, { log: (l) => resumed.push(l) });
  assert.ok(!resumed.some((l) => l.startsWith('drew ')), resumed.join(' | '));
  assert.deepEqual(readFileSync(join(resolveCheckpoint(stopped), 'model.safetensors')), readFileSync(join(resolveCheckpoint(straight), 'model.safetensors')));
});

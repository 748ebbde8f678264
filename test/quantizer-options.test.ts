import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { Adam } from '../src/optim/adam.js';
import { Sgd } from '../src/optim/sgd.js';
import { buildQuantizer, createQuantizer, kmeans, orthogonalLoss, quantizationError, resolveQuantizerConfig, rotateTo, savedQuantizerConfig, type HostStepOutcome, type Quantizer } from '../src/quantizers/index.js';
import type { Optimizer } from '../src/runtime/optimizer.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableView } from '../src/runtime/variable-view.js';
import { VariableStore } from '../src/runtime/variables.js';
import { randomNormal, runOnce, toNumbers } from './helpers/quantizer-fixtures.js';

/** M points around `clusters` well-separated centres in d dimensions. */
function clustered(m: number, d: number, clusters: number, rng: Rng): Float32Array {
  const centres = randomNormal(clusters * d, rng, 5);
  const x = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const c = i % clusters;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j]! + 0.1 * rng.normal();
  }
  return x;
}

/** A training program whose loss is the quantizer's, on input z [m, d], fetching what host steps need. */
async function quantizerProgram(q: Quantizer, store: VariableStore, m: number, optimizer: Optimizer = new Adam()) {
  return TrainingProgram.create({ store, optimizer, threads: 1, build: (ctx) => {
    // A trainable stand-in for the encoder (EMA-VQ has no parameter of its own), starting at 0.
    const shift = ctx.param('shift', [q.dim], { kind: 'constant', value: 0 });
    const res = q.quantize(ctx.scope('quantizer'), op.add(ctx.input('z', [m, q.dim]), shift));
    return { loss: res.loss, metrics: { counts: res.counts, search_inputs: res.searchInputs! } };
  } });
}

/** The quantizer's variables (built under the scope 'quantizer'), as the training step gives them to its host step. */
function quantizerVariables(store: VariableStore, program: TrainingProgram): VariableView {
  return new VariableView(store, 'quantizer.', program.optimizer);
}

test('k-means initialization lowers the first batch\'s quantization error far below the random codebook\'s', async () => {
  const m = 400, d = 4, k = 8;
  const z = clustered(m, d, k, new Rng(1));
  for (const kind of ['vq', 'ema', 'simvq'] as const) {
    const q = createQuantizer(kind, { codebookSize: k, dim: d, kmeansIters: 10, init: kind === 'vq' ? 'normal' : undefined });
    const store = new VariableStore(1);
    const program = await quantizerProgram(q, store, m);
    try {
      const before = (await runOnce(store, (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array;
      const r = await program.step({ z }, 1e-3);
      const outcome = await q.hostStep!({ variables: quantizerVariables(store, program), step: 1, searchInputs: r.metrics.search_inputs as Float32Array, counts: r.metrics.counts as Float32Array });
      assert.match(outcome?.notice ?? '', /k-means initialized the 8 codes from 400 encoder outputs/);
      assert.equal(outcome?.reseededCodes, k);
      const after = (await runOnce(store, (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array;
      const random = quantizationError(z, before, d);
      const fitted = quantizationError(z, after, d);
      assert.ok(fitted < 0.05 * random, `${kind}: k-means error ${fitted} vs random ${random}`);
      // The effective codebook is the k-means solution itself (SimVQ through C_k = (μ_k − b)W⁻¹).
      const centres = await kmeans(z, d, k, 10, 1 * 7919 + 1);
      centres.forEach((v, i) => assert.ok(Math.abs(after[i]! - v) < 1e-3, `${kind}: code value ${i}: ${after[i]} vs ${v}`));
      // Not repeated on later steps.
      assert.equal(await q.hostStep!({ variables: quantizerVariables(store, program), step: 2, searchInputs: r.metrics.search_inputs as Float32Array, counts: r.metrics.counts as Float32Array }), undefined);
    } finally {
      await program.release();
    }
  }
});

test('a dead code is re-seeded from the batch and then chosen (VQ, EMA, SimVQ)', async () => {
  const m = 64, d = 2, k = 4;
  const z = clustered(m, d, 2, new Rng(2));
  for (const kind of ['vq', 'ema', 'simvq'] as const) {
    const q = createQuantizer(kind, { codebookSize: k, dim: d, deadCodeThreshold: 0.5 });
    const store = new VariableStore(2);
    const program = await quantizerProgram(q, store, m);
    try {
      // Place code 3 far from all data, so no input chooses it.
      const far = new Float32Array(d * k).fill(0);
      for (let j = 0; j < d; j++) far[3 * d + j] = 1000;
      // The codebook's variables differ per quantizer, so write through the quantizer itself.
      await (q as unknown as { writeCodes(v: VariableView, c: number[], x: Float32Array): Promise<void> }).writeCodes(quantizerVariables(store, program), [3], far.subarray(3 * d, 4 * d));
      const first = await program.step({ z }, 1e-4);
      const firstCounts = Float32Array.from(first.metrics.counts as Float32Array);
      assert.equal(firstCounts[3], 0, `${kind}: code 3 should start dead`);
      const outcome = await q.hostStep!({ variables: quantizerVariables(store, program), step: 1, searchInputs: first.metrics.search_inputs as Float32Array, counts: firstCounts });
      assert.match(outcome?.notice ?? '', /replaced \d+ dead codes? with encoder outputs of the batch/, kind);
      // Every code no input chose in step 1 (debiased usage 0 < 0.5) is replaced, code 3 among them.
      assert.equal(outcome?.reseededCodes, firstCounts.filter((c) => c === 0).length, kind);
      const e = (await runOnce(store, (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array;
      const row = Array.from(e.subarray(3 * d, 4 * d));
      const nearest = Math.min(...Array.from({ length: m }, (_, i) => Math.hypot(...row.map((v, j) => v - z[i * d + j]!))));
      assert.ok(nearest < 1e-3, `${kind}: revived code ${row} is ${nearest} from the nearest batch vector`);
      const second = await program.step({ z }, 1e-4);
      assert.ok((second.metrics.counts as Float32Array)[3]! >= 1, `${kind}: the revived code was not chosen`);
    } finally {
      await program.release();
    }
  }
});

test('deadCodeShare s replaces exactly the codes deadCodeThreshold s·M/K does, and the two cannot be combined', async () => {
  const m = 64, d = 2, k = 8, share = 0.5;
  const z = clustered(m, d, 2, new Rng(5));
  for (const kind of ['vq', 'ema', 'simvq'] as const) {
    const finalCodes: Float32Array[] = [];
    const notices: (HostStepOutcome | undefined)[] = [];
    for (const dead of [{ deadCodeShare: share }, { deadCodeThreshold: share * (m / k) }]) {
      const q = createQuantizer(kind, { codebookSize: k, dim: d, ...dead });
      const store = new VariableStore(5);
      const program = await quantizerProgram(q, store, m);
      try {
        // Two clusters and eight codes: some codes go unchosen and fall below the threshold.
        for (let step = 1; step <= 3; step++) {
          const r = await program.step({ z }, 1e-3);
          notices.push(await q.hostStep!({ variables: quantizerVariables(store, program), step, searchInputs: r.metrics.search_inputs as Float32Array, counts: Float32Array.from(r.metrics.counts as Float32Array) }));
        }
        finalCodes.push((await runOnce(store, (ctx) => ({ e: q.codebook(ctx.scope('quantizer')) }), {})).e as Float32Array);
      } finally {
        await program.release();
      }
    }
    assert.ok(notices.some((n) => (n?.reseededCodes ?? 0) > 0), `${kind}: no code was replaced`);
    assert.deepEqual(notices.slice(0, 3), notices.slice(3), kind);
    assert.deepEqual(Array.from(finalCodes[0]!), Array.from(finalCodes[1]!), kind);
    assert.throws(() => createQuantizer(kind, { codebookSize: k, dim: d, deadCodeThreshold: 1, deadCodeShare: 0.1 }),
      /deadCodeThreshold \(1 uses per step\) and deadCodeShare \(0\.1 of the uniform usage M\/K\) both set the dead-code threshold; set one of them/);
  }
  assert.throws(() => createQuantizer('vq', { codebookSize: k, dim: d, deadCodeShare: 1.5 }), /deadCodeShare must be a finite number >= 0 and <= 1, got 1\.5/);
  // The boundary itself: with usage set by hand just below and just above s·M/K = 4 (debiased at
  // step t = 2, u/(1 − γ²)), exactly the codes below it are replaced.
  const q = createQuantizer('vq', { codebookSize: k, dim: d, deadCodeShare: share });
  const store = new VariableStore(6);
  const program = await quantizerProgram(q, store, m);
  try {
    const r = await program.step({ z }, 1e-3);
    const debias = 1 - 0.99 ** 2;
    const below = [1, 4, 6];
    store.require('quantizer.code_usage').value.set(Array.from({ length: k }, (_, i) => (below.includes(i) ? 3.99 : 4.01) * debias));
    const codesBefore = Float32Array.from(store.require('quantizer.codebook').value);
    const notice = await q.hostStep!({ variables: quantizerVariables(store, program), step: 2, searchInputs: r.metrics.search_inputs as Float32Array, counts: Float32Array.from(r.metrics.counts as Float32Array) });
    assert.deepEqual(notice, { notice: 'replaced 3 dead codes with encoder outputs of the batch', reseededCodes: 3 });
    const codesAfter = store.require('quantizer.codebook').value;
    const changed = Array.from({ length: k }, (_, i) => i).filter((i) => codesAfter[i * d] !== codesBefore[i * d] || codesAfter[i * d + 1] !== codesBefore[i * d + 1]);
    assert.deepEqual(changed, below);
  } finally {
    await program.release();
  }
});

test('a re-seeded code starts with zero optimizer state under Adam and SGD; the other codes keep theirs', async () => {
  const m = 64, d = 2, k = 8;
  const z = clustered(m, d, 4, new Rng(7));
  const cases = [
    { optimizer: new Adam(), slots: ['opt.m.quantizer.codebook', 'opt.v.quantizer.codebook'] },
    { optimizer: new Sgd({ momentum: 0.9 }), slots: ['opt.momentum.quantizer.codebook'] },
  ];
  for (const { optimizer, slots } of cases) {
    const q = createQuantizer('vq', { codebookSize: k, dim: d, deadCodeShare: 0.5, init: 'normal' });
    const store = new VariableStore(7);
    const program = await quantizerProgram(q, store, m, optimizer);
    try {
      let r = await program.step({ z }, 1e-2);
      r = await program.step({ z }, 1e-2);
      const before = slots.map((name) => Float32Array.from(store.require(name).value));
      // The codes with optimizer state (chosen in a step) are the interesting ones; two of them die.
      const trained = Array.from({ length: k }, (_, i) => i).filter((i) => before[0]![i * d] !== 0 || before[0]![i * d + 1] !== 0);
      assert.ok(trained.length >= 3, `${optimizer.name}: only codes ${trained} have optimizer state`);
      const dead = trained.slice(0, 2);
      const debias = 1 - 0.99 ** program.optimizerStep;
      store.require('quantizer.code_usage').value.set(Array.from({ length: k }, (_, i) => (dead.includes(i) ? 0 : m) * debias));
      const outcome = await q.hostStep!({ variables: quantizerVariables(store, program), step: program.optimizerStep, searchInputs: r.metrics.search_inputs as Float32Array, counts: Float32Array.from(r.metrics.counts as Float32Array) });
      assert.equal(outcome?.reseededCodes, dead.length, optimizer.name);
      slots.forEach((name, s) => {
        const after = store.require(name).value;
        for (let i = 0; i < k; i++) {
          const row = Array.from(after.subarray(i * d, (i + 1) * d));
          assert.deepEqual(row, dead.includes(i) ? [0, 0] : Array.from(before[s]!.subarray(i * d, (i + 1) * d)), `${optimizer.name}: ${name} row ${i}`);
        }
      });
    } finally {
      await program.release();
    }
    assert.throws(() => optimizer.resetRows(store.require('quantizer.codebook'), [k]), /resetRows: row 8 is not one of the 8 rows of 'quantizer\.codebook'; rows are 0 … 7/);
  }
});

test('rotation trick: output equals the code, and the gradient is λRᵀg (hand-made case and random rows)', async () => {
  // e = [1, 0], q = [0, 2]: R rotates by 90°, λ = 2, so ∂/∂e of Σ g·q̃ = 2·[g2, −g1].
  const hand = await runOnce(new VariableStore(0), (ctx) => {
    const e = ctx.input('e', [1, 2]);
    const out = rotateTo(e, ctx.input('q', [1, 2]));
    const [ge] = grad(op.reduceSum(op.mul(out, ctx.input('g', [1, 2]))), [e]);
    return { out, ge: ge! };
  }, { e: Float32Array.of(1, 0), q: Float32Array.of(0, 2), g: Float32Array.of(0.3, -0.7) });
  assert.deepEqual(Array.from(hand.out as Float32Array).map((v) => Math.round(v * 1e6) / 1e6), [0, 2]);
  const ge = hand.ge as Float32Array;
  assert.ok(Math.abs(ge[0]! - 2 * -0.7) < 1e-6 && Math.abs(ge[1]! - 2 * -0.3) < 1e-6, `gradient ${Array.from(ge)}`);

  const rng = new Rng(3);
  const m = 6, d = 5;
  const e = randomNormal(m * d, rng), q = randomNormal(m * d, rng), g = randomNormal(m * d, rng);
  const out = await runOnce(new VariableStore(0), (ctx) => {
    const ei = ctx.input('e', [m, d]);
    const res = rotateTo(ei, ctx.input('q', [m, d]));
    const [grade] = grad(op.reduceSum(op.mul(res, ctx.input('g', [m, d]))), [ei]);
    return { out: res, ge: grade! };
  }, { e, q, g });
  for (let i = 0; i < m; i++) {
    const row = (x: Float32Array): number[] => Array.from(x.subarray(i * d, (i + 1) * d));
    const [ev, qv, gv] = [row(e), row(q), row(g)];
    const norm = (v: number[]): number => Math.hypot(...v);
    const dot = (a: number[], b: number[]): number => a.reduce((t, x, j) => t + x * b[j]!, 0);
    const eh = ev.map((x) => x / norm(ev)), qh = qv.map((x) => x / norm(qv));
    const sum = eh.map((x, j) => x + qh[j]!);
    const r = sum.map((x) => x / norm(sum));
    const lambda = norm(qv) / norm(ev);
    const expected = gv.map((x, j) => lambda * (x - 2 * r[j]! * dot(r, gv) + 2 * eh[j]! * dot(qh, gv)));
    row(out.out as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - qv[j]!) < 1e-5, `row ${i}: output ${v} vs code ${qv[j]}`));
    row(out.ge as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-4, `row ${i}: gradient ${v} vs ${expected[j]}`));
  }
});

test('cosine codebooks choose by angle and output unit vectors; a low-dimensional codebook decodes what it encodes', async () => {
  const m = 20, d = 3, k = 6;
  const rng = new Rng(4);
  const z = randomNormal(m * d, rng);
  const q = createQuantizer('vq', { codebookSize: k, dim: d, cosine: true, init: 'normal' });
  const store = new VariableStore(4);
  const out = await runOnce(store, (ctx) => {
    const res = q.quantize(ctx.scope('quantizer'), ctx.input('z', [m, d]));
    return { indices: res.indices, quantized: res.quantized };
  }, { z });
  const e = store.require('quantizer.codebook').value;
  const idx = toNumbers(out.indices!);
  for (let i = 0; i < m; i++) {
    const cos = Array.from({ length: k }, (_, c) => {
      let dot = 0, ne = 0, nz = 0;
      for (let j = 0; j < d; j++) {
        dot += z[i * d + j]! * e[c * d + j]!;
        ne += e[c * d + j]! ** 2;
        nz += z[i * d + j]! ** 2;
      }
      return dot / Math.sqrt(ne * nz);
    });
    assert.equal(idx[i], cos.indexOf(Math.max(...cos)), `row ${i}`);
    const qrow = Array.from((out.quantized as Float32Array).subarray(i * d, (i + 1) * d));
    assert.ok(Math.abs(Math.hypot(...qrow) - 1) < 1e-5);
  }

  const low = createQuantizer('vq', { codebookSize: k, dim: 8, codebookDim: 2, cosine: true });
  const lowStore = new VariableStore(5);
  const z8 = randomNormal(m * 8, rng);
  const res = await runOnce(lowStore, (ctx) => {
    const r = low.quantize(ctx.scope('quantizer'), ctx.input('z', [m, 8]));
    return { quantized: r.quantized, back: low.lookup(ctx.scope('quantizer'), r.indices) };
  }, { z: z8 });
  assert.deepEqual(lowStore.require('quantizer.codebook').shape, [k, 2]);
  (res.back as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - (res.quantized as Float32Array)[i]!) < 1e-5, `value ${i}`));
});

test('orthogonal regularization equals ‖ÊÊᵀ − I‖²/K² on a hand-made codebook and enters the loss with its weight', async () => {
  const e = Float32Array.of(1, 0, 0, 1, 1, 1);
  const out = await runOnce(new VariableStore(0), (ctx) => ({ l: orthogonalLoss(ctx.input('e', [3, 2])) }), { e });
  // Off-diagonal cosines: 0, 1/√2, 1/√2 (twice each): Σ = 2, / K² = 9.
  assert.ok(Math.abs(Number(out.l) - 2 / 9) < 1e-6, `${Number(out.l)}`);
  const q = createQuantizer('simvq', { codebookSize: 5, dim: 2, orthogonalWeight: 3 });
  const z = randomNormal(10 * 2, new Rng(6));
  const r = await runOnce(new VariableStore(6), (ctx) => {
    const res = q.quantize(ctx.scope('quantizer'), ctx.input('z', [10, 2]));
    return { loss: res.loss, cb: res.terms.codebook!, com: res.terms.commitment!, orth: res.terms.orthogonal! };
  }, { z });
  assert.ok(Number(r.orth) > 0);
  assert.ok(Math.abs(Number(r.loss) - (Number(r.cb) + 0.25 * Number(r.com) + 3 * Number(r.orth))) < 1e-5);
});

test('a resolved QuantizerConfig holds every option; the saved config keeps the keys checkpoints have always had', () => {
  const vq = resolveQuantizerConfig('vq', { codebookSize: 16, dim: 4 });
  assert.deepEqual(vq, { kind: 'vq', codebookSize: 16, dim: 4, beta: 0.25, weight: 1, init: 'uniform', initScale: 1 / 16, codebookDim: 4, cosine: false, rotationTrick: false, orthogonalWeight: 0, kmeansIters: 0, kmeansSamples: 0, deadCodeThreshold: 0, deadCodeShare: 0, usageDecay: 0.99 });
  assert.deepEqual(savedQuantizerConfig(vq), { kind: 'vq', codebookSize: 16, dim: 4, beta: 0.25, weight: 1, init: 'uniform' });
  assert.deepEqual(buildQuantizer(vq).config, savedQuantizerConfig(vq));
  const dead = createQuantizer('vq', { codebookSize: 16, dim: 4, deadCodeShare: 0.5, codebookDim: 2, search: { chunkK: 8 } }).config;
  assert.deepEqual(Object.keys(dead), ['kind', 'codebookSize', 'dim', 'beta', 'weight', 'init', 'codebookDim', 'deadCodeShare', 'usageDecay', 'search']);
  assert.deepEqual(Object.keys(createQuantizer('simvq', { codebookSize: 16, dim: 4 }).config), ['kind', 'codebookSize', 'dim', 'beta', 'weight', 'optimize', 'bias', 'initScale']);
  assert.deepEqual(Object.keys(createQuantizer('ema', { codebookSize: 16, dim: 4 }).config), ['kind', 'codebookSize', 'dim', 'beta', 'weight', 'decay', 'epsilon', 'init', 'initialCount']);
  const rvq = resolveQuantizerConfig('residual', { base: 'simvq', depth: 2, codebookSize: 16, dim: 4 });
  assert.deepEqual(savedQuantizerConfig(rvq), buildQuantizer(rvq).config);
  assert.deepEqual(Object.keys(savedQuantizerConfig(rvq)), ['kind', 'base', 'depth', 'quantizeDropout', 'codebookSize', 'dim', 'beta', 'weight', 'optimize', 'bias', 'initScale']);
  // Resolving a saved config gives the same QuantizerConfig back.
  const { kind, ...saved } = savedQuantizerConfig(vq);
  assert.deepEqual(resolveQuantizerConfig(kind, saved), vq);
});

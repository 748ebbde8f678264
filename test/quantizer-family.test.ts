import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIndicesFile } from '../src/cli/indices-file.js';
import { grad } from '../src/graph/autodiff.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { Adam } from '../src/optim/adam.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { quantizerOptionsFor } from '../src/models/quantizer-settings.js';
import { ResidualQuantizer, createQuantizer, resolveQuantizerConfig, parseQuantizerOptions, parseQuantizerSpec } from '../src/quantizers/index.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { randomNormal, runOnce, toNumbers } from './helpers/quantizer-fixtures.js';

test('FSQ: K = Π levels, and index → grid point → index round-trips for every one of the K codes', async () => {
  assert.equal(createQuantizer('fsq', { dim: 4 }).codebookSize, 1000);
  assert.equal(createQuantizer('fsq', { dim: 4, levels: [8, 8, 8, 6, 5] }).codebookSize, 15360);
  const levels = [3, 4, 2, 5];
  const q = createQuantizer('fsq', { dim: levels.length, levels });
  const k = q.codebookSize;
  assert.equal(k, 120);
  const grid = q.implicitCodebook();
  // Every grid point is distinct: exactly Π levels codes.
  assert.equal(new Set(Array.from({ length: k }, (_, i) => Array.from(grid.subarray(i * 4, i * 4 + 4)).join(','))).size, k);
  // Inputs that the bound maps exactly onto each grid point: h = atanh((q + o)/a) − s.
  const h = new Float32Array(k * 4);
  for (let i = 0; i < k; i++) {
    levels.forEach((l, j) => {
      const half = Math.floor(l / 2);
      const a = ((l - 1) * 1.001) / 2;
      const o = l % 2 === 0 ? 0.5 : 0;
      h[i * 4 + j] = Math.atanh((grid[i * 4 + j]! * half + o) / a) - Math.atanh(o / a);
    });
  }
  const out = await runOnce(new VariableStore(1), (ctx) => {
    const res = q.quantize(ctx.scope('q'), ctx.input('h', [k, 4]));
    return { indices: res.indices, quantized: res.quantized, counts: res.counts, back: q.lookup(ctx.scope('q'), res.indices) };
  }, { h });
  assert.deepEqual(toNumbers(out.indices!), Array.from({ length: k }, (_, i) => i));
  assert.deepEqual(Array.from(out.counts as Float32Array), new Array(k).fill(1));
  for (let i = 0; i < k * 4; i++) assert.ok(Math.abs((out.quantized as Float32Array)[i]! - grid[i]!) < 1e-6, `value ${i}`);
  assert.deepEqual(Array.from(out.back as Float32Array), Array.from(grid));
});

test('FSQ with projections: random inputs give valid indices, decode matches, no loss, straight-through gradient to the projection', async () => {
  const q = createQuantizer('fsq', { dim: 6, levels: [8, 5, 5, 5] });
  const rng = new Rng(2);
  const m = 500;
  const z = randomNormal(m * 6, rng, 3);
  const out = await runOnce(new VariableStore(2), (ctx) => {
    const zi = ctx.input('z', [m, 6]);
    const res = q.quantize(ctx.scope('q'), zi);
    const [gz] = grad(op.reduceSum(res.quantized), [zi]);
    return { indices: res.indices, quantized: res.quantized, back: q.lookup(ctx.scope('q'), res.indices), loss: res.loss, gz: gz! };
  }, { z }, 'train');
  const idx = toNumbers(out.indices!);
  assert.ok(idx.every((i) => Number.isInteger(i) && i >= 0 && i < 1000));
  assert.ok(new Set(idx).size > 100, `only ${new Set(idx).size} codes used`);
  assert.equal((out.loss as Float32Array)[0], 0);
  (out.back as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - (out.quantized as Float32Array)[i]!) < 1e-5));
  assert.ok((out.gz as Float32Array).some((v) => v !== 0), 'no gradient reached z through the rounding');
});

test('LFQ: indices are the sign bits and the entropy terms match a hand computation', async () => {
  // b = 2 bits, K = 4, τ = 1, no projection; codes (MSB first): 0 [−1,−1], 1 [−1,1], 2 [1,−1], 3 [1,1].
  const q = createQuantizer('lfq', { codebookSize: 4, dim: 2, temperature: 1, entropyWeight: 0.5, diversityGamma: 0.8, beta: 0.3 });
  assert.deepEqual(Array.from(q.implicitCodebook()), [-1, -1, -1, 1, 1, -1, 1, 1]);
  const h = [[0.5, -1], [2, 0.25], [-0.3, -0.2]];
  const out = await runOnce(new VariableStore(3), (ctx) => {
    const res = q.quantize(ctx.scope('q'), ctx.input('h', [3, 2]));
    return { indices: res.indices, loss: res.loss, sample: res.terms.sampleEntropy!, batch: res.terms.batchEntropy!, commitment: res.terms.commitment! };
  }, { h: Float32Array.from(h.flat()) });
  assert.deepEqual(toNumbers(out.indices!), [2, 3, 0]);
  const codes = [[-1, -1], [-1, 1], [1, -1], [1, 1]];
  const probs = h.map((v) => {
    const logits = codes.map((c) => 2 * (v[0]! * c[0]! + v[1]! * c[1]!));
    const mx = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - mx));
    const s = e.reduce((a, b) => a + b);
    return e.map((x) => x / s);
  });
  const entropy = (p: number[]): number => -p.reduce((t, x) => t + (x > 0 ? x * Math.log(x) : 0), 0);
  const sample = probs.reduce((t, p) => t + entropy(p), 0) / 3;
  const mean = [0, 1, 2, 3].map((k) => probs.reduce((t, p) => t + p[k]!, 0) / 3);
  const batch = entropy(mean);
  const commitment = h.flat().reduce((t, v) => t + (v - (v > 0 ? 1 : -1)) ** 2, 0) / 6;
  const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
  close(Number(out.sample), sample, 'per-sample entropy');
  close(Number(out.batch), batch, 'batch entropy');
  close(Number(out.commitment), commitment, 'commitment');
  close(Number(out.loss), 0.5 * (sample - 0.8 * batch) + 0.3 * commitment, 'loss');
  assert.throws(() => createQuantizer('lfq', { codebookSize: 12, dim: 2 }), /codebookSize must be a power of two/);
});

test('LFQ bit groups: per-sample entropy is exact, batch entropy is the sum of the groups\' marginal entropies', async () => {
  assert.deepEqual(createQuantizer('lfq', { codebookSize: 2 ** 16, dim: 16 }).entropyGroups(), [8, 8]);
  assert.deepEqual(createQuantizer('lfq', { codebookSize: 2 ** 13, dim: 13 }).entropyGroups(), [7, 6]);
  assert.deepEqual(createQuantizer('lfq', { codebookSize: 2 ** 12, dim: 12 }).entropyGroups(), [12]);
  assert.deepEqual(createQuantizer('lfq', { codebookSize: 32, dim: 5, entropyGroupBits: 2 }).entropyGroups(), [2, 2, 1]);
  assert.throws(() => createQuantizer('lfq', { codebookSize: 16, dim: 4, entropyGroupBits: 0 }), /entropyGroupBits/);
  // b = 4, τ = 2: one dense group against two groups of 2 bits on the same inputs.
  const m = 5;
  const h = randomNormal(m * 4, new Rng(9), 1.5);
  const terms = async (groupBits: number): Promise<{ sample: number; batch: number }> => {
    const q = createQuantizer('lfq', { codebookSize: 16, dim: 4, temperature: 2, entropyGroupBits: groupBits });
    const out = await runOnce(new VariableStore(9), (ctx) => {
      const res = q.quantize(ctx.scope('q'), ctx.input('h', [m, 4]));
      return { sample: res.terms.sampleEntropy!, batch: res.terms.batchEntropy! };
    }, { h });
    return { sample: Number(out.sample), batch: Number(out.batch) };
  };
  const dense = await terms(4);
  const grouped = await terms(2);
  // Hand computation: each group's distribution is softmax over its 4 corners of 2⟨h_G, c⟩/τ.
  const entropy = (p: number[]): number => -p.reduce((t, x) => t + (x > 0 ? x * Math.log(x) : 0), 0);
  const corners = [[-1, -1], [-1, 1], [1, -1], [1, 1]];
  let batch = 0;
  let sample = 0;
  for (const start of [0, 2]) {
    const probs = Array.from({ length: m }, (_, i) => {
      const e = corners.map((c) => Math.exp((2 / 2) * (h[i * 4 + start]! * c[0]! + h[i * 4 + start + 1]! * c[1]!)));
      const s = e.reduce((a, b) => a + b);
      return e.map((x) => x / s);
    });
    sample += probs.reduce((t, p) => t + entropy(p), 0) / m;
    batch += entropy([0, 1, 2, 3].map((k) => probs.reduce((t, p) => t + p[k]!, 0) / m));
  }
  const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);
  close(grouped.sample, sample, 'grouped per-sample entropy');
  close(dense.sample, sample, 'dense per-sample entropy (the factorization is exact)');
  close(grouped.batch, batch, 'grouped batch entropy');
  assert.ok(grouped.batch >= dense.batch - 1e-5, `subadditivity: ${grouped.batch} < ${dense.batch}`);
  assert.ok(grouped.batch > dense.batch + 1e-3, 'these inputs have dependent groups, so the bound is strict');
});

test('residual VQ: after training, the reconstruction error falls with every stage; indices carry a depth axis', async () => {
  const depth = 3, k = 8, d = 2, m = 256;
  const q = createQuantizer('residual', { base: 'vq', depth, codebookSize: k, dim: d, init: 'normal' }) as ResidualQuantizer;
  const z = randomNormal(m * d, new Rng(4), 2);
  const store = new VariableStore(4);
  const program = await TrainingProgram.create({ store, optimizer: new Adam(), threads: 1, build: (ctx) => ({ loss: q.quantize(ctx.scope('quantizer'), ctx.input('z', [m, d])).loss }) });
  try {
    for (let i = 0; i < 150; i++) await program.step({ z }, 0.05);
  } finally {
    await program.release();
  }
  const out = await runOnce(store, (ctx) => {
    const res = q.quantize(ctx.scope('quantizer'), ctx.input('z', [m, d]));
    return { indices: res.indices, quantized: res.quantized, back: q.lookup(ctx.scope('quantizer'), res.indices) };
  }, { z });
  const idx = toNumbers(out.indices!);
  assert.equal(idx.length, m * depth);
  (out.back as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - (out.quantized as Float32Array)[i]!) < 1e-5, 'lookup of the [M, D] indices reproduces the output'));
  const errors: number[] = [];
  const approx = new Float64Array(m * d);
  for (let s = 0; s < depth; s++) {
    const e = store.require(`quantizer.stage${s}.codebook`).value;
    let err = 0;
    for (let i = 0; i < m; i++) {
      const code = idx[i * depth + s]!;
      for (let j = 0; j < d; j++) {
        approx[i * d + j]! += e[code * d + j]!;
        err += (z[i * d + j]! - approx[i * d + j]!) ** 2;
      }
    }
    errors.push(err / (m * d));
  }
  assert.ok(errors[0]! < 0.5 * 4, `stage 1 error ${errors[0]}`);
  for (let s = 1; s < depth; s++) assert.ok(errors[s]! < 0.7 * errors[s - 1]!, `error did not fall at stage ${s + 1}: ${errors.join(', ')}`);
});

test('residual quantize dropout: training steps use 1..D stages, each count equally often; evaluation uses all', async () => {
  const depth = 4, k = 4, m = 8;
  const q = createQuantizer('residual', { base: 'simvq', depth, codebookSize: k, dim: 2, quantizeDropout: true }) as ResidualQuantizer;
  const store = new VariableStore(5);
  const program = await TrainingProgram.create({ store, optimizer: new Adam(), threads: 1, build: (ctx) => {
    const res = q.quantize(ctx.scope('quantizer'), ctx.input('z', [m, 2]));
    return { loss: res.loss, metrics: { counts: res.counts } };
  } });
  const z = randomNormal(m * 2, new Rng(5));
  const used: number[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const r = await program.step({ z }, 1e-3);
      const counts = r.metrics.counts as Float32Array;
      let stages = 0;
      for (let s = 0; s < depth; s++) if (counts.subarray(s * k, (s + 1) * k).reduce((a, b) => a + b) === m) stages = s + 1;
      used.push(stages);
    }
  } finally {
    await program.release();
  }
  for (let n = 1; n <= depth; n++) {
    const times = used.filter((u) => u === n).length;
    assert.ok(times >= 7 && times <= 13, `${n} stages used ${times} of 40 steps: ${used.join(',')}`);
  }
  const evaluated = await runOnce(store, (ctx) => ({ counts: q.quantize(ctx.scope('quantizer'), ctx.input('z', [m, 2])).counts }), { z }, 'eval');
  assert.equal(Array.from(evaluated.counts as Float32Array).reduce((a, b) => a + b), m * depth);
});

test('command-line options reach the model config: EMA decay and initial count, FSQ levels, residual stages', () => {
  assert.deepEqual(parseQuantizerOptions('ema', ['decay=0.95', 'initialCount=2']), { decay: 0.95, initialCount: 2 });
  assert.deepEqual(parseQuantizerSpec('fsq:levels=8x5x5x5'), { name: 'fsq', options: { levels: [8, 5, 5, 5] } });
  assert.deepEqual(parseQuantizerOptions('fsq', ['levels=8,8,8,6,5']), { levels: [8, 8, 8, 6, 5] });
  assert.throws(() => parseQuantizerOptions('fsq', ['levels=8,1']), /fsq: levels must be a non-empty list of integers >= 2, got \[8,1\]/);
  assert.throws(() => parseQuantizerOptions('vq', ['cosine=yes']), /vq: cosine must be true or false, got 'yes'/);
  assert.throws(() => parseQuantizerOptions('vq', ['cosine']), /must be written key=value/);
  // A residual quantizer takes its base's options too, and refuses them for another base.
  assert.deepEqual(parseQuantizerOptions('residual', ['base=ema', 'decay=0.9']), { base: 'ema', decay: 0.9 });
  assert.throws(() => parseQuantizerOptions('residual', ['decay=0.9']), /residual: unknown option 'decay'; valid options: base, depth, quantizeDropout, codebookSize/);
  assert.throws(() => createQuantizer('residual', { codebookSize: 4, dim: 2, rotationTrick: true }), /rotationTrick does not apply to residual stages/);
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('ema', { codebookSize: 32, dim: 8, beta: 0.5, decay: 0.95, initialCount: 2 }) });
  assert.deepEqual(config.quantizer, { kind: 'ema', codebookSize: 32, dim: 8, beta: 0.5, weight: 1, decay: 0.95, epsilon: 1e-5, init: 'normal', initialCount: 2 });
  const ema = buildModel(config).quantizer as unknown as { decay: number; initialCount: number };
  assert.equal(ema.decay, 0.95);
  assert.equal(ema.initialCount, 2);
  // FSQ takes no K: the model-level default codebook size is not applied to it.
  const fsq = resolveQuantizerConfig('fsq', quantizerOptionsFor('fsq', { codebookSize: 1024, dim: 8 }));
  assert.deepEqual(makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: fsq }).quantizer, { kind: 'fsq', dim: 8, levels: [8, 5, 5, 5] });
});

test('indices files carry one index per stage for residual quantizers, and a wrong depth is refused', () => {
  const grid = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]];
  assert.deepEqual(Array.from(parseIndicesFile({ images: [{ indices: grid }] }, 'x.json', { height: 2, width: 2, depth: 2, codebookSize: 16 }).indices), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => parseIndicesFile([[1, 2], [3, 4]], 'x.json', { height: 2, width: 2, depth: 2, codebookSize: 16 }), /x.json: grid 0 has 1 index at row 0, column 0 but the model's quantizer has 2 stages \(write each cell as an array of one index per stage\)/);
  assert.throws(() => parseIndicesFile({ images: [{ indices: grid }] }, 'x.json', { height: 2, width: 2, depth: 1, codebookSize: 16 }), /has 2 indices at row 0, column 0 but the model's quantizer has 1 stage/);
});

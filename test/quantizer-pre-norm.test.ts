/**
 * `preNorm` of LFQ, FSQ and SimVQ (quantizers/pre-norm.ts): the standardizations' equations, the running
 * statistics of 'batch' and their use at inference, the gradients against central finite
 * differences (alone and inside LFQ's loss), FSQ's forward pass and gradient with it in the graph,
 * and what it changes: LFQ on latents with a shared offset uses its codes only with 'batch'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import { Graph } from '../src/graph/graph.js';
import type { Tensor } from '../src/graph/tensor.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { createQuantizer, resolveQuantizerConfig, savedQuantizerConfig } from '../src/quantizers/index.js';
import { preNormalize } from '../src/quantizers/pre-norm.js';
import { BuildContext } from '../src/runtime/build-context.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { VariableStore } from '../src/runtime/variables.js';
import { gradCheck } from './helpers/gradcheck.js';
import { Adam } from '../src/optim/adam.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { randomNormal, runOnce } from './helpers/quantizer-fixtures.js';

/** Rows with a large offset shared by every latent, as a ReLU → 1×1 conv encoder gives them. */
function offsetRows(m: number, d: number, rng: Rng): Float32Array {
  const offset = Float32Array.from({ length: d }, (_, j) => 3 + j);
  return Float32Array.from({ length: m * d }, (_, i) => offset[i % d]! + rng.normal());
}

async function evaluate(g: Graph, outputs: Record<string, Tensor>, feeds: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const compiled = await CompiledGraph.create(g, outputs, { threads: 1 });
  try {
    const out = await compiled.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v as Float32Array]));
  } finally {
    await compiled.release();
  }
}

/** Host reference: z [m, d] standardized over rows (axis 1) or columns (axis 0), ε = 1e-5. */
function standardized(z: Float32Array, m: number, d: number, axis: 0 | 1): Float32Array {
  const out = new Float32Array(m * d);
  const groups = axis === 1 ? m : d, size = axis === 1 ? d : m;
  const at = (g: number, k: number): number => (axis === 1 ? g * d + k : k * d + g);
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    for (let k = 0; k < size; k++) mean += z[at(g, k)]! / size;
    let variance = 0;
    for (let k = 0; k < size; k++) variance += (z[at(g, k)]! - mean) ** 2 / size;
    for (let k = 0; k < size; k++) out[at(g, k)] = (z[at(g, k)]! - mean) / Math.sqrt(variance + 1e-5);
  }
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, label: string): void {
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `${label} [${i}]: ${v} vs ${expected[i]}`));
}

test("preNorm 'latent' standardizes each latent over its channels, 'batch' each channel over the batch, 'none' passes z through", async () => {
  const m = 6, d = 5;
  const z = offsetRows(m, d, new Rng(1));
  const g = new Graph();
  const x = g.input('z', [m, d]);
  const ctx = BuildContext.create(g, new VariableStore(0), 'train');
  const out = await evaluate(g, { latent: preNormalize(ctx, x, 'latent'), batch: preNormalize(ctx, x, 'batch'), none: op.add(preNormalize(ctx, x, 'none'), 0) }, { z });
  assertClose(out.latent!, standardized(z, m, d, 1), 1e-5, 'latent');
  assertClose(out.batch!, standardized(z, m, d, 0), 1e-5, 'batch');
  assert.deepEqual(out.none, z);
});

test("preNorm 'batch' keeps running statistics while training and standardizes by them at inference", async () => {
  const m = 64, d = 8;
  const lfq = createQuantizer('lfq', { codebookSize: 16, dim: d, preNorm: 'batch' });
  const store = new VariableStore(1);
  const program = await TrainingProgram.create({ store, optimizer: new Adam(), threads: 1, build: (ctx) => {
    const shift = ctx.param('shift', [d], { kind: 'constant', value: 0 }); // a stand-in encoder
    return { loss: lfq.quantize(ctx.scope('quantizer'), op.add(ctx.input('z', [m, d]), shift)).loss, metrics: {} };
  } });
  const z = offsetRows(m, d, new Rng(2));
  try {
    await program.step({ z }, 1e-3);
  } finally {
    await program.release();
  }
  const runningMean = store.get('quantizer.pre_norm.mean')!.value;
  const runningVar = store.get('quantizer.pre_norm.var')!.value;
  for (let j = 0; j < d; j++) {
    const column = Array.from({ length: m }, (_, i) => z[i * d + j]!);
    const mean = column.reduce((a, b) => a + b, 0) / m;
    const unbiased = column.reduce((a, b) => a + (b - mean) ** 2, 0) / (m - 1);
    assert.ok(Math.abs(runningMean[j]! - 0.1 * mean) < 1e-5, `mean ${j}: ${runningMean[j]} vs ${0.1 * mean}`);
    assert.ok(Math.abs(runningVar[j]! - (0.9 + 0.1 * unbiased)) < 1e-4, `var ${j}: ${runningVar[j]} vs ${0.9 + 0.1 * unbiased}`);
  }
  // An inference graph reads them and changes nothing: one latent alone gets the same value.
  const one = z.subarray(0, d);
  const out = (await runOnce(store, (ctx, g) => ({ y: preNormalize(ctx.scope('quantizer'), g.input('x', [1, d]), 'batch') }), { x: one })).y as Float32Array;
  assertClose(out, Float32Array.from(one, (v, j) => (v - runningMean[j]!) / Math.sqrt(runningVar[j]! + 1e-5)), 1e-5, 'inference');
});

test('the standardizations and LFQ\'s loss through them match central finite differences', async () => {
  for (const preNorm of ['latent', 'batch'] as const) {
    await gradCheck(`preNormalize ${preNorm}`, [{ shape: [5, 6], name: 'z' }], ([z], g) => preNormalize(BuildContext.create(g, new VariableStore(0), 'train'), z!, preNorm));
    // d = b = 4: no projection, so z is the only input. τ = 1 keeps the entropy terms smooth at the
    // finite-difference step; the seed keeps every standardized value clear of the sign's 0.
    const lfq = createQuantizer('lfq', { codebookSize: 16, dim: 4, temperature: 1, preNorm });
    const report = await gradCheck(`LFQ loss with preNorm ${preNorm}`, [{ shape: [6, 4], name: 'z' }], ([z], g) => lfq.quantize(BuildContext.create(g, new VariableStore(0), 'train'), z!).loss, { seed: 5 });
    assert.ok(report.analytic[0]!.some((v) => Math.abs(v) > 1e-3), `${preNorm}: the loss reaches z through the standardization`);
  }
});

test('FSQ with preNorm quantizes the standardized latents, and its gradient reaches z through the standardization', async () => {
  const m = 8, d = 4;
  const z = offsetRows(m, d, new Rng(2));
  const plain = createQuantizer('fsq', { dim: d, levels: [5, 5, 5, 5] });
  const normed = createQuantizer('fsq', { dim: d, levels: [5, 5, 5, 5], preNorm: 'batch' });
  const g = new Graph();
  const x = g.input('z', [m, d], 'float32', 'param');
  const ctx = BuildContext.create(g, new VariableStore(0), 'train');
  const withNorm = normed.quantize(ctx, x);
  const r = g.input('r', [m, d]);
  const [dz] = grad(op.reduceSum(op.mul(withNorm.quantized, r)), [x]);
  const s = standardized(z, m, d, 0);
  const out = await evaluate(g, { a: op.cast(withNorm.indices, 'float32'), b: op.cast(plain.quantize(ctx, g.input('s', [m, d])).indices, 'float32'), dz: dz! }, { z, s, r: randomNormal(m * d, new Rng(3)) });
  assert.deepEqual(out.a, out.b);
  // The standardization does not change under z_·j → a·z_·j + c, so neither may the loss: the
  // gradient of every channel sums to 0 over the batch and is orthogonal to the centred channel.
  for (let j = 0; j < d; j++) {
    const gj = Array.from({ length: m }, (_, i) => out.dz![i * d + j]!);
    const norm = Math.hypot(...gj);
    assert.ok(norm > 1e-3, `channel ${j}: no gradient reached z`);
    const sum = gj.reduce((a, b) => a + b, 0);
    const along = gj.reduce((a, v, i) => a + v * s[i * d + j]!, 0) / Math.sqrt(m);
    assert.ok(Math.abs(sum) < 1e-4 * Math.max(1, norm) && Math.abs(along) < 1e-3 * Math.max(1, norm), `channel ${j}: sum ${sum}, along z ${along}`);
  }
});

test("on latents with an offset shared by all, LFQ uses 2 of 16 codes without preNorm, more with 'latent', and all with 'batch'", async () => {
  const m = 512, d = 8;
  const z = offsetRows(m, d, new Rng(4));
  const used: Record<string, number> = {};
  for (const preNorm of ['none', 'latent', 'batch'] as const) {
    const lfq = createQuantizer('lfq', { codebookSize: 16, dim: d, preNorm });
    const out = await runOnce(new VariableStore(5), (ctx, g) => ({ i: op.cast(lfq.quantize(ctx, g.input('z', [m, d])).indices, 'float32') }), { z }, 'train');
    used[preNorm] = new Set(out.i as Float32Array).size;
  }
  assert.ok(used.none! <= 2 && used.latent! < 16 && used.batch === 16, JSON.stringify(used));
});

test('SimVQ with preNorm searches the standardized latents, and its loss reaches z through the standardization', async () => {
  const m = 64, d = 8, k = 256;
  const z = offsetRows(m, d, new Rng(6));
  const s = standardized(z, m, d, 0);
  const plain = createQuantizer('simvq', { codebookSize: k, dim: d });
  const normed = createQuantizer('simvq', { codebookSize: k, dim: d, preNorm: 'batch' });
  // One store: both see the same C, W and b.
  const out = await runOnce(new VariableStore(7), (ctx, g) => ({
    normed: op.cast(normed.quantize(ctx.scope('q'), g.input('z', [m, d])).indices, 'float32'),
    plain: op.cast(plain.quantize(ctx.scope('q'), g.input('s', [m, d])).indices, 'float32'),
    offset: op.cast(plain.quantize(ctx.scope('q'), g.input('z2', [m, d])).indices, 'float32'),
  }), { z, s, z2: z }, 'train');
  assert.deepEqual(out.normed, out.plain);
  // The offset sends the latents to a few codes (7 of 256 here); standardized, they spread over
  // many (45 for 64 latents).
  const used = { none: new Set(out.offset as Float32Array).size, batch: new Set(out.normed as Float32Array).size };
  assert.ok(used.none <= 8 && used.batch >= 40, JSON.stringify(used));
  // The loss and the straight-through output reach z through the standardization (whose own
  // gradient is checked by finite differences above), so the gradient of each channel sums to 0
  // over the batch: a shift shared by all latents changes nothing.
  const r = randomNormal(m * d, new Rng(8));
  const grads = await runOnce(new VariableStore(7), (ctx, g) => {
    const x = g.input('zp', [m, d], 'float32', 'param');
    const q = normed.quantize(ctx.scope('q'), x);
    const [dz] = grad(op.add(q.loss, op.reduceSum(op.mul(q.quantized, g.input('r', [m, d])))), [x]);
    return { dz: dz! };
  }, { zp: z, r }, 'train');
  for (let j = 0; j < d; j++) {
    const gj = Array.from({ length: m }, (_, i) => (grads.dz as Float32Array)[i * d + j]!);
    const norm = Math.hypot(...gj);
    assert.ok(norm > 1e-3, `channel ${j}: no gradient reached z`);
    assert.ok(Math.abs(gj.reduce((a, b) => a + b, 0)) < 1e-4 * Math.max(1, norm), `channel ${j}: the gradient does not sum to 0 over the batch`);
  }
});

test('preNorm is saved only when on, and refused where it cannot standardize', () => {
  assert.equal('preNorm' in savedQuantizerConfig(resolveQuantizerConfig('lfq', { codebookSize: 16, dim: 8 })), false);
  assert.equal(savedQuantizerConfig(resolveQuantizerConfig('fsq', { dim: 8, preNorm: 'batch' })).preNorm, 'batch');
  assert.throws(() => resolveQuantizerConfig('lfq', { codebookSize: 2, dim: 1, preNorm: 'latent' }), /LFQ: preNorm 'latent' of d = 1 channel maps every latent to 0; use d >= 2 or another preNorm/);
  assert.throws(() => resolveQuantizerConfig('fsq', { dim: 8, preNorm: 'group' }), /preNorm must be one of 'none', 'latent', 'batch', got 'group'/);
});

/**
 * `preNorm` of LFQ and FSQ (quantizers/pre-norm.ts): the standardization's equation, its gradients
 * against central finite differences — alone and inside LFQ's loss — and FSQ's forward pass and
 * gradient with it in the graph.
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
import { randomNormal } from './helpers/quantizer-fixtures.js';

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

test("preNorm 'standardize' gives each latent mean 0 and variance 1 over its channels; 'none' passes z through", async () => {
  const m = 6, d = 5;
  const z = offsetRows(m, d, new Rng(1));
  const g = new Graph();
  const x = g.input('z', [m, d]);
  const out = await evaluate(g, { y: preNormalize(x, 'standardize'), same: op.add(preNormalize(x, 'none'), 0) }, { z });
  for (let i = 0; i < m; i++) {
    const row = Array.from(out.y!.subarray(i * d, (i + 1) * d));
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    assert.ok(Math.abs(mean) < 1e-5, `row ${i}: mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 1e-3, `row ${i}: variance ${variance}`);
  }
  assert.deepEqual(out.same, z);
});

test('the standardization and LFQ\'s loss through it match central finite differences', async () => {
  await gradCheck('preNormalize standardize', [{ shape: [5, 6], name: 'z' }], ([z]) => preNormalize(z!, 'standardize'));
  // d = b = 4: no projection, so z is the only input. τ = 1 keeps the entropy terms smooth at the
  // finite-difference step; the seed keeps every standardized value clear of the sign's 0.
  const lfq = createQuantizer('lfq', { codebookSize: 16, dim: 4, temperature: 1, preNorm: 'standardize' });
  const report = await gradCheck('LFQ loss with preNorm', [{ shape: [6, 4], name: 'z' }], ([z], g) => lfq.quantize(BuildContext.create(g, new VariableStore(0), 'train'), z!).loss, { seed: 5 });
  assert.ok(report.analytic[0]!.some((v) => Math.abs(v) > 1e-3), 'the loss reaches z through the standardization');
});

test('FSQ with preNorm quantizes the standardized latents, and its gradient reaches z through the standardization', async () => {
  const m = 8, d = 4;
  const z = offsetRows(m, d, new Rng(2));
  const plain = createQuantizer('fsq', { dim: d, levels: [5, 5, 5, 5] });
  const normed = createQuantizer('fsq', { dim: d, levels: [5, 5, 5, 5], preNorm: 'standardize' });
  const g = new Graph();
  const x = g.input('z', [m, d], 'float32', 'param');
  const ctx = BuildContext.create(g, new VariableStore(0), 'train');
  const withNorm = normed.quantize(ctx, x);
  const standardized = g.input('s', [m, d]);
  const r = g.input('r', [m, d]);
  const [dz] = grad(op.reduceSum(op.mul(withNorm.quantized, r)), [x]);
  // The standardization computed on the host, then FSQ without it.
  const s = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const row = z.subarray(i * d, (i + 1) * d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    row.forEach((v, j) => (s[i * d + j] = (v - mean) / Math.sqrt(variance + 1e-5)));
  }
  const out = await evaluate(g, { a: op.cast(withNorm.indices, 'float32'), b: op.cast(plain.quantize(ctx, standardized).indices, 'float32'), dz: dz! }, { z, s, r: randomNormal(m * d, new Rng(3)) });
  assert.deepEqual(out.a, out.b);
  // The standardization does not change under z_i → a·z_i + c·1, so neither may the loss: the
  // gradient of every latent sums to 0 and is orthogonal to the latent itself (up to ε's share).
  for (let i = 0; i < m; i++) {
    const gi = Array.from(out.dz!.subarray(i * d, (i + 1) * d));
    const norm = Math.hypot(...gi);
    assert.ok(norm > 1e-3, `row ${i}: no gradient reached z`);
    const sum = gi.reduce((a, b) => a + b, 0);
    const along = gi.reduce((a, v, j) => a + v * z[i * d + j]!, 0) / Math.hypot(...z.subarray(i * d, (i + 1) * d));
    assert.ok(Math.abs(sum) < 1e-4 * Math.max(1, norm) && Math.abs(along) < 1e-3 * Math.max(1, norm), `row ${i}: sum ${sum}, along z ${along}`);
  }
});

test('preNorm is saved only when on, and refused for a single channel', () => {
  assert.equal('preNorm' in savedQuantizerConfig(resolveQuantizerConfig('lfq', { codebookSize: 16, dim: 8 })), false);
  assert.equal(savedQuantizerConfig(resolveQuantizerConfig('fsq', { dim: 8, preNorm: 'standardize' })).preNorm, 'standardize');
  assert.throws(() => resolveQuantizerConfig('lfq', { codebookSize: 2, dim: 1, preNorm: 'standardize' }), /LFQ: preNorm 'standardize' of d = 1 channel maps every latent to 0; use d >= 2 or preNorm 'none'/);
  assert.throws(() => resolveQuantizerConfig('fsq', { dim: 8, preNorm: 'batch' }), /preNorm must be one of 'none', 'standardize', got 'batch'/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as op from '../src/graph/ops.js';
import type { Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import { linearLayer } from '../src/layers/linear.js';
import { Adam } from '../src/optim/adam.js';
import type { BuildContext } from '../src/runtime/build-context.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { CodeUsage, createQuantizer, type Quantizer } from '../src/quantizers/index.js';

test('CodeUsage: utilization, perplexity, dead codes and histogram on a hand example', () => {
  const u = new CodeUsage(4);
  u.add(Float32Array.from([2, 0, 1, 1])).add([1, 0, 0, 0]);
  assert.deepEqual(Array.from(u.counts), [3, 0, 1, 1]);
  assert.equal(u.total, 5);
  assert.equal(u.usedCodes(), 3);
  assert.equal(u.utilization(), 0.75);
  assert.deepEqual(u.deadCodes(), [1]);
  assert.deepEqual(Array.from(u.histogram()), [3, 1, 1, 0]);
  // p = (0.6, 0, 0.2, 0.2): H = −0.6 ln 0.6 − 2·0.2 ln 0.2.
  const h = -(0.6 * Math.log(0.6) + 2 * 0.2 * Math.log(0.2));
  assert.ok(Math.abs(u.entropy() - h) < 1e-12);
  assert.ok(Math.abs(u.perplexity() - Math.exp(h)) < 1e-12);
  assert.ok(Math.abs(u.perplexity() - 2.586409) < 1e-6);

  // Uniform usage has perplexity K; a single code has perplexity 1.
  assert.ok(Math.abs(new CodeUsage(8).add(new Float32Array(8).fill(5)).perplexity() - 8) < 1e-12);
  assert.equal(new CodeUsage(3).addIndices(BigInt64Array.from([2n, 2n, 2n])).perplexity(), 1);

  const other = new CodeUsage(4).addIndices([1, 1]);
  u.merge(other);
  assert.deepEqual(Array.from(u.counts), [3, 2, 1, 1]);
  assert.equal(u.total, 7);
  assert.equal(u.utilization(), 1);
  assert.deepEqual(u.deadCodes(), []);
  assert.deepEqual(u.summary(), { codebookSize: 4, total: 7, usedCodes: 4, utilization: 1, perplexity: u.perplexity(), entropy: u.entropy() });

  u.reset();
  assert.equal(u.total, 0);
  assert.equal(u.perplexity(), 0);
  assert.equal(u.utilization(), 0);
  assert.deepEqual(u.deadCodes(), [0, 1, 2, 3]);

  assert.throws(() => u.add([1, 2, 3]), /counts have 3 entries but the codebook has 4 codes/);
  assert.throws(() => u.add([1, -1, 0, 0]), /count of code 1 is -1/);
  assert.throws(() => u.add([0.5, 0, 0, 0]), /non-negative integers/);
  assert.throws(() => u.addIndices([4]), /index 4 at position 0 is outside \[0, 4\)/);
  assert.throws(() => u.merge(new CodeUsage(5)), /cannot merge usage of 5 codes into usage of 4 codes/);
  assert.throws(() => new CodeUsage(0), /codebook size must be an integer >= 1/);
  assert.equal(u.total, 0, 'rejected batches leave the totals untouched');
  assert.equal(CodeUsage.for({ codebookSize: 9 }).codebookSize, 9);
});

test('CodeUsage: effective bits and the fewest codes covering a share of the latents', () => {
  // Counts 5, 3, 1, 1 (in scrambled order, with a dead code): the top code takes 50 %, the top
  // three 90 %, and 80 % needs two.
  const u = new CodeUsage(5).add([1, 0, 5, 1, 3]);
  assert.equal(u.codesCovering(50), 1);
  assert.equal(u.codesCovering(51), 2);
  assert.equal(u.codesCovering(80), 2);
  assert.equal(u.codesCovering(90), 3);
  assert.equal(u.codesCovering(91), 4);
  assert.equal(u.codesCovering(100), 4);
  assert.ok(Math.abs(u.effectiveBits() - Math.log2(u.perplexity())) < 1e-12);
  // Uniform over 8 codes: 3 bits, and q % of the latents need q % of the codes (rounded up).
  const uniform = new CodeUsage(8).add(new Float32Array(8).fill(7));
  assert.ok(Math.abs(uniform.effectiveBits() - 3) < 1e-12);
  assert.deepEqual([50, 90].map((q) => uniform.codesCovering(q)), [4, 8]);
  assert.equal(new CodeUsage(3).codesCovering(90), 0, 'nothing counted, no codes needed');
  assert.equal(new CodeUsage(3).effectiveBits(), 0);
  assert.throws(() => u.codesCovering(0), /percent must be an integer in \[1, 100\], got 0/);
  assert.throws(() => u.codesCovering(0.9), /got 0\.9/);
});

// ---------------------------------------------------------------- end to end

const N = 512, DIM = 8, K = 64;

function encoder(ctx: BuildContext, x: Tensor): Tensor {
  const h = op.relu(linearLayer(ctx.scope('enc1'), x, { outFeatures: 32 }));
  return linearLayer(ctx.scope('enc2'), h, { outFeatures: DIM });
}

function decoder(ctx: BuildContext, z: Tensor): Tensor {
  const h = op.relu(linearLayer(ctx.scope('dec1'), z, { outFeatures: 32 }));
  return linearLayer(ctx.scope('dec2'), h, { outFeatures: 2 });
}

/** Train a toy autoencoder x → E → quantizer → D on 2-D points; return its usage over the dataset. */
async function trainAndMeasure(q: Quantizer, data: Float32Array, steps: number): Promise<CodeUsage> {
  const store = new VariableStore(42);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [N, 2]);
      const res = q.quantize(ctx.scope('q'), encoder(ctx, x));
      const d = op.sub(decoder(ctx, res.quantized), x);
      return { loss: op.add(op.reduceMean(op.mul(d, d)), res.loss) };
    },
  });
  for (let i = 0; i < steps; i++) await program.step({ x: data }, 3e-3);
  const infer = await InferenceProgram.create({
    store,
    threads: 1,
    build: (ctx) => ({ counts: q.quantize(ctx.scope('q'), encoder(ctx, ctx.input('x', [N, 2]))).counts }),
  });
  const usage = CodeUsage.for(q).add((await infer.run({ x: data })).counts as Float32Array);
  await Promise.all([program.release(), infer.release()]);
  return usage;
}

test('end to end: on 2-D data, SimVQ uses more of a 64-code codebook than vanilla VQ', async (t) => {
  const rng = new Rng(7);
  const data = new Float32Array(N * 2);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform() * 2 - 1;
  const steps = 300;
  const vq = await trainAndMeasure(createQuantizer('vq', { codebookSize: K, dim: DIM }), data, steps);
  const simvq = await trainAndMeasure(createQuantizer('simvq', { codebookSize: K, dim: DIM }), data, steps);
  assert.equal(vq.total, N);
  assert.equal(simvq.total, N);
  assert.ok(
    simvq.utilization() > vq.utilization(),
    `SimVQ utilization ${simvq.utilization()} (perplexity ${simvq.perplexity().toFixed(1)}) should exceed VQ's ${vq.utilization()} (perplexity ${vq.perplexity().toFixed(1)})`,
  );
  assert.ok(simvq.perplexity() > vq.perplexity());
  t.diagnostic(`VQ: utilization ${vq.utilization().toFixed(3)}, perplexity ${vq.perplexity().toFixed(1)}; SimVQ: utilization ${simvq.utilization().toFixed(3)}, perplexity ${simvq.perplexity().toFixed(1)}`);
});

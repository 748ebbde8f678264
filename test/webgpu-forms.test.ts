/**
 * The WebGPU graph forms (src/onnx/webgpu-forms.ts: int32 indices, ArgMin/ArgMax in float32,
 * Sign by comparisons, OneHot by Equal) give the values of the standard lowering. Both run on the
 * CPU provider here, so this holds on every machine; test/webgpu.test.ts runs them on a GPU.
 * Equal forward and backward values on the same inputs carry the finite-difference checks of
 * test/gradients.test.ts (made on the standard lowering) over to these forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import type { Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { Adam } from '../src/optim/adam.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { nodeRuntime } from '../src/runtime/node-runtime.js';
import { useRuntime, type Runtime } from '../src/runtime/runtime.js';
import { CompiledGraph, type TypedData } from '../src/runtime/session.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { toModelProto } from '../src/onnx/lower.js';
import { CONCAT_MAX_INPUTS } from '../src/onnx/webgpu-forms.js';

const cpu = nodeRuntime();
/** The CPU provider running graphs in their WebGPU forms: a runtime that says 'webgpu' is lowered that way. */
const gpuFormsOnCpu: Runtime = { ...nodeRuntime(), device: 'webgpu' };

async function runBoth(g: Graph, outputs: Record<string, Tensor>, feeds: Record<string, TypedData>): Promise<[Record<string, TypedData>, Record<string, TypedData>]> {
  const results: Record<string, TypedData>[] = [];
  for (const runtime of [cpu, gpuFormsOnCpu]) {
    const compiled = await CompiledGraph.create(g, outputs, { threads: 1, runtime, standardOpsOnly: true });
    try {
      results.push(await compiled.run(feeds));
    } finally {
      await compiled.release();
    }
  }
  return [results[0]!, results[1]!];
}

test('ArgMin and ArgMax in float32 pick the first extreme, ties included, on every axis', async () => {
  const g = new Graph();
  const x = g.input('x', [3, 4, 5]);
  const outputs: Record<string, Tensor> = {};
  for (const axis of [0, 1, 2]) {
    for (const keep of [false, true]) {
      outputs[`min${axis}${keep}`] = op.argMin(x, axis, keep);
      outputs[`max${axis}${keep}`] = op.argMax(x, axis, keep);
    }
  }
  // Few distinct values, so most rows have ties.
  const rng = new Rng(5);
  const data = Float32Array.from({ length: 60 }, () => Math.floor(rng.uniform() * 3) - 1);
  const [standard, forms] = await runBoth(g, outputs, { x: data });
  for (const name of Object.keys(outputs)) {
    assert.ok(forms[name] instanceof BigInt64Array, `${name} stays an int64 output`);
    assert.deepEqual(forms[name], standard[name], name);
  }
});

test('Sign by comparisons, OneHot by Equal, and int64 inputs and outputs through int32 inside', async () => {
  const g = new Graph();
  const x = g.input('x', [7]);
  const codes = g.input('codes', [5], 'int64');
  const table = g.input('table', [4, 3]);
  const outputs = {
    sign: op.sign(x),
    oneHot: op.oneHot(codes, 4),
    rows: op.gather(table, codes),
    roundTrip: op.cast(op.cast(x, 'int64'), 'float32'),
    codesBack: codes,
    counts: op.scatterAdd(g.constant(new Float32Array(4), [4]), codes, g.constant(new Float32Array(5).fill(1), [5])),
  };
  const feeds = {
    x: Float32Array.of(-2.5, -0, 0, 0.25, 3.75, -1e-30, 7),
    codes: BigInt64Array.of(3n, 0n, 3n, 1n, 2n),
    table: Float32Array.from({ length: 12 }, (_, i) => i / 4),
  };
  const [standard, forms] = await runBoth(g, outputs, feeds);
  for (const name of Object.keys(outputs)) assert.deepEqual(forms[name], standard[name], name);
});

test('gradients through the WebGPU forms equal those of the standard lowering', async () => {
  const g = new Graph();
  const z = g.input('z', [6, 4]);
  const codebook = g.input('codebook', [5, 4]);
  // Nearest code (ArgMin), its rows (Gather), counts (ScatterAdd) and an L1 term (Abs → Sign).
  const distances = op.reduceSum(op.mul(op.sub(op.reshape(z, [6, 1, 4]), op.reshape(codebook, [1, 5, 4])), op.sub(op.reshape(z, [6, 1, 4]), op.reshape(codebook, [1, 5, 4]))), 2);
  const index = op.argMin(distances, 1);
  const picked = op.gather(codebook, index);
  const sums = op.scatterAdd(g.constant(new Float32Array(20), [5, 4]), index, z);
  const loss = op.add(op.reduceSum(op.abs(op.sub(picked, z))), op.reduceSum(op.mul(sums, sums)));
  const [dz, dc] = grad(loss, [z, codebook]);
  const rng = new Rng(9);
  const feeds = { z: Float32Array.from({ length: 24 }, () => rng.normal()), codebook: Float32Array.from({ length: 20 }, () => rng.normal()) };
  const [standard, forms] = await runBoth(g, { loss, dz: dz!, dc: dc! }, feeds);
  for (const name of ['loss', 'dz', 'dc']) assert.deepEqual(forms[name], standard[name], name);
});

for (const quantizer of ['vq', 'simvq'] as const) {
  test(`a training step of the reference model with ${quantizer} in its WebGPU form equals the standard one`, async () => {
    const batch = 4;
    const images = Float32Array.from({ length: batch * 784 }, (_, i) => ((i * 7919) % 256) / 255);
    const steps: { loss: number; params: Map<string, Float32Array> }[] = [];
    for (const runtime of [cpu, gpuFormsOnCpu]) {
      useRuntime(runtime);
      try {
        const model = buildModel(makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig(quantizer, { codebookSize: 64, dim: 16 }) }));
        const store = new VariableStore(1);
        const program = await TrainingProgram.create({
          store,
          optimizer: new Adam(),
          threads: 1,
          standardOpsOnly: true,
          build: (ctx) => ({ loss: autoencode(ctx, model, ctx.input('x', [batch, 1, 28, 28])).loss }),
        });
        const results = [await program.step({ x: images }, 1e-3), await program.step({ x: images }, 1e-3)];
        await program.release();
        steps.push({ loss: results[1]!.loss, params: new Map(store.list('param').map((v) => [v.name, v.value.slice()])) });
      } finally {
        useRuntime(undefined);
      }
    }
    const [standard, forms] = steps as [(typeof steps)[0], (typeof steps)[0]];
    assert.equal(forms.loss, standard.loss);
    for (const [name, value] of standard.params) assert.deepEqual(forms.params.get(name), value, name);
  });
}

test('an index beyond int32 is refused when lowered for WebGPU, not wrapped', async () => {
  const g = new Graph();
  const big = g.constant(BigInt64Array.of(2n ** 40n), [1]);
  const y = op.gather(g.input('table', [4, 2]), big);
  await assert.rejects(CompiledGraph.create(g, { y }, { runtime: gpuFormsOnCpu }), /holds 1099511627776, beyond the int32 indices of a WebGPU graph/);
});

test('a Concat of more than 7 tensors becomes Concats of at most 7, with the same values', async () => {
  for (const count of [7, 8, 9, 20, 50]) {
    for (const axis of [0, 1]) {
      const g = new Graph();
      const parts = Array.from({ length: count }, (_, i) => g.input(`x${i}`, axis === 0 ? [1 + (i % 3), 2] : [2, 1 + (i % 3)]));
      const joined = op.concat(parts, axis);
      const model = toModelProto(g, [{ name: 'joined', tensor: joined }], { indexType: 'int32' });
      const concats = model.graph!.node!.filter((n) => n.opType === 'Concat');
      assert.ok(concats.every((n) => n.input!.length <= CONCAT_MAX_INPUTS), `${count} on axis ${axis}: ${concats.map((n) => n.input!.length).join(', ')}`);
      assert.equal(concats.length > 1, count > CONCAT_MAX_INPUTS);
      // The gradient splits the join again: check it through the forms as well.
      const seed = g.input('seed', joined.shape);
      const grads = grad(op.reduceSum(op.mul(joined, seed), [0, 1]), parts);
      const outputs: Record<string, Tensor> = { joined, ...Object.fromEntries(grads.map((t, i) => [`g${i}`, t])) };
      const feeds: Record<string, TypedData> = { seed: Float32Array.from({ length: joined.shape[0]! * joined.shape[1]! }, (_, i) => i - 3.5) };
      parts.forEach((p, i) => { feeds[`x${i}`] = Float32Array.from({ length: p.shape[0]! * p.shape[1]! }, (_, j) => i * 100 + j); });
      const [standard, forms] = await runBoth(g, outputs, feeds);
      for (const name of Object.keys(outputs)) assert.deepEqual(forms[name], standard[name], `${name} of ${count} on axis ${axis}`);
    }
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as op from '../src/graph/ops.js';
import { Adam, adamW } from '../src/optim/adam.js';
import { Sgd } from '../src/optim/sgd.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { linearLayer } from '../src/layers/linear.js';
import { conv2dLayer } from '../src/layers/conv2d.js';
import { convTranspose2dLayer } from '../src/layers/conv-transpose2d.js';
import { Rng } from '../src/init/rng.js';
import type { BuildContext } from '../src/runtime/build-context.js';
import type { Tensor } from '../src/graph/tensor.js';

const XOR_X = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const XOR_Y = Float32Array.from([0, 1, 1, 0]);

function mlp(ctx: BuildContext, x: Tensor): Tensor {
  const h = op.relu(linearLayer(ctx.scope('fc1'), x, { outFeatures: 8 }));
  return linearLayer(ctx.scope('fc2'), h, { outFeatures: 1 });
}

test('a tiny MLP fits XOR with Adam', async () => {
  const store = new VariableStore(3);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [4, 2]);
      const y = ctx.input('y', [4, 1]);
      const diff = op.sub(mlp(ctx, x), y);
      return { loss: op.reduceMean(op.mul(diff, diff)) };
    },
  });
  let loss = Infinity;
  for (let i = 0; i < 500; i++) loss = (await program.step({ x: XOR_X, y: XOR_Y }, 0.05)).loss;
  assert.ok(loss < 1e-3, `XOR loss ${loss} should fall below 1e-3`);
  const infer = await InferenceProgram.create({ store, threads: 1, build: (ctx) => ({ y: mlp(ctx, ctx.input('x', [4, 2])) }) });
  const pred = (await infer.run({ x: XOR_X })).y as Float32Array;
  assert.deepEqual([...pred].map((v) => Math.round(v)), [0, 1, 1, 0]);
  assert.equal(store.require('opt.step').value[0], 500);
});

test('frozen parameters are fed but never updated; SGD with momentum and AdamW train too', async () => {
  for (const optimizer of [new Sgd({ momentum: 0.9 }), adamW({ weightDecay: 1e-4 })]) {
    const store = new VariableStore(5);
    const build = (ctx: BuildContext) => {
      const x = ctx.input('x', [4, 2]);
      const y = ctx.input('y', [4, 1]);
      const diff = op.sub(mlp(ctx, x), y);
      return { loss: op.reduceMean(op.mul(diff, diff)) };
    };
    // Create the variables, then freeze the first layer's bias.
    await (await InferenceProgram.create({ store, threads: 1, build: (ctx) => ({ l: build(ctx).loss }) })).release();
    store.setTrainable('fc1.bias', false);
    const before = store.require('fc1.bias').value.slice();
    const program = await TrainingProgram.create({ store, optimizer, threads: 1, build });
    const first = (await program.step({ x: XOR_X, y: XOR_Y }, 0.05)).loss;
    let loss = first;
    for (let i = 0; i < 300; i++) loss = (await program.step({ x: XOR_X, y: XOR_Y }, 0.05)).loss;
    assert.ok(loss < first / 5, `${optimizer.name}: loss ${first} → ${loss}`);
    assert.deepEqual(store.require('fc1.bias').value, before);
    assert.equal(store.get('opt.m.fc1.bias'), undefined);
  }
});

test('a tiny conv autoencoder reduces its loss more than 5x', async () => {
  const rng = new Rng(11);
  const n = 16;
  const images = new Float32Array(n * 1 * 8 * 8);
  // Smooth random blobs: sums of two Gaussians per image.
  for (let i = 0; i < n; i++) {
    const cx = 1 + rng.uniform() * 6, cy = 1 + rng.uniform() * 6;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) images[i * 64 + y * 8 + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4);
  }
  const store = new VariableStore(1);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [n, 1, 8, 8]);
      let h = op.relu(conv2dLayer(ctx.scope('enc1'), x, { outChannels: 8, kernel: 4, stride: 2, pad: 1 }));
      h = conv2dLayer(ctx.scope('enc2'), h, { outChannels: 4, kernel: 3, pad: 1 });
      h = op.relu(convTranspose2dLayer(ctx.scope('dec1'), h, { outChannels: 8, kernel: 4, stride: 2, pad: 1 }));
      const y = conv2dLayer(ctx.scope('dec2'), h, { outChannels: 1, kernel: 3, pad: 1 });
      const d = op.sub(y, x);
      return { loss: op.reduceMean(op.mul(d, d)) };
    },
  });
  const first = (await program.step({ x: images }, 3e-3)).loss;
  let loss = first;
  for (let i = 0; i < 300; i++) loss = (await program.step({ x: images }, 3e-3)).loss;
  assert.ok(loss < first / 5, `loss ${first} → ${loss}`);
});

test('a step returns its terms as numbers and its metrics as typed arrays, under the names build gave them; a term must be a scalar', async () => {
  const store = new VariableStore(3);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Sgd(),
    threads: 1,
    build: (ctx) => {
      const w = ctx.param('w', [3], { kind: 'constant', value: 2 });
      const squares = op.mul(w, w);
      return { loss: op.reduceSum(squares), terms: { first: op.reshape(op.slice(squares, 0, 0, 1), []) }, metrics: { squares } };
    },
  });
  const r = await program.step({}, 0.1);
  assert.equal(r.loss, 12);
  assert.deepEqual(r.terms, { first: 4 });
  assert.deepEqual(Array.from(r.metrics.squares as Float32Array), [4, 4, 4]);
  assert.equal(r.gradNorm, undefined);
  assert.equal(program.optimizerStep, 1);
  await program.release();
  await assert.rejects(
    TrainingProgram.create({ store: new VariableStore(3), optimizer: new Sgd(), threads: 1, build: (ctx) => {
      const w = ctx.param('w', [3], { kind: 'constant', value: 2 });
      return { loss: op.reduceSum(w), terms: { all: w } };
    } }),
    /training term 'all' must be a scalar, got .*; fetch tensors as metrics/,
  );
});

test('a computed initial value is asked for only when the store creates the variable, and must fit its shape', () => {
  const store = new VariableStore(1);
  const base = store.variable('base', 'state', [2], { kind: 'constant', value: 3 });
  let calls = 0;
  const derived = () => {
    calls++;
    return Float32Array.from(base.value, (v) => 2 * v);
  };
  assert.deepEqual(Array.from(store.variable('derived', 'state', [2], derived).value), [6, 6]);
  store.variable('derived', 'state', [2], derived);
  assert.equal(calls, 1);
  assert.throws(() => store.variable('wrong', 'state', [3], derived), /the computed initial value of 'wrong' has 2 elements but its shape \[3\] holds 3/);
});

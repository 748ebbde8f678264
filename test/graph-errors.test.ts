/**
 * Bad graphs fail early with errors that name the op and the shapes involved, and bad feeds fail
 * at `run` with errors that name the input — so a shape bug deep in a model points at its cause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import * as nn from '../src/graph/composites.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { GraphError } from '../src/graph/tensor.js';
import { CompiledGraph } from '../src/runtime/session.js';

/** Assert `fn` throws a GraphError whose message starts with `op:` and contains every fragment. */
function throwsGraphError(fn: () => unknown, opName: string, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof GraphError, `expected a GraphError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${opName}: `), `message should name ${opName}: ${err.message}`);
    for (const f of fragments) {
      const ok = typeof f === 'string' ? err.message.includes(f) : f.test(err.message);
      assert.ok(ok, `message should mention ${String(f)}: ${err.message}`);
    }
    return true;
  });
}

test('add of [2,3] and [4] names the op and both shapes', () => {
  const g = new Graph();
  throwsGraphError(() => op.add(g.input('a', [2, 3]), g.input('b', [4])), 'Add', '[2,3]', '[4]', 'cannot be broadcast');
});

test('matmul with mismatched inner dimensions names both shapes', () => {
  const g = new Graph();
  throwsGraphError(() => op.matmul(g.input('a', [2, 3]), g.input('b', [4, 5])), 'MatMul', '[2,3]', '[4,5]', '3 vs 4');
  throwsGraphError(() => op.matmul(g.input('c', [2, 2, 3]), g.input('d', [3, 3, 4])), 'MatMul', '[2,2,3]', '[3,3,4]', 'batch');
  throwsGraphError(() => op.matmul(g.input('v', [3]), g.input('m', [3, 4])), 'MatMul', 'rank >= 2');
});

test('conv with mismatched channels names input and weight shapes', () => {
  const g = new Graph();
  throwsGraphError(() => op.conv2d(g.input('x', [1, 3, 8, 8]), g.input('w', [4, 2, 3, 3])), 'Conv', '[1,3,8,8]', '[4,2,3,3]', 'Cin');
  throwsGraphError(() => op.conv2d(g.input('x2', [1, 2, 2, 2]), g.input('w2', [4, 2, 3, 3])), 'Conv', 'does not fit', '[1,2,2,2]');
  throwsGraphError(() => op.convTranspose2d(g.input('x3', [1, 3, 4, 4]), g.input('w3', [2, 4, 3, 3])), 'ConvTranspose', '[1,3,4,4]', '[2,4,3,3]');
  // ORT only runs output_padding < stride; the op says so instead of failing inside ORT.
  throwsGraphError(
    () => op.convTranspose2d(g.input('x4', [1, 2, 4, 4]), g.input('w4', [2, 2, 3, 3]), { dilation: 2, outputPadding: 1 }),
    'ConvTranspose',
    'outputPadding 1',
    'stride 1',
  );
});

test('1-D convs name the [N,C,T] layout they need, and refuse kernels that do not fit', () => {
  const g = new Graph();
  throwsGraphError(() => op.conv1d(g.input('x', [1, 3, 8, 8]), g.input('w', [4, 3, 3])), 'Conv', '[1,3,8,8]', '[N,Cin,T]');
  throwsGraphError(() => op.conv1d(g.input('x2', [1, 3, 8]), g.input('w2', [4, 2, 3])), 'Conv', '[1,3,8]', '[4,2,3]', 'Cin');
  throwsGraphError(() => op.conv1d(g.input('x3', [1, 2, 8]), g.input('w3', [4, 2, 3]), { dilation: 9 }), 'Conv', 'does not fit', 'dilation 9');
  throwsGraphError(() => op.convTranspose1d(g.input('x4', [1, 2, 8]), g.input('w4', [2, 2, 10]), { stride: 5, outputPadding: 5 }), 'ConvTranspose', 'outputPadding 5', 'stride 5');
  throwsGraphError(() => op.conv1dFilterGrad(g.input('x5', [2, 3, 8]), g.input('gy5', [2, 4, 5]), { kernel: 3, pad: 1 }), 'ConvFilterGrad', 'gives 8 steps', '[2,4,5]');
});

test('reshape to a different number of elements names both shapes', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  throwsGraphError(() => op.reshape(x, [4, 2]), 'Reshape', '[2,3]', '[4,2]', '6 elements');
  throwsGraphError(() => op.reshape(x, [4, -1]), 'Reshape', '[2,3]', '[4,-1]');
  throwsGraphError(() => op.reshape(x, [-1, -1]), 'Reshape', 'at most one -1');
});

test('concat of shapes that differ off the axis names every shape', () => {
  const g = new Graph();
  throwsGraphError(() => op.concat([g.input('a', [2, 3]), g.input('b', [3, 3])], 1), 'Concat', '[2,3]', '[3,3]', 'axis 1');
  throwsGraphError(() => op.concat([], 0), 'Concat', 'at least one');
});

test('slice out of range names the range and the shape', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  throwsGraphError(() => op.slice(x, 1, 2, 5), 'Slice', '2:5', '[2,3]');
  throwsGraphError(() => op.slice(x, 1, 2, 2), 'Slice', '2:2', 'empty');
  throwsGraphError(() => op.slice(x, 2, 0, 1), 'Slice', 'axis 2', 'rank 2');
});

test('other shape errors: expand, pad, transpose, gather, scatterAdd, where, reductions', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  throwsGraphError(() => op.expand(x, [3, 3]), 'Expand', '[2,3]', '[3,3]');
  throwsGraphError(() => op.pad(x, [[0, 1]]), 'Pad', '[2,3]');
  throwsGraphError(() => op.transpose(x, [0, 0]), 'Transpose', '[0,0]', '[2,3]');
  throwsGraphError(() => op.gather(x, x), 'Gather', 'int64', 'x:float32[2,3]');
  const idx = g.input('idx', [4], 'int64');
  throwsGraphError(() => op.scatterAdd(g.input('base', [5, 3]), idx, g.input('upd', [4, 2])), 'ScatterAdd', '[4,2]', '[5,3]');
  throwsGraphError(() => op.where(x, x, x), 'Where', 'bool');
  throwsGraphError(() => op.reduceSum(x, 3), 'ReduceSum', 'axis 3', 'rank 2');
  throwsGraphError(() => op.add(op.cast(x, 'int64'), 1), 'Add', 'float32', 'int64');
  throwsGraphError(() => op.add(x, new Graph().input('y', [2, 3])), 'Add', 'another graph');
});

test('composites validate their arguments and name themselves', () => {
  const g = new Graph();
  const img = g.input('img', [2, 6, 4, 4]);
  throwsGraphError(() => nn.groupNorm(img, g.input('g1', [6]), g.input('b1', [6]), 4), 'groupNorm', 'groups 4', 'C = 6', '[2,6,4,4]');
  throwsGraphError(() => nn.groupNorm(img, g.input('g2', [4]), g.input('b2', [6]), 2), 'groupNorm', 'gamma [4]', 'beta [6]');
  throwsGraphError(() => nn.groupNorm(g.input('flat', [2, 6]), g.input('g3', [6]), g.input('b3', [6]), 2), 'groupNorm', '[2,6]', '[N,C,H,W]');
  const x = g.input('x', [2, 3]);
  throwsGraphError(() => nn.softmax(x, 2), 'softmax', 'axis 2', '[2,3]');
  throwsGraphError(() => nn.logSumExp(x, -3), 'logSumExp', 'axis -3', '[2,3]');
  throwsGraphError(() => nn.mseLoss(x, g.input('y', [3, 2])), 'mseLoss', '[2,3]', '[3,2]');
  throwsGraphError(() => nn.l1Loss(x, g.input('y1', [3])), 'l1Loss', '[2,3]', '[3]');
  throwsGraphError(() => nn.linear(x, g.input('w', [4, 5])), 'linear', '[2,3]', '[4,5]');
  throwsGraphError(() => nn.linear(x, g.input('w2', [3, 5]), g.input('b', [4])), 'linear', 'bias [4]', '[3,5]');
  throwsGraphError(() => nn.squaredDistances(x, g.input('e', [5, 4])), 'squaredDistances', '[2,3]', '[5,4]');
  throwsGraphError(() => nn.silu(op.cast(x, 'int64')), 'silu', 'float32', 'int64');
});

test('grad with respect to an int tensor throws, mentioning float32 and the tensor', () => {
  const g = new Graph();
  const idx = g.input('codes', [3], 'int64');
  const loss = op.reduceSum(op.cast(idx, 'float32'));
  throwsGraphError(() => grad(loss, [idx]), 'grad', 'float32', 'codes:int64[3]');
  throwsGraphError(() => grad(op.cast(loss, 'int64'), []), 'grad', 'loss must be float32');
});

async function compiled(): Promise<CompiledGraph> {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const b = g.input('bias', [3]);
  return CompiledGraph.create(g, { y: op.add(x, b) }, { threads: 1 });
}

const ok = { x: new Float32Array(6), bias: new Float32Array(3) };

test('run rejects an unknown input name, naming it and the inputs the graph takes', async () => {
  const c = await compiled();
  try {
    await assert.rejects(c.run({ ...ok, bais: new Float32Array(3) }), (err: Error) => /unknown input 'bais'/.test(err.message) && /x, bias/.test(err.message));
  } finally {
    await c.release();
  }
});

test('run rejects a missing feed, naming the input, its dtype and its shape', async () => {
  const c = await compiled();
  try {
    await assert.rejects(c.run({ x: ok.x }), (err: Error) => /missing input 'bias' float32\[3\]/.test(err.message));
  } finally {
    await c.release();
  }
});

test('run rejects a feed of the wrong size or type, naming the input and both sizes', async () => {
  const c = await compiled();
  try {
    await assert.rejects(c.run({ ...ok, x: new Float32Array(5) }), (err: Error) => /input 'x' must be float32\[2,3\] \(6 elements\), got Float32Array of 5/.test(err.message));
    await assert.rejects(c.run({ ...ok, bias: new BigInt64Array(3) }), (err: Error) => /input 'bias' must be float32\[3\].*got BigInt64Array of 3/.test(err.message));
  } finally {
    await c.release();
  }
});

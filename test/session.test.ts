import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { OPSET } from '../src/onnx/lower.js';
import { CompiledGraph } from '../src/runtime/session.js';

// dist/test/session.test.js → the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('a compiled graph writes outputs into caller buffers', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 2]);
  const compiled = await CompiledGraph.create(g, { y: op.mul(op.add(x, 1), 2), s: op.reduceSum(x) }, { threads: 1 });
  const y = new Float32Array(4);
  const out = await compiled.run({ x: Float32Array.of(1, 2, 3, 4) }, { y });
  assert.equal(out.y, y);
  assert.deepEqual([...y], [4, 6, 8, 10]);
  assert.deepEqual([...(out.s as Float32Array)], [10]);
});

test('the serialized model is plain ONNX that onnxruntime-node loads by itself', async () => {
  const g = new Graph();
  const x = g.input('x', [3]);
  const compiled = await CompiledGraph.create(g, { y: op.sqrt(x) }, { threads: 1 });
  const session = await ort.InferenceSession.create(compiled.modelBytes);
  const r = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 4, 9), [3]) });
  assert.deepEqual([...(r.y!.data as Float32Array)], [1, 2, 3]);
  // It declares the one opset the lowering writes for (ONNX IR 8, the default domain), the opset the
  // README names.
  const model = onnxProto.onnx.ModelProto.decode(compiled.modelBytes);
  assert.equal(Number(model.irVersion), 8);
  assert.deepEqual(model.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]), [['', OPSET]]);
  assert.match(readFileSync(join(root, 'README.md'), 'utf8'), new RegExp(`opset ${OPSET}\\)`));
});

test('an output may repeat a tensor, and output names may not shadow inputs', async () => {
  const g = new Graph();
  const x = g.input('x', [1]);
  const compiled = await CompiledGraph.create(g, { a: x, b: x }, { threads: 1 });
  const out = await compiled.run({ x: Float32Array.of(5) });
  assert.deepEqual([out.a![0], out.b![0]], [5, 5]);
  await assert.rejects(CompiledGraph.create(g, { x: op.neg(x) }), /also an input name/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/graph/graph.js';
import { createQuantizer, type Quantizer } from '../src/quantizers/index.js';
import { BuildContext } from '../src/runtime/build-context.js';
import { VariableStore } from '../src/runtime/variables.js';

// Checkpoints of FSQ, LFQ and projected VQ runs store the projections under these names and
// shapes, and an optimizer state follows the variables' creation order: both must stay fixed.
const cases: { name: string; quantizer: Quantizer; inner: number; params: [string, number[]][] }[] = [
  { name: 'FSQ levels 3,3 on d = 6', quantizer: createQuantizer('fsq', { dim: 6, levels: [3, 3] }), inner: 2, params: [] },
  { name: 'LFQ K = 16 on d = 6', quantizer: createQuantizer('lfq', { dim: 6, codebookSize: 16 }), inner: 4, params: [] },
  { name: 'VQ codebookDim 3 on d = 6', quantizer: createQuantizer('vq', { dim: 6, codebookSize: 16, codebookDim: 3 }), inner: 3, params: [['q.codebook', [16, 3]]] },
];

for (const { name, quantizer, inner, params } of cases) {
  test(`${name}: projections d → ${inner} → d are nn.Linear layers named proj_in and proj_out`, () => {
    const store = new VariableStore(5);
    const ctx = BuildContext.create(new Graph(), store, 'train');
    quantizer.quantize(ctx.scope('q'), ctx.input('z', [10, 6]));
    const expected: [string, number[]][] = [
      ['q.proj_in.weight', [6, inner]],
      ['q.proj_in.bias', [inner]],
      ...params,
      ['q.proj_out.weight', [inner, 6]],
      ['q.proj_out.bias', [6]],
    ];
    assert.deepEqual(store.list('param').map((v) => [v.name, v.shape]), expected);
    for (const v of store.list('param').filter((p) => p.name.includes('.proj_'))) {
      // nn.Linear's U(±1/√fan_in), fan_in the projection's input width; decay on the weight only.
      const bound = 1 / Math.sqrt(v.name.startsWith('q.proj_in') ? 6 : inner);
      assert.ok(v.value.every((x) => Math.abs(x) <= bound), `${v.name} outside ±${bound}`);
      assert.ok(Math.max(...v.value.map(Math.abs)) > bound / 2, `${v.name} does not fill ±${bound}`);
      assert.equal(v.trainable, true);
      assert.equal(v.decay, v.shape.length === 2);
    }
  });
}

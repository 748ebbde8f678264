import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { Graph } from '../src/graph/graph.js';
import { buildModel, makeModelConfig, parseModelConfig, ModelConfigError } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { flattenNCHW } from '../src/quantizers/quantizer.js';
import { BuildContext } from '../src/runtime/build-context.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { VariableStore } from '../src/runtime/variables.js';

const MNIST = { channels: 1, height: 28, width: 28 };

function symbolic(config: ReturnType<typeof makeModelConfig>, batch: number) {
  const model = buildModel(config);
  const store = new VariableStore(0);
  const ctx = BuildContext.create(new Graph(), store, 'eval');
  const { channels, height, width } = model.input;
  const x = ctx.input('x', [batch, channels, height, width]);
  const z = model.encode(ctx, x);
  const out = autoencode(ctx, model, x);
  return { model, store, z, out };
}

test('the reference MNIST VQ-VAE maps 28×28 digits to 7×7×64 latents and back to 28×28', () => {
  const config = makeModelConfig({ input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 1024, dim: 64, beta: 0.25 }) });
  const { model, store, z, out } = symbolic(config, 3);
  assert.deepEqual([...z.shape], [3, 64, 7, 7]);
  assert.deepEqual(model.latent, { height: 7, width: 7, dim: 64 });
  assert.deepEqual([...out.reconstruction.shape], [3, 1, 28, 28]);
  assert.deepEqual([...out.indices.shape], [3, 7, 7]);
  assert.deepEqual([...flattenNCHW(z).shape], [3 * 49, 64]);
  const shape = (name: string) => [...store.require(name).shape];
  // The layers of the reference architecture, exactly.
  assert.deepEqual(shape('encoder.conv1.weight'), [64, 1, 4, 4]);
  assert.deepEqual(shape('encoder.conv2.weight'), [128, 64, 4, 4]);
  assert.deepEqual(shape('encoder.conv3.weight'), [128, 128, 3, 3]);
  for (const b of [0, 1]) {
    for (const part of ['encoder', 'decoder']) {
      assert.deepEqual(shape(`${part}.residual.block${b}.conv1.weight`), [32, 128, 3, 3]);
      assert.deepEqual(shape(`${part}.residual.block${b}.conv2.weight`), [128, 32, 1, 1]);
    }
  }
  assert.deepEqual(shape('encoder.to_code.weight'), [64, 128, 1, 1]);
  assert.deepEqual(shape('decoder.from_code.weight'), [128, 64, 3, 3]);
  assert.deepEqual(shape('decoder.up1.weight'), [128, 64, 4, 4]);
  assert.deepEqual(shape('decoder.up2.weight'), [64, 1, 4, 4]);
  assert.deepEqual(shape('quantizer.codebook'), [1024, 64]);
  // 8 encoder and 7 decoder layers, each with weight and bias, plus the codebook.
  assert.equal(store.list('param').length, 2 * 15 + 1);
});

test('the reference model runs through ONNX Runtime with the right output shapes', async () => {
  const config = makeModelConfig({ input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 8, beta: 0.25 }) });
  const model = buildModel(config);
  const store = new VariableStore(1);
  const program = await InferenceProgram.create({
    store,
    threads: 1,
    build: (ctx) => {
      const out = autoencode(ctx, model, ctx.input('x', [2, 1, 28, 28]));
      return { recon: out.reconstruction, indices: out.indices };
    },
  });
  const result = await program.run({ x: new Float32Array(2 * 784).fill(0.5) });
  assert.equal(result.recon!.length, 2 * 784);
  assert.equal(result.indices!.length, 2 * 49);
  assert.ok([...(result.indices as BigInt64Array)].every((i) => i >= 0n && i < 16n));
  await program.release();
});

test('the conv model with ReLU, D = 2, 128 hidden and 32-wide blocks has the reference parameter count', () => {
  const reference = symbolic(makeModelConfig({ input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 64, dim: 64, beta: 0.25 }) }), 1);
  const conv = symbolic(makeModelConfig({ model: 'conv', input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 64, dim: 64, beta: 0.25 }), conv: { activation: 'relu' } }), 1);
  assert.equal(conv.store.parameterCount(), reference.store.parameterCount());
  assert.deepEqual([...conv.out.reconstruction.shape], [1, 1, 28, 28]);
});

test('the conv model with GroupNorm + SiLU turns RGB 32×32 into 8×8 latents and 64×64 into 16×16', () => {
  for (const [size, latent] of [[32, 8], [64, 16]] as const) {
    const config = makeModelConfig({ model: 'conv', input: { channels: 3, height: size, width: size }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 64, dim: 32, beta: 0.25 }), conv: { hiddenChannels: 64 } });
    const { z, out, store } = symbolic(config, 2);
    assert.deepEqual([...z.shape], [2, 32, latent, latent]);
    assert.deepEqual([...out.reconstruction.shape], [2, 3, size, size]);
    assert.ok(store.get('encoder.residual.block0.norm1.gamma'), 'GroupNorm parameters exist');
  }
});

test('model configs reject impossible shapes and unknown kinds with one-line errors', () => {
  assert.throws(() => makeModelConfig({ input: { channels: 1, height: 30, width: 30 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4, beta: 0.25 }) }), /divisible by 4/);
  assert.throws(() => makeModelConfig({ model: 'resnet' as 'conv', input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4, beta: 0.25 }) }), /unknown model 'resnet'; choose one of reference-mnist, conv/);
  assert.throws(() => makeModelConfig({ input: MNIST, quantizer: resolveQuantizerConfig('bogus', { codebookSize: 8, dim: 4, beta: 0.25 }) }), /unknown quantizer 'bogus'/);
  const good = makeModelConfig({ input: MNIST, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4, beta: 0.25 }) });
  assert.deepEqual(parseModelConfig(JSON.parse(JSON.stringify(good)), 'config.json'), good);
  assert.throws(() => parseModelConfig({ ...good, input: { channels: 1, height: 0, width: 28 } }, 'config.json'), ModelConfigError);
  assert.throws(() => parseModelConfig({ format: 'other' }, 'config.json'), /not a vqlab model config/);
});

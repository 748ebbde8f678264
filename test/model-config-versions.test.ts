import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as op from '../src/graph/ops.js';
import { parseModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { loadModelCheckpoint, readConfig } from '../src/persistence/checkpoint.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

// dist/test/… → the repository's test/fixtures, written by the version-1 code (see generate.mjs there).
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'v1-checkpoints');

for (const quantizer of ['vq', 'ema', 'simvq']) {
  test(`a version-1 ${quantizer} checkpoint loads and reproduces the indices and reconstructions it was saved with`, async () => {
    const dir = join(fixtures, quantizer);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { indices: number[]; reconstruction: number[] };
    const { config, model, store } = await loadModelCheckpoint(dir);
    assert.equal(config.version, 2);
    assert.equal(config.quantizer.kind, quantizer);
    assert.equal(config.quantizer.codebookSize, 8);
    const x = Float32Array.from({ length: 2 * 64 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const program = await InferenceProgram.create({ store, threads: 1, build: (ctx) => {
      const f = autoencode(ctx, model, ctx.input('x', [2, 1, 8, 8]));
      return { reconstruction: f.reconstruction, indices: op.reshape(f.indices, [-1]) };
    } });
    try {
      const r = await program.run({ x });
      assert.deepEqual(Array.from(r.indices as BigInt64Array, Number), expected.indices);
      const recon = r.reconstruction as Float32Array;
      expected.reconstruction.forEach((v, i) => assert.ok(Math.abs(recon[i]! - v) <= 1e-6, `pixel ${i}: ${recon[i]} vs ${v}`));
    } finally {
      await program.release();
    }
  });
}

test('version-1 quantizer sections upgrade to the quantizer config; bad ones are refused naming the field', async () => {
  const v1 = JSON.parse(readFileSync(join(fixtures, 'simvq', 'config.json'), 'utf8')) as Record<string, unknown>;
  const upgraded = parseModelConfig(v1, 'v1.json');
  assert.deepEqual(upgraded.quantizer, { kind: 'simvq', codebookSize: 8, dim: 4, beta: 0.25, weight: 1, optimize: 'W', bias: true, initScale: 0.5 });
  // A version-2 config is the quantizer's own config and round-trips unchanged.
  assert.deepEqual(parseModelConfig(JSON.parse(JSON.stringify(upgraded)), 'v2.json'), upgraded);
  const q = v1.quantizer as Record<string, unknown>;
  assert.throws(() => parseModelConfig({ ...v1, quantizer: { ...q, name: 'fsq' } }, 'v1.json'), /v1.json: quantizer.name must be one of vq, ema, simvq in a version-1 config, got 'fsq'/);
  assert.throws(() => parseModelConfig({ ...v1, quantizer: { ...q, decay: 0.9 } }, 'v1.json'), /unexpected field quantizer.decay in a version-1 config/);
  assert.throws(() => parseModelConfig({ ...v1, version: 3 }, 'v3.json'), /config version 3; this vqlab reads versions 1 and 2/);
  assert.throws(() => parseModelConfig({ ...v1, version: 2, quantizer: { kind: 'ema', codebookSize: 8, dim: 4, decai: 0.9 } }, 'v2.json'), /v2.json: ema: unknown option 'decai'; valid options: .*decay/);
  // Reading a version-1 checkpoint directory gives today's config (what a resumed run saves).
  const dir = tempDir('v1');
  cpSync(join(fixtures, 'ema'), dir, { recursive: true });
  const ema = await readConfig(dir);
  assert.deepEqual(ema.quantizer, { kind: 'ema', codebookSize: 8, dim: 4, beta: 0.25, weight: 1, decay: 0.99, epsilon: 1e-5, init: 'normal', initialCount: 1 });
});

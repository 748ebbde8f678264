import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeModelConfig, ModelConfigError, parseModelConfig, type ModelChoice } from '../src/models/config.js';
import { resolveQuantizerConfig } from '../src/quantizers/index.js';

// Configs that ask for absurd sizes are refused by validation alone, in one line that names the
// option and its range, before any variable is allocated (a K = 10¹² codebook would be 4 TB).
const input = { channels: 1, height: 28, width: 28 };

/** `choice` is a function: the quantizer's options are refused when its config is resolved. */
function refused(choice: () => ModelChoice, pattern: RegExp): void {
  assert.throws(() => makeModelConfig(choice()), (err: unknown) => {
    assert.ok(err instanceof Error, String(err));
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('absurd codebook sizes, dimensions and levels are refused with the allowed range', () => {
  refused(() => ({ input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 1e12, dim: 8 }) }), /codebookSize must be an integer >= 1 and <= 16777216, got 1000000000000/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 0, dim: 8 }) }), /codebookSize must be an integer >= 1 and <= 16777216, got 0/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 0 }) }), /dim must be an integer >= 1 and <= 16384, got 0/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('ema', { codebookSize: 16, dim: 1e9 }) }), /dim must be an integer >= 1 and <= 16384, got 1000000000/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 2 ** 24, dim: 128 }) }), /codebooks of K × d = 16777216 × 128 values are more than the 1073741824 \(4 GiB of float32\) allowed/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 2 ** 24, dim: 32, codebookDim: 128 }) }), /VectorQuantizer: codebooks of K × codebookDim = 16777216 × 128/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('residual', { codebookSize: 2 ** 18, dim: 4096, depth: 2 }) }), /ResidualQuantizer: codebooks of depth × K × d = 2 × 262144 × 4096/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 8, kmeansIters: 1e9 }) }), /kmeansIters must be an integer >= 0 and <= 1000/);
  for (const levels of [[0], [1], [8, 1]]) refused(() => ({ input, quantizer: resolveQuantizerConfig('fsq', { dim: 4, levels }) }), /levels must be a non-empty list of integers >= 2/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('fsq', { dim: 4, levels: [1e9] }) }), /FSQ: levels 1000000000 give 1000000000 codes, more than the 16777216/);
  refused(() => ({ input, quantizer: resolveQuantizerConfig('lfq', { codebookSize: 2 ** 31, dim: 8 }) }), /codebookSize must be an integer >= 2 and <= 65536, got 2147483648/);
  refused(() => ({ input: { channels: 1e6, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 8 }) }), /model input: channels must be an integer from 1 to 4, got 1000000/);
  refused(() => ({ model: 'conv', input: { channels: 3, height: 32, width: 32 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 16, dim: 8 }), conv: { hiddenChannels: 1e9 } }), /conv model: hiddenChannels must be an integer from 1 to 4096, got 1000000000/);
});

test('config.json fields of the wrong type or size are refused naming the field', () => {
  const good = makeModelConfig({ input, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 64, dim: 8 }) });
  const parse = (json: unknown): unknown => parseModelConfig(json, 'config.json');
  assert.throws(() => parse({ ...good, input: { ...input, height: 1e9 } }), / config\.json: input\.height must be an integer from 1 to 4096, got 1000000000$/);
  assert.throws(() => parse({ ...good, input: { ...input, width: '28' } }), /input\.width must be an integer from 1 to 4096, got "28"/);
  assert.throws(() => parse({ ...good, quantizer: { ...good.quantizer, codebookSize: -3 } }), ModelConfigError);
  assert.throws(() => parse({ ...good, quantizer: { ...good.quantizer, kind: ['vq'] } }), /unknown quantizer \["vq"\]; valid names/);
  assert.throws(() => parse({ ...good, version: [[[[2]]]] }), /has config version \[\[\[\[2\]\]\]\]; this vqlab reads versions 1 and 2/);
});

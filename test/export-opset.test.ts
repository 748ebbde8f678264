/**
 * `vqlab export --opset 17`: graphs that tools knowing no newer opset accept (Python's onnx 1.12
 * checker stops at 17), and that ONNX Runtime runs to the same codes and images as the default
 * export, for every quantizer. The checker half runs where /usr/bin/python3 imports onnx (Debian's
 * python3-onnx, which .ci/run installs); elsewhere it is skipped with that reason, and in CI
 * (CI=true) a missing checker fails instead.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { OPSET } from '../src/onnx/lower.js';
import { resolveQuantizerConfig, type QuantizerConfig } from '../src/quantizers/registry.js';
import { exportOnnx, type ExportResult } from '../src/tokenize/export.js';
import { tempDir, tinyCheckpoint, tinyQuantizer } from './helpers/checkpoint-fixture.js';

const PYTHON = '/usr/bin/python3';
/** Checks each file named on the command line with onnx's full checker (shape inference included). */
const CHECK = 'import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint(onnx.__version__)';

function pythonOnnx(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import onnx (${(r.error?.message ?? r.stderr.trim().split('\n').pop()) || 'no output'}); install python3-onnx`;
}
const missing = pythonOnnx();
const skipChecker = missing !== null && process.env.CI !== 'true' ? `onnx checker skipped: ${missing}` : false;

interface Case {
  readonly name: string;
  readonly quantizer: QuantizerConfig;
  readonly model?: string;
  /** A fixed batch (default: dynamic). */
  readonly batch?: number;
}

/**
 * One tiny checkpoint per quantizer (FSQ and LFQ bring their own K, residual stacks SimVQ), plus the
 * two graphs that hold the operators opset 18 changed: a fixed-batch export with K = 512, whose
 * code search takes the grouped argmin (ReduceMin), and the conv model's GroupNorm (ReduceMean).
 */
const CASES: readonly Case[] = [
  { name: 'vq', quantizer: tinyQuantizer('vq') },
  { name: 'ema', quantizer: tinyQuantizer('ema') },
  { name: 'simvq', quantizer: tinyQuantizer('simvq') },
  { name: 'fsq', quantizer: resolveQuantizerConfig('fsq', { dim: 2, levels: [5, 3] }) },
  { name: 'lfq', quantizer: tinyQuantizer('lfq', { dim: 4 }) },
  { name: 'residual', quantizer: tinyQuantizer('residual', { base: 'simvq', depth: 2 }) },
  { name: 'vq K=512 batch 5', quantizer: tinyQuantizer('vq', { codebookSize: 512 }), batch: 5 },
  { name: 'conv model (GroupNorm)', quantizer: tinyQuantizer('simvq'), model: 'conv' },
];

function opsetOf(file: string): number {
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(file));
  return Number(model.opsetImport.find((o) => !o.domain)!.version);
}

function opTypes(file: string): Set<string> {
  return new Set((onnxProto.onnx.ModelProto.decode(readFileSync(file)).graph?.node ?? []).map((n) => n.opType ?? ''));
}

async function runBoth(result: ExportResult, images: Float32Array, count: number): Promise<{ indices: ort.Tensor; decoded: Float32Array }> {
  const encoder = await ort.InferenceSession.create(result.encoder);
  const decoder = await ort.InferenceSession.create(result.decoder);
  try {
    const indices = (await encoder.run({ image: new ort.Tensor('float32', images, [count, 1, 28, 28]) })).indices!;
    const decoded = (await decoder.run({ indices })).image!.data as Float32Array;
    return { indices, decoded };
  } finally {
    await encoder.release();
    await decoder.release();
  }
}

describe('export --opset 17', () => {
  const exports: { name: string; at17: ExportResult; atDefault: ExportResult }[] = [];

  test('every quantizer exports at opset 17 and runs in ONNX Runtime to the indices and images of the default export', async () => {
    const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
    const count = 5;
    const images = digits.images.slice(0, count * 784);
    const reduceOps = new Set<string>();
    for (const { name, quantizer, model, batch } of CASES) {
      const { out } = await tinyCheckpoint({ quantizer, ...(model === undefined ? {} : { model }) });
      const at17 = await exportOnnx(out, { outDir: tempDir('opset17'), opset: 17, batch });
      const atDefault = await exportOnnx(out, { outDir: tempDir('opset-default'), batch });
      exports.push({ name, at17, atDefault });
      for (const file of [at17.encoder, at17.decoder]) assert.equal(opsetOf(file), 17, `${name}: ${file}`);
      for (const file of [atDefault.encoder, atDefault.decoder]) assert.equal(opsetOf(file), OPSET, `${name}: ${file}`);
      for (const op of [...opTypes(at17.encoder), ...opTypes(at17.decoder)]) if (/^Reduce(Mean|Max|Min)$/.test(op)) reduceOps.add(op);

      const a = await runBoth(at17, images, count);
      const b = await runBoth(atDefault, images, count);
      assert.deepEqual(a.indices.dims, b.indices.dims, name);
      assert.deepEqual([...(a.indices.data as BigInt64Array)], [...(b.indices.data as BigInt64Array)], `${name}: indices`);
      assert.deepEqual(a.decoded, b.decoded, `${name}: decoded images`);
    }
    // The operators whose form differs between the opsets are in the graphs compared above.
    assert.deepEqual([...reduceOps].sort(), ['ReduceMean', 'ReduceMin']);
  });

  test("Python onnx's checker accepts the opset-17 export of every quantizer", { skip: skipChecker }, () => {
    assert.equal(missing, null, `in CI the checker must run: ${missing}`);
    assert.ok(exports.length === CASES.length, 'the exports of the test before');
    const files = exports.flatMap((e) => [e.at17.encoder, e.at17.decoder]);
    const r = spawnSync(PYTHON, ['-c', CHECK, ...files], { encoding: 'utf8' });
    assert.equal(r.status, 0, `onnx.checker refused an opset-17 export:\n${r.stderr.trim().split('\n').slice(-3).join('\n')}`);
  });
});

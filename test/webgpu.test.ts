/**
 * Training and encoding on ONNX Runtime's WebGPU provider, with Chromium's SwiftShader (a Vulkan
 * driver on the CPU) as the adapter: node placement of the training step, `vqlab train --device
 * webgpu` against the CPU provider, and its checkpoint encoded on both. SwiftShader emulates the
 * GPU slowly (seconds per step of batch 2), so the runs are two steps long.
 *
 * Without SwiftShader the tests are skipped with the reason, except in CI (CI set), where
 * chromium is installed (.ci/run) and a missing driver is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { encodePng } from '../src/images/encode-png.js';
import type { EpochRecord } from '../src/train/metrics-log.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { runCli } from './helpers/run-cli.js';
import { runWebGpuChild, swiftShader } from './helpers/webgpu-child.js';

const shader = swiftShader();
const env = 'env' in shader ? shader.env : {};
const skip = 'missing' in shader && !process.env.CI ? shader.missing : false;

test('SwiftShader is there in CI', { skip: !process.env.CI }, () => {
  assert.ok('env' in shader, 'missing' in shader ? shader.missing : '');
});

test('every training-step node of the reference model with VQ and with SimVQ runs on the WebGPU provider', { skip }, async () => {
  const placement = await runWebGpuChild('placement', env);
  assert.equal(placement.vq, 'gpu', `VQ: ${placement.vq}`);
  assert.equal(placement.simvq, 'gpu', `SimVQ: ${placement.simvq}`);
  // The check has teeth: a graph with a node the provider lacks (Cast from int64) is refused.
  assert.match(placement.control!, /fallback to CPU EP has been explicitly disabled/);
});

/** Eight test digits as PNG files. */
function digitFiles(dir: string): string[] {
  const { test: digits } = splitTrainTest(loadBundledMnist(), 1000, 0);
  return Array.from({ length: 8 }, (_, i) => {
    const file = join(dir, `digit${i}.png`);
    writeFileSync(file, encodePng(digits.images.subarray(i * 784, (i + 1) * 784), { channels: 1, height: 28, width: 28 }));
    return file;
  });
}

const records = (run: string): EpochRecord[] => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);

const indicesOf = (json: string): number[] => (JSON.parse(json) as { images: { indices: number[][] }[] }).images.flatMap((i) => i.indices.flat());

test('vqlab train --device webgpu matches the CPU provider, lowers the loss, and its checkpoint encodes alike on the CPU', { skip }, async () => {
  const work = tempDir('webgpu');
  // Two epochs of one step each on the same two images, so each metrics line is one step's loss.
  const flags = ['--train-limit', '2', '--batch', '2', '--epochs', '2', '--test-limit', '2', '--threads', '1', '--lr', '1e-3', '--seed', '4'];
  const gpuRun = join(work, 'gpu');
  const cpuRun = join(work, 'cpu');
  const onGpu = await runCli(['train', ...flags, '--device', 'webgpu', '--out', gpuRun], env);
  assert.equal(onGpu.code, 0, onGpu.stderr);
  assert.match(onGpu.stderr, /on webgpu \(Vulkan: vk_swiftshader_icd\.json\)/, 'the start and progress lines name the device and adapter');
  const onCpu = await runCli(['train', ...flags, '--device', 'cpu', '--out', cpuRun, '--quiet']);
  assert.equal(onCpu.code, 0, onCpu.stderr);

  const gpu = records(gpuRun);
  const cpu = records(cpuRun);
  assert.deepEqual(gpu.map((r) => [r.device, r.adapter]), [['webgpu', 'Vulkan: vk_swiftshader_icd.json'], ['webgpu', 'Vulkan: vk_swiftshader_icd.json']]);
  assert.deepEqual(cpu.map((r) => [r.device, r.adapter]), [['cpu', null], ['cpu', null]]);
  // The same sums in another order (GPU reductions, no NCHWc kernels): equal to 1e-4 relative.
  for (const [i, r] of gpu.entries()) {
    const expected = cpu[i]!.loss.total;
    assert.ok(Math.abs(r.loss.total - expected) <= 1e-4 * expected, `epoch ${i + 1}: loss ${r.loss.total} on WebGPU, ${expected} on the CPU`);
  }
  assert.ok(gpu[1]!.loss.total < gpu[0]!.loss.total, `the loss went from ${gpu[0]!.loss.total} to ${gpu[1]!.loss.total}`);

  const files = digitFiles(work);
  const encodedOnCpu = await runCli(['encode', gpuRun, ...files, '--device', 'cpu', '--threads', '1']);
  assert.equal(encodedOnCpu.code, 0, encodedOnCpu.stderr);
  const encodedOnGpu = await runCli(['encode', gpuRun, ...files, '--device', 'webgpu', '--threads', '1'], env);
  assert.equal(encodedOnGpu.code, 0, encodedOnGpu.stderr);
  const a = indicesOf(encodedOnCpu.stdout);
  const b = indicesOf(encodedOnGpu.stdout);
  assert.equal(a.length, 8 * 49);
  const same = a.filter((v, i) => v === b[i]).length / a.length;
  assert.ok(same >= 0.999, `${(100 * same).toFixed(2)} % of the indices agree`);
});

test('--device webgpu without an adapter fails in one line that names the fix', { skip: process.platform !== 'linux' ? 'the Vulkan driver is chosen this way on Linux only' : false }, async () => {
  // An ICD file that does not exist: the Vulkan loader finds no driver, so Dawn finds no adapter.
  const noDriver = { ...env, VK_ICD_FILENAMES: '/nonexistent/vk_icd.json', VK_DRIVER_FILES: '/nonexistent/vk_icd.json' };
  const result = await runCli(['train', '--train-limit', '2', '--batch', '2', '--epochs', '1', '--device', 'webgpu', '--out', join(tempDir('webgpu-none'), 'run')], noDriver);
  assert.equal(result.code, 1);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^vqlab: no WebGPU adapter \(.*\): .*--device cpu/);
});

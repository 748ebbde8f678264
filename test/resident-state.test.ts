/**
 * Training state held on the GPU between steps (src/runtime/resident-state.ts), on ONNX Runtime's
 * WebGPU provider with SwiftShader as the adapter (test/helpers/resident-child.ts runs the WebGPU
 * part in a child). Skipped like test/webgpu.test.ts where SwiftShader is missing outside CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemoryReport, TrainingReport } from './helpers/resident-child.js';
import { runWebGpuScript, swiftShader } from './helpers/webgpu-child.js';

const shader = swiftShader();
const env = 'env' in shader ? shader.env : {};
const skip = 'missing' in shader && !process.env.CI ? shader.missing : false;
const child = new URL('./helpers/resident-child.js', import.meta.url).href;

const relative = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

test('resident training state: matches the CPU provider and the host-fed WebGPU path, re-seeds dead codes, resumes from a mid-run sync, evaluates from the device, and moves only the batch and what a step reports', { skip }, async () => {
  const r = await runWebGpuScript<TrainingReport>(child, 'training', env);

  // The same sums in another order (GPU reductions, no NCHWc kernels): the CPU provider's losses to 1e-4 relative.
  r.resident.losses.forEach((loss, i) => assert.ok(relative(loss, r.cpu.losses[i]!) <= 1e-4, `step ${i + 1}: ${loss} resident, ${r.cpu.losses[i]} on the CPU`));
  // Held on the device or fed from the host, the same kernels see the same values.
  r.resident.losses.forEach((loss, i) => assert.ok(relative(loss, r.hostFed.losses[i]!) <= 1e-6, `step ${i + 1}: ${loss} resident, ${r.hostFed.losses[i]} fed from the host`));
  // The codebook's gradient is a scatter-add whose GPU sums come in no fixed order (two host-fed
  // runs differ by ~1e-8 there), so weights agree to 1e-6, not bit for bit.
  assert.ok(r.maxDifference.hostFed <= 1e-6, `weights differ by ${r.maxDifference.hostFed} from the host-fed path`);
  assert.ok(r.maxDifference.cpu <= 1e-2, `weights differ by ${r.maxDifference.cpu} from the CPU provider`);

  // Dead-code replacement works on resident state: its host step downloads the usage counts it
  // reads, re-seeds codes, and the next step writes those rows on the device; the choices equal the CPU's.
  assert.ok(r.resident.reseeded.some((n) => n > 0), `no code was re-seeded: ${r.resident.reseeded.join(', ')}`);
  assert.deepEqual(r.resident.reseeded, r.cpu.reseeded);
  assert.deepEqual(r.hostFed.reseeded, r.cpu.reseeded);

  // The values synced after step 2 (what a mid-run checkpoint saves), loaded into a fresh
  // resident program, train step 3 to the weights of the run that went on.
  assert.ok(relative(r.resumed.losses[0]!, r.resident.losses[2]!) <= 1e-6, `step 3: ${r.resumed.losses[0]} resumed, ${r.resident.losses[2]} continued`);
  assert.deepEqual(r.resumed.reseeded, [r.resident.reseeded[2]]);
  assert.ok(r.maxDifference.resumed <= 1e-6, `the resumed run's weights differ by ${r.maxDifference.resumed}`);

  // What crossed between host and device: fed from the host every step, every variable both ways;
  // resident, after the first step's upload, the batch, the learning rate and the step counter in,
  // the reported outputs and the step counter out, plus the quantizer variables its host step rewrote.
  const hostFed = r.hostFed.transfers[1]!;
  assert.equal(hostFed.hostInputs.length, r.variables + 2, 'every variable, the batch and the learning rate');
  assert.equal(hostFed.hostOutputs.filter((name) => name.startsWith('next:')).length, r.variables, 'the next value of every variable');
  for (const t of r.resident.transfers.slice(1)) {
    assert.deepEqual([...t.hostInputs].sort(), ['lr', 'opt.step', 'x']);
    assert.deepEqual(t.hostOutputs.filter((name) => name.startsWith('next:')), ['next:opt.step']);
    assert.ok(t.hostOutputs.includes('loss') && t.hostOutputs.includes('metric:counts'));
    assert.ok(t.bytes < hostFed.bytes / 100, `${t.bytes} bytes moved by a resident step, ${hostFed.bytes} fed from the host`);
  }
  // An evaluation graph mid-training is fed the device copies: it downloads nothing, and its loss
  // equals the one computed from the synced host values.
  assert.equal(r.evaluation.downloadedBytes, 0);
  assert.ok(relative(r.evaluation.deviceFed, r.evaluation.hostFed) <= 1e-6, `evaluation loss ${r.evaluation.deviceFed} fed from the device, ${r.evaluation.hostFed} from the host`);

  // A host step moves what it reads and the rows it writes, not its quantizer's state: each step
  // downloads the 64 usage counts (256 bytes) for the dead-code test, and the next step writes
  // each re-seeded code's row of the codebook and of its two Adam moments (64 floats and 64 int32
  // row numbers each) and its usage entry (one float, one int32): 1,544 bytes a code. Uploading
  // those variables whole would move 49,408 bytes; downloading them as well, as much again.
  // (The sync after step 2 applies that step's rows before it downloads, and downloads the rest.)
  const perCode = 3 * 64 * 8 + 8;
  r.resident.stateMoved.forEach((moved, i) => {
    if (i !== 2) assert.equal(moved.downloaded, 64 * 4, `step ${i + 1} downloaded ${moved.downloaded} bytes`);
    if (i > 0) assert.equal(moved.uploaded, r.resident.reseeded[i - 1]! * perCode, `step ${i + 1} uploaded ${moved.uploaded} bytes after ${r.resident.reseeded[i - 1]} codes were re-seeded`);
  });
  // Held at the end: every variable but the step counter (fed from the host each step).
  assert.equal(r.resident.heldTensors, r.variables - 1);
});

test('resident training state frees the device tensors it replaces: memory stays flat over many steps', { skip }, async () => {
  const r = await runWebGpuScript<MemoryReport>(child, 'memory', env);
  // A 2^20-element parameter and its two Adam moments: each step that kept its old tensors would
  // add 12 MiB, 720 MiB over the 60 steps measured.
  const growth = r.rssMiB.after70 - r.rssMiB.after10;
  assert.ok(growth < 64, `resident memory grew by ${growth} MiB from step 10 to step 70`);
  assert.equal(r.heldTensors, 3);
  // In: the learning rate and the step counter; out: the loss and the step counter.
  assert.equal(r.bytesPerStep, 16);
});

/**
 * The PyTorch bridge (python/vqlab_torch): for each quantizer of the registry, a small checkpoint
 * trained by `vqlab train` and loaded in PyTorch encodes 64 test digits to the indices `vqlab
 * encode` gives; two PyTorch training steps written back pass `vqlab verify`, vqlab then encodes
 * as PyTorch does, and `vqlab train --resume` continues from them; and the training script runs
 * two data-parallel steps in two CPU processes (gloo). "The same indices" means identical except
 * at float32 near-ties (a vector equally far from two codes up to rounding, which ONNX Runtime and
 * PyTorch may break either way; python/vqlab_torch/agreement.py), which must stay under 1 %.
 *
 * Needs /usr/bin/python3 with torch (Debian's python3-torch, which .ci/run installs). Skipped, with
 * the reason, only when it is missing outside CI; in CI (CI=true) a missing torch fails the test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSafetensors, type NamedTensor } from '../src/persistence/safetensors.js';
import { runCli, type CliResult } from './helpers/run-cli.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

const PYTHON = '/usr/bin/python3';
/** python/, holding the vqlab_torch package, from dist/test/ or test/. */
const PYTHON_PATH = fileURLToPath(new URL(`../${import.meta.url.includes('/dist/') ? '../' : ''}python`, import.meta.url));

function missingTorch(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

const missing = missingTorch();
const skip = missing !== null && process.env.CI !== 'true' ? `PyTorch bridge test skipped: ${missing}` : false;

/** `python3 -m vqlab_torch.<module> ...args` with the package on the path, one thread per process. */
function runPython(module: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', `vqlab_torch.${module}`, ...args], {
      env: { ...process.env, PYTHONPATH: PYTHON_PATH, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function ok(r: CliResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** What `vqlab_torch.encode --compare` prints (python/vqlab_torch/agreement.py). */
interface Agreement {
  readonly cells: number;
  readonly identical: number;
  readonly near_ties: number;
  readonly different: number;
  readonly worst_gap: number;
}

/**
 * One run per quantizer, with the options whose arithmetic differs from the plain quantizer on
 * (projections, cosine codes, the rotation trick, orthogonal regularization, dead-code replacement,
 * quantize dropout), and the conv family once.
 */
const RUNS: readonly { readonly name: string; readonly args: readonly string[] }[] = [
  { name: 'vq', args: ['--quantizer', 'vq', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'codebookDim=8', '--quantizer-option', 'cosine=true', '--quantizer-option', 'rotationTrick=true', '--quantizer-option', 'orthogonalWeight=0.5', '--quantizer-option', 'deadCodeThreshold=1'] },
  { name: 'ema', args: ['--quantizer', 'ema', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'deadCodeShare=0.5'] },
  { name: 'simvq', args: ['--quantizer', 'simvq', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'optimize=both', '--quantizer-option', 'deadCodeThreshold=1'] },
  { name: 'fsq', args: ['--quantizer', 'fsq', '--dim', '16', '--quantizer-option', 'levels=8,5,5,5', '--model', 'conv'] },
  { name: 'lfq', args: ['--quantizer', 'lfq', '--codebook-size', '256', '--dim', '16'] },
  { name: 'residual', args: ['--quantizer', 'residual', '--codebook-size', '32', '--dim', '16', '--quantizer-option', 'base=simvq', '--quantizer-option', 'depth=3', '--quantizer-option', 'quantizeDropout=true'] },
];

const SMALL = ['--train-limit', '64', '--test-limit', '16', '--batch', '32', '--epochs', '1', '--threads', '1', '--quiet'];

describe('PyTorch bridge (python/vqlab_torch)', { skip }, () => {
  let dir: string | undefined;
  let digits: string[] = [];
  /** The folder of the run's files; `before` made it. */
  const runs = (): string => dir!;

  before(async () => {
    if (missing !== null) throw new Error(`CI=true but ${missing}; .ci/run installs python3-torch`);
    dir = tempDir('torch-bridge');
    ok(await runCli(['samples', '--out', join(dir, 'digits'), '--count', '64']), 'vqlab samples');
    digits = readdirSync(join(dir, 'digits')).filter((f) => f.endsWith('.png')).sort().map((f) => join(runs(), 'digits', f));
    assert.equal(digits.length, 64);
  });

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * vqlab's indices of the 64 digits compared with PyTorch's: every one identical, except where a
   * vector is equally far from two codes up to float32 rounding (a near-tie, which two
   * implementations of one network may break either way: agreement.py); those must stay rare.
   */
  async function encodeBoth(run: string): Promise<Agreement> {
    const file = `${run}-vqlab-encode.json`;
    ok(await runCli(['encode', run, ...digits, '--threads', '1', '--out', file]), 'vqlab encode');
    const grid = (JSON.parse(readFileSync(file, 'utf8')) as { grid: number[] }).grid;
    const r = await runPython('encode', [run, ...digits, '--compare', file]);
    const agreement = JSON.parse(r.stdout) as Agreement;
    assert.equal(agreement.cells, 64 * grid[0]! * grid[1]!);
    assert.equal(agreement.different, 0, `indices differ between vqlab and PyTorch for ${run}: ${r.stdout}`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(agreement.near_ties <= agreement.cells / 100, `${agreement.near_ties} near-ties of ${agreement.cells}`);
    assert.equal(agreement.identical + agreement.near_ties, agreement.cells);
    return agreement;
  }

  for (const { name, args } of RUNS) {
    it(`${name}: PyTorch encodes as vqlab; after 2 PyTorch steps vqlab verifies, encodes as PyTorch and resumes`, async () => {
      const run = join(runs(), name);
      ok(await runCli(['train', ...args, ...SMALL, '--out', run]), 'vqlab train');
      await encodeBoth(run);
      const before = resolveCheckpoint(run);

      const summary = JSON.parse(ok(await runPython('train', [run, '--steps', '2', '--log-every', '0']), 'vqlab_torch.train')) as { step: number; checkpoint: string };
      assert.equal(summary.step, 4, '2 steps of vqlab (64 images, batch 32) and 2 of PyTorch');
      const after = resolveCheckpoint(run);
      assert.notEqual(after, before, 'checkpoint.json names the new checkpoint');
      const trainer = JSON.parse(readFileSync(join(after, 'trainer-state.json'), 'utf8')) as { step: number; epoch: number };
      assert.deepEqual([trainer.epoch, trainer.step], [1, 4]);
      assert.notDeepEqual(readFileSync(join(after, 'model.safetensors')), readFileSync(join(before, 'model.safetensors')), 'the weights changed');
      assert.match(ok(await runCli(['verify', run]), 'vqlab verify'), /\(last\): intact/);
      await encodeBoth(run);

      const resumed = JSON.parse(ok(await runCli(['train', '--resume', run, '--epochs', '2', '--threads', '1', '--quiet']), 'vqlab train --resume')) as { steps: number };
      assert.equal(resumed.steps, 6, 'vqlab continued from step 4');
    });
  }

  it('the training script runs 2 data-parallel steps in 2 CPU processes (gloo) as one process would, and vqlab reads the result', async () => {
    // EMA with dead-code replacement: the processes must sum their code counts and EMA sums and
    // gather the vectors dead codes are re-seeded from, besides averaging gradients.
    const source = join(runs(), 'ema');
    const run = join(runs(), 'ema-ddp');
    const single = join(runs(), 'ema-one');
    cpSync(source, run, { recursive: true });
    cpSync(source, single, { recursive: true });
    const summary = JSON.parse(ok(await runPython('train', [run, '--steps', '2', '--nproc', '2', '--log-every', '0']), 'vqlab_torch.train --nproc 2')) as { processes: number; step: number };
    assert.equal(summary.processes, 2);
    assert.equal(summary.step, 8, 'the 6 steps of the ema run and 2 more');
    ok(await runPython('train', [single, '--steps', '2', '--log-every', '0']), 'vqlab_torch.train');
    const weights = (dir: string): Map<string, NamedTensor> => decodeSafetensors(readFileSync(join(resolveCheckpoint(dir), 'model.safetensors')), dir).tensors;
    const [two, one] = [weights(run), weights(single)];
    assert.deepEqual([...two.keys()], [...one.keys()]);
    for (const [name, { data }] of two) {
      const other = one.get(name)!.data;
      const worst = data.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i]!)), 0);
      assert.ok(worst < 1e-5, `${name}: 2 processes and 1 differ by up to ${worst}`);
    }
    assert.match(ok(await runCli(['verify', run]), 'vqlab verify'), /\(last\): intact/);
    await encodeBoth(run);
  });

  it('a changed index is reported as a difference, not a near-tie', async () => {
    const run = join(runs(), 'vq');
    const file = `${run}-changed.json`;
    ok(await runCli(['encode', run, ...digits, '--threads', '1', '--out', file]), 'vqlab encode');
    const encoded = JSON.parse(readFileSync(file, 'utf8')) as { codebook_size: number; images: { indices: number[][] }[] };
    const row = encoded.images[0]!.indices[0]!;
    row[0] = (row[0]! + 1) % encoded.codebook_size;
    writeFileSync(file, JSON.stringify(encoded));
    const r = await runPython('encode', [run, ...digits, '--compare', file]);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as Agreement).different, 1);
  });

  it('refuses a folder that is no checkpoint in one line', async () => {
    const r = await runPython('encode', [join(runs(), 'digits'), digits[0]!]);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^error: .*neither a run directory .* nor a checkpoint folder/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

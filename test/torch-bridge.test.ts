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
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { encodeWav16 } from '../src/audio/wav-encode.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSafetensors, type NamedTensor } from '../src/persistence/safetensors.js';
import { runCli, type CliResult } from './helpers/run-cli.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

const PYTHON = '/usr/bin/python3';
/** python/, holding the vqlab_torch package, from dist/test/ or test/. */
const PYTHON_PATH = fileURLToPath(new URL(`../${import.meta.url.includes('/dist/') ? '../' : ''}python`, import.meta.url));
/** 4 s of espeak-ng speech at 16 kHz (test/fixtures/audio). */
const SPEECH = fileURLToPath(new URL(`../${import.meta.url.includes('/dist/') ? '../' : ''}test/fixtures/audio/speech.ogg`, import.meta.url));

function missingTorch(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  return r.status === 0 ? null : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

const missing = missingTorch();
const skip = missing !== null && process.env.CI !== 'true' ? `PyTorch bridge test skipped: ${missing}` : false;

/** `python3 -m vqlab_torch.<module> ...args` with the package on the path, one thread per process. */
function runPython(module: string, args: readonly string[]): Promise<CliResult> {
  return runPythonWith(['-m', `vqlab_torch.${module}`, ...args]);
}

function runPythonWith(argv: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, argv, {
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

const PRE_NORM_STATE = ['quantizer.pre_norm.mean', 'quantizer.pre_norm.var'];

/**
 * One run per quantizer, with the options whose arithmetic differs from the plain quantizer on
 * (projections, cosine codes, the rotation trick, orthogonal regularization, dead-code replacement,
 * quantize dropout, the normalizations before LFQ and FSQ with batch statistics kept as state,
 * SimVQ's frozen random W), the options that only initialize (init 'unit', kmeansSamples), and
 * the conv family once.
 */
const RUNS: readonly {
  readonly name: string;
  readonly args: readonly string[];
  /** State that PyTorch's training steps update as vqlab's would (the running statistics of preNorm 'batch'). */
  readonly state?: readonly string[];
  /** Parameters that neither engine trains: saved unchanged, no optimizer state. */
  readonly frozen?: readonly string[];
}[] = [
  { name: 'vq', args: ['--quantizer', 'vq', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'codebookDim=8', '--quantizer-option', 'cosine=true', '--quantizer-option', 'init=unit', '--quantizer-option', 'rotationTrick=true', '--quantizer-option', 'orthogonalWeight=0.5', '--quantizer-option', 'deadCodeThreshold=1'] },
  { name: 'ema', args: ['--quantizer', 'ema', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'kmeansIters=2', '--quantizer-option', 'kmeansSamples=128', '--quantizer-option', 'deadCodeShare=0.5'] },
  { name: 'simvq', args: ['--quantizer', 'simvq', '--codebook-size', '64', '--dim', '16', '--quantizer-option', 'optimize=both', '--quantizer-option', 'deadCodeThreshold=1'] },
  { name: 'fsq', args: ['--quantizer', 'fsq', '--dim', '16', '--quantizer-option', 'levels=8,5,5,5', '--quantizer-option', 'preNorm=batch', '--model', 'conv'], state: PRE_NORM_STATE },
  { name: 'lfq', args: ['--quantizer', 'lfq', '--codebook-size', '256', '--dim', '16', '--quantizer-option', 'preNorm=batch'], state: PRE_NORM_STATE },
  // d = b: the normalized latent itself is quantized.
  { name: 'lfq-latent', args: ['--quantizer', 'lfq', '--codebook-size', '256', '--dim', '8', '--quantizer-option', 'preNorm=latent'] },
  { name: 'residual', args: ['--quantizer', 'residual', '--codebook-size', '32', '--dim', '16', '--quantizer-option', 'base=simvq', '--quantizer-option', 'optimize=C', '--quantizer-option', 'frozenW=random', '--quantizer-option', 'depth=3', '--quantizer-option', 'quantizeDropout=true'], frozen: [0, 1, 2].flatMap((s) => [`quantizer.stage${s}.proj.weight`, `quantizer.stage${s}.proj.bias`]) },
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

  const tensorsOf = (folder: string, file: string): Map<string, NamedTensor> => decodeSafetensors(readFileSync(join(folder, file)), folder).tensors;

  for (const { name, args, state = [], frozen = [] } of RUNS) {
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
      const [was, now] = [tensorsOf(before, 'model.safetensors'), tensorsOf(after, 'model.safetensors')];
      assert.deepEqual([...now.keys()], [...was.keys()], 'PyTorch saves the variables vqlab saved');
      assert.deepEqual([...tensorsOf(after, 'optimizer.safetensors').keys()], [...tensorsOf(before, 'optimizer.safetensors').keys()], 'Adam state for the variables vqlab trains, and only those');
      for (const variable of state) assert.notDeepEqual(now.get(variable)!.data, was.get(variable)!.data, `${variable} is updated by PyTorch's steps`);
      for (const variable of frozen) {
        assert.deepEqual(now.get(variable)!.data, was.get(variable)!.data, `${variable} stays frozen`);
        assert.ok(!tensorsOf(after, 'optimizer.safetensors').has(`opt.m.${variable}`), `${variable} has no optimizer state`);
        if (variable.endsWith('.weight')) assert.ok(now.get(variable)!.data.some((v) => v !== 0 && v !== 1), `${variable} is random, not the identity`);
      }
      assert.match(ok(await runCli(['verify', run]), 'vqlab verify'), /\(last\): intact/);
      await encodeBoth(run);

      const resumed = JSON.parse(ok(await runCli(['train', '--resume', run, '--epochs', '2', '--threads', '1', '--quiet']), 'vqlab train --resume')) as { steps: number };
      assert.equal(resumed.steps, 6, 'vqlab continued from step 4');
    });
  }

  /**
   * EMA with dead-code replacement: the processes must sum their code counts and EMA sums and
   * gather the vectors dead codes are re-seeded from, besides averaging gradients. FSQ with preNorm
   * 'batch': they standardize by the global batch's statistics (differentiable sums over the
   * processes) and update the running ones from them.
   */
  for (const name of ['ema', 'fsq']) {
    it(`the training script runs 2 data-parallel steps of ${name} in 2 CPU processes (gloo) as one process would, and vqlab reads the result`, async () => {
      const source = join(runs(), name);
      const run = join(runs(), `${name}-ddp`);
      const single = join(runs(), `${name}-one`);
      cpSync(source, run, { recursive: true });
      cpSync(source, single, { recursive: true });
      const summary = JSON.parse(ok(await runPython('train', [run, '--steps', '2', '--nproc', '2', '--log-every', '0']), 'vqlab_torch.train --nproc 2')) as { processes: number; step: number };
      assert.equal(summary.processes, 2);
      assert.equal(summary.step, 8, `the 6 steps of the ${name} run and 2 more`);
      ok(await runPython('train', [single, '--steps', '2', '--log-every', '0']), 'vqlab_torch.train');
      const weights = (dir: string): Map<string, NamedTensor> => decodeSafetensors(readFileSync(join(resolveCheckpoint(dir), 'model.safetensors')), dir).tensors;
      const [two, one] = [weights(run), weights(single)];
      assert.deepEqual([...two.keys()], [...one.keys()]);
      for (const [variable, { data }] of two) {
        const other = one.get(variable)!.data;
        const worst = data.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i]!)), 0);
        assert.ok(worst < 1e-5, `${variable}: 2 processes and 1 differ by up to ${worst}`);
      }
      assert.match(ok(await runCli(['verify', run]), 'vqlab verify'), /\(last\): intact/);
      await encodeBoth(run);
    });
  }

  it("preNorm 'batch' in PyTorch's training mode is BatchNorm without affine: the output, its gradient and the running statistics (momentum 0.1, unbiased variance)", async () => {
    // vqlab's own test (quantizer-pre-norm.test.ts) holds its graph to the same rule; here the
    // bridge's module is held to torch's batch_norm on the encoder outputs of the lfq run.
    const script = `
import sys, torch
import torch.nn.functional as F
from vqlab_torch import load_model
from vqlab_torch.png import read_png
model, _ = load_model(sys.argv[1])
x = torch.stack([read_png(p) for p in sys.argv[2:]])
z = model.encoder(x).permute(0, 2, 3, 1).reshape(-1, model.config.dim).detach()
norm = model.quantizer.pre_norm.train()
mean, var = norm.mean.clone(), norm.var.clone()
assert not torch.equal(var, torch.ones_like(var)), "vqlab's steps moved the running variance"
a, b = z.clone().requires_grad_(), z.clone().requires_grad_()
ours = norm(a)
theirs = F.batch_norm(b, mean, var, training=True, momentum=0.1, eps=1e-5)
upstream = torch.randn(ours.shape, generator=torch.Generator().manual_seed(0))
(ours * upstream).sum().backward()
(theirs * upstream).sum().backward()
worst = max(float((ours - theirs).abs().max()), float((a.grad - b.grad).abs().max()) / float(b.grad.abs().max()),
            float((norm.mean - mean).abs().max()), float((norm.var - var).abs().max() / var.abs().max()))
print(worst)
`;
    const worst = Number(ok(await runPythonWith(['-c', script, join(runs(), 'lfq'), ...digits.slice(0, 8)]), 'the batch-norm check').trim());
    assert.ok(worst < 1e-5, `PyTorch's preNorm 'batch' differs from batch_norm by ${worst}`);
  });

  it('seanet: a SEANet + SimVQ checkpoint loads in PyTorch and encodes two WAV clips (whole windows and a zero-padded one) to the indices vqlab encode gives; the benchmark twin runs on it', async () => {
    const data = join(runs(), 'speech');
    mkdirSync(data);
    for (let i = 0; i < 4; i++) copyFileSync(SPEECH, join(data, `utt${i}.ogg`));
    const clip = (await readAudioFile(SPEECH)).samples;
    const wavs = [join(runs(), 'clip.wav'), join(runs(), 'short.wav')];
    writeFileSync(wavs[0]!, encodeWav16(clip, 16000));
    writeFileSync(wavs[1]!, encodeWav16(clip.subarray(5000, 9000), 16000));
    const run = join(runs(), 'seanet');
    // k-means codes from the first batch (kmeansIters), so that the clip's windows use several codes:
    // a SimVQ this small otherwise codes nearly every frame with one.
    ok(await runCli(['train', '--data', data, '--model', 'seanet', '--channels', '4', '--strides', '2,4,5', '--dilations', '1,3', '--crop-samples', '3200',
      '--quantizer', 'simvq', '--codebook-size', '64', '--dim', '8', '--quantizer-option', 'kmeansIters=5', '--batch', '1', '--epochs', '2', '--threads', '1', '--quiet', '--out', run]), 'vqlab train (seanet)');
    const file = `${run}-vqlab-encode.json`;
    ok(await runCli(['encode', run, ...wavs, '--threads', '1', '--out', file]), 'vqlab encode');
    const theirs = JSON.parse(ok(await runPython('encode', [run, ...wavs]), 'vqlab_torch.encode')) as Record<string, unknown>;
    const ours = JSON.parse(readFileSync(file, 'utf8')) as { sequences: { indices: number[] }[] } & Record<string, unknown>;
    assert.equal(new Set(ours.sequences[0]!.indices).size > 1, true, 'the codes vary along the clip');
    const r = await runPython('encode', [run, ...wavs, '--compare', file]);
    const agreement = JSON.parse(r.stdout) as Agreement;
    assert.equal(agreement.cells, (Math.ceil(clip.length / 3200) + Math.ceil(4000 / 3200)) * 80, '80 codes per window of 3,200 samples at hop 40');
    assert.equal(agreement.different, 0, r.stdout);
    assert.ok(agreement.near_ties <= agreement.cells / 100, r.stdout);
    if (agreement.near_ties === 0) assert.deepEqual(theirs, ours, 'PyTorch prints the JSON vqlab encode writes');

    // The benchmark's twin (npm run bench -- audio): one batch of the clip's first two windows, vqlab's indices of it compared.
    const batches = join(runs(), 'batches.f32');
    const indices = join(runs(), 'indices.i32');
    const windows = clip.slice(0, 2 * 3200);
    writeFileSync(batches, new Uint8Array(windows.buffer));
    writeFileSync(indices, new Uint8Array(Int32Array.from(ours.sequences[0]!.indices.slice(0, 160)).buffer));
    const timed = JSON.parse(ok(await runPython('bench', [run, '--batches', batches, '--batch', '2', '--steps', '1', '--warmup', '0', '--indices', indices]), 'vqlab_torch.bench')) as
      { loss: string; train_step_s: number; encode_batch_s: number; agreement: Agreement };
    assert.equal(timed.loss, 'l1', "the run's reconstruction term");
    assert.equal(timed.agreement.cells, 160);
    assert.equal(timed.agreement.different, 0, JSON.stringify(timed.agreement));
    assert.ok(Number.isFinite(timed.train_step_s) && Number.isFinite(timed.encode_batch_s), JSON.stringify(timed));
    const training = await runPython('train', [run, '--steps', '1']);
    assert.equal(training.code, 1);
    assert.match(training.stderr, /is an audio model; this package loads and encodes it .* but trains only image models/);
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

test('npm pack ships every file of python/vqlab_torch and no Python bytecode', () => {
  const repo = dirname(PYTHON_PATH);
  // A stray bytecode cache, as running the bridge leaves one, must stay out of the package.
  const cache = join(PYTHON_PATH, 'vqlab_torch', '__pycache__');
  const made = !existsSync(cache);
  const stray = join(cache, 'vqlab-test-stray.cpython-311.pyc');
  mkdirSync(cache, { recursive: true });
  writeFileSync(stray, '');
  try {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const sources = (dir: string): string[] => readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (e.name === '__pycache__' ? [] : sources(`${dir}/${e.name}`)) : [`${dir}/${e.name}`]);
    const shipped = files.filter((f) => f.startsWith('python/')).sort();
    assert.deepEqual(shipped, sources('python/vqlab_torch').sort());
    assert.ok(shipped.includes('python/vqlab_torch/train.py'));
  } finally {
    rmSync(made ? cache : stray, { recursive: true, force: true });
  }
});

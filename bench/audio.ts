/**
 * Audio benchmark (issue #23): seconds of speech trained per second of wall time (a full training
 * step of the trainer: forward, backward and Adam in one session.run, then the quantizer's host
 * step) and seconds of speech encoded per second (waveform → indices, the exported encoder graph),
 * for the default SEANet (src/models/seanet.ts: C = 32, strides 2·4·5·8, hop 320, dilations 1·3·9)
 * with SimVQ at K = 4,096, d = 64 on 16 kHz speech, batch 8 of 1-second crops, the L1 loss of a
 * speech run, at 2 ORT threads. Each figure is the audio of a batch over the median time of 5 runs
 * after 2 of warm-up, on crops of the 4-second espeak-ng clip of test/fixtures/audio.
 *
 * The PyTorch figures are the same model as its PyTorch twin (python/vqlab_torch, the `seanet`
 * family): `vqlab_torch.bench` loads a checkpoint this benchmark writes with `trainModel` (one step
 * on copies of the clip), then times its training step (vqlab's Adam, the run's L1 term) and its
 * encoding on the very batches vqlab ran, at 1 and at 2 threads; the faster is reported, as `bench
 * -- train` does. `torch_indices_identical` is the share of the first batch's indices the twin gives
 * exactly as vqlab's encoder (the rest are float32 near-ties or differences, counted apart), so the
 * two time the same network. The PyTorch keys are left out when no python3 imports torch.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { Rng } from '../src/init/rng.js';
import { buildModel } from '../src/models/config.js';
import { speechLosses } from '../src/modality/audio/speech-losses.js';
import { Adam } from '../src/optim/adam.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { VariableStore } from '../src/runtime/variables.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { createAutoencoderStep, runAutoencoderStep } from '../src/train/autoencoder-step.js';
import { trainModel } from '../src/train/train.js';
import { round, timeMedian } from './stats.js';

const SAMPLE_RATE = 16000;
const CROP = 16000;
const BATCH = 8;
const CODEBOOK_SIZE = 4096;
const DIM = 64;
const THREADS = 2;
const RUNS = 5;
const WARMUP = 2;
/** Distinct batches the timed steps cycle through. */
const BATCHES = 3;
const SPEECH = resolve('test/fixtures/audio/speech.ogg');
const PYTHON_PATH = resolve('python');

/** `count` batches of BATCH crops of CROP samples at seeded offsets of `clip`, one after another. */
function cropBatches(clip: Float32Array, count: number): Float32Array {
  const rng = new Rng(7);
  const out = new Float32Array(count * BATCH * CROP);
  for (let i = 0; i < count * BATCH; i++) {
    const start = Math.floor(rng.uniform() * (clip.length - CROP));
    out.set(clip.subarray(start, start + CROP), i * CROP);
  }
  return out;
}

/** A vqlab run of the benchmark's model, trained one step, with everything its twin loads (weights, Adam state, trainer state). */
async function writeRun(dir: string): Promise<string> {
  const data = join(dir, 'speech');
  mkdirSync(data);
  // BATCH + 1 copies: the fixed split holds the last out, and the rest make one batch.
  for (let i = 0; i <= BATCH; i++) {
    copyFileSync(SPEECH, join(data, `utt${String(i).padStart(2, '0')}.ogg`));
  }
  const out = join(dir, 'run');
  await trainModel({
    quantizer: resolveQuantizerConfig('simvq', { codebookSize: CODEBOOK_SIZE, dim: DIM }),
    modality: 'audio', model: 'seanet', sampleRate: SAMPLE_RATE, cropSamples: CROP,
    lr: 3e-4, batch: BATCH, epochs: 1, seed: 0, threads: THREADS, out, data, evaluateEachEpoch: false,
  });
  return out;
}

interface TwinResult {
  readonly threads: number;
  readonly train_step_s: number;
  readonly encode_batch_s: number;
  readonly agreement?: { readonly cells: number; readonly identical: number; readonly near_ties: number; readonly different: number };
}

function findPython(): string | undefined {
  // Debian's interpreter first: the python3-torch package installs there.
  return ['/usr/bin/python3', 'python3'].find((python) => {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      return true;
    } catch {
      return false;
    }
  });
}

function runTwin(python: string, run: string, batchesFile: string, indicesFile: string, threads: number): TwinResult {
  const out = execFileSync(
    python,
    ['-m', 'vqlab_torch.bench', run, '--batches', batchesFile, '--batch', String(BATCH), '--steps', String(RUNS), '--warmup', String(WARMUP), '--threads', String(threads), '--indices', indicesFile],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_PATH, OMP_NUM_THREADS: String(threads), PYTHONDONTWRITEBYTECODE: '1' }, timeout: 30 * 60_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as TwinResult;
}

export async function benchAudio(): Promise<Record<string, number | string>> {
  const clip = (await readAudioFile(SPEECH)).samples;
  const batches = cropBatches(clip, BATCHES);
  const batchSeconds = (BATCH * CROP) / SAMPLE_RATE;
  const dir = mkdtempSync(join(tmpdir(), 'vqlab-bench-audio-'));
  try {
    const run = await writeRun(dir);
    const tokenizer = await Tokenizer.load(run, { batch: BATCH, threads: THREADS });
    const config = tokenizer.config;
    const first = batches.subarray(0, BATCH * CROP);
    const encodeMs = await timeMedian(() => tokenizer.encode(first), RUNS, WARMUP);
    const indices = await tokenizer.encode(first);
    await tokenizer.release();

    const model = buildModel(config);
    const step = await createAutoencoderStep({ model, store: new VariableStore(0), optimizer: new Adam(), batch: BATCH, threads: THREADS, reconstructionLoss: speechLosses.l1!(config) });
    let next = 0;
    const trainMs = await timeMedian(() => runAutoencoderStep(step, batches.subarray((next % BATCHES) * BATCH * CROP, ((next++ % BATCHES) + 1) * BATCH * CROP), 3e-4), RUNS, WARMUP);
    await step.program.release();

    const result: Record<string, number | string> = {
      model: `seanet C=32 strides 2,4,5,8 (hop 320) + simvq K=${CODEBOOK_SIZE} d=${DIM}, ${SAMPLE_RATE} Hz, batch ${BATCH} x ${CROP} samples, l1, ${THREADS} ORT threads`,
      train_audio_s_per_s: round(batchSeconds / (trainMs / 1000), 3),
      encode_audio_s_per_s: round(batchSeconds / (encodeMs / 1000), 2),
      train_step_ms: round(trainMs, 1),
      encode_batch_ms: round(encodeMs, 1),
    };

    const python = findPython();
    if (python === undefined) {
      process.stderr.write('bench audio: no python3 with torch; PyTorch keys left out\n');
      return result;
    }
    const batchesFile = join(dir, 'batches.f32');
    const indicesFile = join(dir, 'indices.i32');
    writeFileSync(batchesFile, new Uint8Array(batches.buffer, batches.byteOffset, batches.byteLength));
    writeFileSync(indicesFile, new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength));
    const twins = [1, 2].map((threads) => runTwin(python, run, batchesFile, indicesFile, threads));
    const trainBest = twins.reduce((a, b) => (b.train_step_s < a.train_step_s ? b : a));
    const encodeBest = twins.reduce((a, b) => (b.encode_batch_s < a.encode_batch_s ? b : a));
    const agreement = twins[0]!.agreement!;
    const torchTrain = batchSeconds / trainBest.train_step_s;
    const torchEncode = batchSeconds / encodeBest.encode_batch_s;
    return {
      ...result,
      torch_train_audio_s_per_s: round(torchTrain, 3),
      torch_encode_audio_s_per_s: round(torchEncode, 2),
      torch_train_threads: trainBest.threads,
      torch_encode_threads: encodeBest.threads,
      vs_torch_train: round(Number(result.train_audio_s_per_s) / torchTrain, 2),
      vs_torch_encode: round(Number(result.encode_audio_s_per_s) / torchEncode, 2),
      torch_indices_identical: round(agreement.identical / agreement.cells, 4),
      torch_indices_near_ties: agreement.near_ties,
      torch_indices_different: agreement.different,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

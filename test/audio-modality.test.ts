/**
 * The audio modality: SEANet configs (saved and read back; image configs unchanged), speech sources
 * and their fixed split, seeded crops, per-utterance metrics over windows, a short training run on
 * a few seconds of speech (test/fixtures/audio) that lowers the loss, and `vqlab encode` → `vqlab
 * decode` through the CLI back to a WAV of the clip's length; named sets that are not installed and
 * files that are not audio are refused in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '../src/audio/wav-decode.js';
import { readAudioFile } from '../src/audio/read-audio-file.js';
import { melDistance } from '../src/audio/metrics/mel-distance.js';
import { Graph } from '../src/graph/graph.js';
import { makeModelConfig, parseModelConfig, ModelConfigError } from '../src/models/config.js';
import { audioModality } from '../src/modality/audio/audio-modality.js';
import { L1_TIME_WEIGHT, MEL_WEIGHT } from '../src/modality/audio/speech-losses.js';
import { speechMetrics } from '../src/modality/audio/speech-metrics.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { cropInto, makeSpeechSet, windowValues } from '../src/modality/audio/speech-set.js';
import { isSpeechSource, speechSource, splitFiles } from '../src/modality/audio/speech-sources.js';
import { modalityOf } from '../src/modality/registry.js';
import { resolveQuantizerConfig } from '../src/quantizers/index.js';
import { trainModel } from '../src/train/train.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { runCli } from './helpers/run-cli.js';

// dist/test/… → the repository's test/fixtures/audio.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio');
const speech = join(fixtures, 'speech.ogg');

/** A SEANet small enough for tests: 4 channels, hop 4·5·8 = 160, one residual unit per resolution. */
const SMALL_SEANET = { channels: 4, strides: [4, 5, 8], dilations: [1] };

/** A folder of `n` copies of the 4-second speech fixture (Ogg Vorbis, 16 kHz), in nested folders. */
function speechFolder(n: number): string {
  const dir = tempDir('speech');
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `speaker${i % 2}`);
    mkdirSync(sub, { recursive: true });
    copyFileSync(speech, join(sub, `utt${i}.ogg`));
  }
  return dir;
}

test('an audio SEANet config is saved with its modality and input and read back; image configs keep their keys; mismatches are refused', () => {
  const quantizer = resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 });
  const config = makeModelConfig({ modality: 'audio', model: 'seanet', input: { sampleRate: 16000, channels: 1, samples: 3200 }, quantizer, seanet: SMALL_SEANET });
  assert.equal(config.modality, 'audio');
  assert.deepEqual(config.input, { sampleRate: 16000, channels: 1, samples: 3200 });
  assert.deepEqual(parseModelConfig(JSON.parse(JSON.stringify(config)), 'config.json'), config);
  assert.equal(modalityOf(config).name, 'audio');

  const image = makeModelConfig({ model: 'conv', input: { channels: 1, height: 28, width: 28 }, quantizer });
  assert.deepEqual(Object.keys(image), ['format', 'version', 'input', 'architecture', 'quantizer'], 'no modality key for images');
  assert.deepEqual(Object.keys(image.input), ['channels', 'height', 'width']);

  assert.throws(() => makeModelConfig({ modality: 'audio', model: 'seanet', input: { sampleRate: 16000, channels: 1, samples: 3000 }, quantizer, seanet: SMALL_SEANET }), /multiple of the hop 160/);
  assert.throws(() => makeModelConfig({ modality: 'audio', model: 'conv', input: { sampleRate: 16000, channels: 1, samples: 3200 }, quantizer }), /unknown model 'conv'; choose one of seanet$/);
  assert.throws(() => makeModelConfig({ model: 'seanet', input: { channels: 1, height: 28, width: 28 }, quantizer }), /unknown model 'seanet'; choose one of reference-mnist, conv$/);
  const saved = JSON.parse(JSON.stringify(config)) as { input: Record<string, unknown> };
  saved.input.channels = 2;
  assert.throws(() => parseModelConfig(saved, 'x/config.json'), (err: Error) => err instanceof ModelConfigError && /x\/config.json: input.channels must be an integer from 1 to 1, got 2/.test(err.message));
});

test('speech folders split by file, every 20th in sorted order (the last of fewer) held out; named sets not installed are refused in one line', () => {
  const dir = speechFolder(3);
  assert.ok(isSpeechSource(dir));
  const source = speechSource(dir);
  assert.equal(source.files.length, 3, 'found recursively');
  assert.deepEqual(splitFiles(source, 'test').map((f) => f.slice(dir.length)), ['/speaker1/utt1.ogg'], 'the last in sorted order (speaker0/utt0, speaker0/utt2, speaker1/utt1)');
  assert.equal(splitFiles(source, 'train').length, 2);

  const many = { name: 'many', root: '/', files: Array.from({ length: 45 }, (_, i) => ({ path: `/u${String(i).padStart(2, '0')}.wav`, unit: `u${String(i).padStart(2, '0')}` })) };
  assert.deepEqual(splitFiles(many, 'test'), ['/u19.wav', '/u39.wav']);

  const missing = { 'no-such-voice': { description: '', debianPackage: 'vqlab-no-such-package', keep: () => true, unit: (p: string) => p } };
  assert.throws(() => speechSource('no-such-voice', missing), (err: Error) => !err.message.includes('\n') && /not installed.*install it with: apt-get install -y vqlab-no-such-package/.test(err.message));
  assert.throws(() => speechSource(join(dir, 'nothing-here')), /does not exist; give a folder of WAV\/Ogg files or one of the sets festvox-ru, fillets-cs, fillets-nl/);
  const one = tempDir('one-clip');
  copyFileSync(speech, join(one, 'a.ogg'));
  assert.throws(() => speechSource(one), /holds 1 audio file .*needs at least 2/);
});

test('festvox-ru, where installed, is 620 utterances split 589 / 31', { skip: !existsSync('/usr/share/festival/voices/russian') && 'festvox-ru is not installed' }, () => {
  const source = speechSource('festvox-ru');
  assert.equal(source.files.length, 620);
  assert.equal(splitFiles(source, 'test').length, 31);
  assert.equal(splitFiles(source, 'train').length, 589);
});

test('crops depend on (seed, epoch, utterance) alone; windows cover each utterance and metrics put it back together', async () => {
  const clip = await readAudioFile(speech);
  const utterances = [clip.samples, clip.samples.subarray(0, 5000)];
  const crops = makeSpeechSet({ name: 't', kind: 'crops', sampleRate: 16000, utterances, files: ['a', 'b'], exampleSamples: 3200 });
  assert.equal(crops.count, 2);
  const a = new Float32Array(3200), b = new Float32Array(3200), c = new Float32Array(3200);
  cropInto(crops, 7, 0, 3, a);
  cropInto(crops, 7, 0, 3, b);
  cropInto(crops, 7, 0, 4, c);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c, 'another epoch, another crop');

  const windows = makeSpeechSet({ ...crops, kind: 'windows' });
  assert.equal(windows.count, Math.ceil(clip.samples.length / 3200) + 2);
  const values = windowValues(windows);
  const config = audioModality.modelConfig(windows, { model: 'seanet', quantizer: resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 }), seanet: SMALL_SEANET });
  for (const batch of [1, 3, windows.count]) {
    const metrics = speechMetrics(windows, { tokensPerSecond: 100, codebookSize: 16 }, { slow: true });
    for (let start = 0; start < windows.count; start += batch) {
      const n = Math.min(batch, windows.count - start);
      metrics.add(values.subarray(start * 3200, (start + n) * 3200), values.subarray(start * 3200, (start + n) * 3200), n);
    }
    const r = await metrics.result();
    assert.equal(r.mse, 0);
    assert.equal(r.si_snr, 100, 'identical: +∞ dB, clamped');
    assert.equal(r.mel_distance, 0);
    assert.ok(Math.abs(r.stoi - 1) < 1e-6);
    assert.equal(r.bitrate, 400, '100 tokens/s × log2 16');
  }
  assert.equal(audioModality.valuesFor(windows, config).length, windows.count * 3200);
});

test('a short SEANet + SimVQ run on a few seconds of speech lowers the loss and reports the speech metrics', async () => {
  const data = speechFolder(3);
  const out = join(tempDir('speech-run'), 'run');
  const progress: string[] = [];
  const summary = await trainModel({
    quantizer: resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 }),
    modality: 'audio', model: 'seanet', seanet: SMALL_SEANET, cropSamples: 3200,
    lr: 3e-3, batch: 2, epochs: 12, seed: 1, threads: 1, out, data, progress: true,
  }, { progressSink: { write: (text: string) => progress.push(text), isTTY: false } });
  const losses = summary.history.map((r) => r.loss.total);
  assert.ok(losses.at(-1)! < 0.7 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
  const test = summary.last!.test!;
  for (const key of ['mse', 'si_snr', 'mel_distance', 'stoi', 'bitrate', 'utilization', 'perplexity', 'dead_codes']) assert.ok(key in test, key);
  assert.equal(test.tokens_per_second, 100, '16 kHz / hop 160');
  const log = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(log.length, 12);
  // Throughput is seconds of audio per second: 2 crops of 0.2 s a step.
  const first = JSON.parse(log[0]!) as Record<string, number>;
  assert.ok(!('img_per_s' in first), 'an audio run logs no images per second');
  assert.ok(first.audio_seconds_per_s! > 0);
  assert.match(progress.join(''), /step 1\/1 .* [\d.]+ s audio\/s/);
});

test("loss 'l1+mel' is 0.1 × the time-domain L1 plus the mean mel distance of the batch (EnCodec's weights), at the model's sample rate", async () => {
  const clip = (await readAudioFile(speech)).samples;
  const t = 8000;
  const config = makeModelConfig({ modality: 'audio', model: 'seanet', input: { sampleRate: 16000, channels: 1, samples: t }, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 }), seanet: SMALL_SEANET });
  const target = Float32Array.from(clip.subarray(10000, 10000 + 2 * t));
  const recon = Float32Array.from(clip.subarray(20000, 20000 + 2 * t), (v, i) => 0.8 * v + 0.01 * Math.sin(i));
  const g = new Graph();
  const [a, b] = [g.input('recon', [2, 1, 1, t]), g.input('target', [2, 1, 1, t])];
  const compiled = await CompiledGraph.create(g, { loss: audioModality.losses['l1+mel']!(config)(a, b) }, { threads: 1 });
  const got = ((await compiled.run({ recon, target })).loss as Float32Array)[0]!;
  await compiled.release();
  let l1 = 0;
  for (let i = 0; i < target.length; i++) l1 += Math.abs(recon[i]! - target[i]!);
  const mel = (melDistance(target.subarray(0, t), recon.subarray(0, t), 16000) + melDistance(target.subarray(t), recon.subarray(t), 16000)) / 2;
  const expected = L1_TIME_WEIGHT * (l1 / target.length) + MEL_WEIGHT * mel;
  assert.ok(Math.abs(got - expected) < 1e-4 * expected, `${got} against ${expected}`);
});

test("a SEANet + SimVQ run with --loss l1+mel lowers its loss, records the loss in trainer-state.json and refuses a resume with another", async () => {
  const data = speechFolder(3);
  const out = join(tempDir('speech-mel-run'), 'run');
  const options = {
    quantizer: resolveQuantizerConfig('simvq', { codebookSize: 16, dim: 8 }),
    modality: 'audio' as const, model: 'seanet', seanet: SMALL_SEANET, cropSamples: 3200, loss: 'l1+mel',
    lr: 3e-3, batch: 2, epochs: 12, seed: 1, threads: 1, out, data,
  };
  const summary = await trainModel(options);
  const losses = summary.history.map((r) => r.loss.total);
  assert.ok(losses.every(Number.isFinite), losses.join(', '));
  assert.ok(losses.at(-1)! < 0.7 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
  const state = JSON.parse(readFileSync(join(resolveCheckpoint(out), 'trainer-state.json'), 'utf8')) as { loss?: string };
  assert.equal(state.loss, 'l1+mel');
  const resumed = await runCli(['train', '--resume', out, '--loss', 'l1', '--epochs', '13', '--threads', '1', '--quiet']);
  assert.notEqual(resumed.code, 0);
  assert.match(resumed.stderr, /loss l1 vs l1\+mel in the checkpoint/);
  const unknown = await runCli(['train', '--model', 'seanet', '--data', data, '--loss', 'mel', '--out', join(out, '..', 'none')]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /--loss must be one of l1, l1\+mel, got 'mel'/);
});

test('vqlab encode → vqlab decode round-trips a clip through the CLI to a 16-bit WAV of its length; bad files and sets are refused in one line', async () => {
  const data = speechFolder(2);
  const run = join(tempDir('speech-cli'), 'run');
  const trained = await runCli(['train', '--data', data, '--model', 'seanet', '--channels', '4', '--strides', '4,5,8', '--dilations', '1', '--crop-samples', '3200',
    '--codebook-size', '16', '--dim', '8', '--batch', '1', '--epochs', '1', '--threads', '1', '--out', run, '--quiet']);
  assert.equal(trained.code, 0, trained.stderr);
  assert.ok(existsSync(join(run, 'recon.wav')), 'the preview of eval is a WAV');
  const codes = join(run, 'codes.json');
  const encoded = await runCli(['encode', run, speech, '--out', codes, '--threads', '1']);
  assert.equal(encoded.code, 0, encoded.stderr);
  const json = JSON.parse(readFileSync(codes, 'utf8')) as { sequences: { length: number; indices: number[] }[] };
  const samples = (await readAudioFile(speech)).samples.length;
  assert.equal(json.sequences[0]!.length, samples);
  assert.equal(json.sequences[0]!.indices.length, Math.ceil(samples / 3200) * 20, '20 codes per window of 3,200 samples');
  const outDir = join(run, 'decoded');
  const decoded = await runCli(['decode', run, codes, '--out', outDir, '--threads', '1']);
  assert.equal(decoded.code, 0, decoded.stderr);
  const wavFile = decoded.stdout.trim();
  assert.equal(wavFile, join(outDir, 'speech.decoded.wav'));
  const wav = decodeWav(readFileSync(wavFile), wavFile);
  assert.equal(wav.sampleRate, 16000);
  assert.equal(wav.samples.length, samples);

  const notAudio = join(run, 'notes.wav');
  writeFileSync(notAudio, 'these are not samples');
  const refused = await runCli(['encode', run, notAudio]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /notes\.wav is neither WAV nor Ogg Vorbis/);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);

  json.sequences[0]!.indices[3] = 16;
  writeFileSync(codes, JSON.stringify(json));
  const badIndex = await runCli(['decode', run, codes, '--out', join(run, 'bad')]);
  assert.match(badIndex.stderr, /index 16 at position 3; indices are integers from 0 to 15/);
  assert.ok(!existsSync(join(run, 'bad')), 'a refused decode leaves no folder');

  const noData = await runCli(['train', '--model', 'seanet', '--out', join(run, 'none')]);
  assert.match(noData.stderr, /audio has no bundled data set; pass --data/);
  assert.equal(noData.stderr.trim().split('\n').length, 1, noData.stderr);
});

/**
 * The audio modality: mono speech at the model's sample rate, as a one-row signal [1, 1, samples]
 * at the model seam, from folders of WAV/Ogg files or the Debian speech sets (speech-sources.ts);
 * the 'seanet' family of models/; time-domain L1 as the reconstruction loss, or L1 beside the
 * multi-resolution log-mel loss (speech-losses.ts); SI-SNR, mel
 * distance and STOI per utterance as metrics; WAV and Ogg Vorbis files as encoder input and 16-bit
 * WAV as decoder output.
 *
 * A model's example is `input.samples` long: a random crop of an utterance in training, a window of
 * one in evaluation, encoding and decoding (speech-set.ts), so whole utterances of any length are
 * coded by a model compiled for one length.
 */
import { BatchIterator } from '../../data/index.js';
import { DataError } from '../../data/errors.js';
import { checkAudioSamples } from '../../audio/audio-limits.js';
import { readAudioFile, readAudioFileHeader } from '../../audio/read-audio-file.js';
import { resample } from '../../audio/resample.js';
import { encodeWav16 } from '../../audio/wav-encode.js';
import { AUDIO_MODEL_KINDS, audioInputOf, buildModel, makeModelConfig, type ModelConfig } from '../../models/config.js';
import { clampToSigned } from '../../models/forward.js';
import type { Modality } from '../modality.js';
import { loadSpeechSplit } from './load-speech.js';
import { speechLosses } from './speech-losses.js';
import { describeSpeechMetrics, speechMetrics } from './speech-metrics.js';
import { cropInto, windowValues, type SpeechSet } from './speech-set.js';
import { describeSpeechSets, isSpeechSource } from './speech-sources.js';

/** The sample rate of a new model: 16 kHz, the rate of festvox-ru and of most speech corpora. */
const DEFAULT_SAMPLE_RATE = 16000;
/** Samples of a training crop of a new model: one second at 16 kHz, 50 frames at SEANet's default hop of 320. */
const DEFAULT_CROP_SAMPLES = 16000;
/**
 * Samples of one evaluation run (32 one-second windows at 16 kHz): a default SEANet's widest
 * full-rate activation is then 32 channels × 2¹⁹ samples, 64 MiB of float32.
 */
const EVAL_BATCH_SAMPLES = 2 ** 19;
/** Silence between the clips of the preview, in seconds. */
const PREVIEW_GAP_SECONDS = 0.25;

/** Codes per second of audio and K, from the model a config builds. */
function codeRate(config: ModelConfig): { tokensPerSecond: number; codebookSize: number } {
  const model = buildModel(config);
  const { sampleRate, samples } = audioInputOf(config);
  return { tokensPerSecond: (model.latent.height * model.latent.width * model.quantizer.depth * sampleRate) / samples, codebookSize: model.quantizer.codebookSize };
}

function requireSource(path: string | null | undefined): string {
  if (path === undefined || path === null) {
    throw new DataError(`audio has no bundled data set; pass --data with a folder of WAV/Ogg files or one of: ${describeSpeechSets()}`);
  }
  return path;
}

export const audioModality: Modality<SpeechSet> = {
  name: 'audio',
  examples: 'utterances',

  dataHelp: `speech: a folder of WAV/Ogg files (recursive), or a set: ${describeSpeechSets()}`,
  recognizesData: isSpeechSource,
  requestProblem: () => undefined,
  async loadRunData(r) {
    const data = requireSource(r.path);
    const input = r.config !== undefined ? audioInputOf(r.config) : undefined;
    const sampleRate = input?.sampleRate ?? r.sampleRate ?? DEFAULT_SAMPLE_RATE;
    const exampleSamples = input?.samples ?? r.cropSamples ?? DEFAULT_CROP_SAMPLES;
    const common = { data, sampleRate, exampleSamples, limits: r.limits };
    const train = await loadSpeechSplit({ ...common, split: 'train', kind: 'crops', limit: r.trainLimit });
    const test = await loadSpeechSplit({ ...common, split: 'test', kind: 'windows', limit: r.testLimit });
    return { train, test, path: data };
  },
  loadEvalSet(r) {
    const { sampleRate, samples } = audioInputOf(r.config);
    return loadSpeechSplit({ data: requireSource(r.path), split: r.split, kind: 'windows', sampleRate, exampleSamples: samples, limit: r.limit, limits: r.limits });
  },
  testSetProblem: (test) => (test.utterances.length === 0 ? `the test set ${test.name} holds no utterances` : undefined),
  batches(set, batchSize, seed, options) {
    // Rows are made on demand (cropInto); the iterator only needs their shape and count.
    const rows = { name: set.name, count: set.count, channels: 1, height: 1, width: set.exampleSamples, images: new Float32Array(0) };
    return new BatchIterator(rows, batchSize, seed, { ...options, makeRow: (index, epoch, into) => cropInto(set, seed, index, epoch, into) });
  },
  valuesFor(set, config) {
    const { sampleRate, samples } = audioInputOf(config);
    if (set.sampleRate !== sampleRate || set.exampleSamples !== samples) {
      throw new Error(`speech set ${set.name} is at ${set.sampleRate} Hz in windows of ${set.exampleSamples} samples but the model takes ${samples} samples at ${sampleRate} Hz`);
    }
    if (set.kind !== 'windows') throw new Error(`speech set ${set.name} holds training crops, drawn afresh each epoch; evaluate its windows (loadEvalSet)`);
    if (set.count < 1) throw new Error('cannot evaluate on an empty speech set');
    return windowValues(set);
  },

  modelKinds: AUDIO_MODEL_KINDS,
  defaultModel: AUDIO_MODEL_KINDS[0]!,
  modelConfig: (set, choice) => makeModelConfig({ ...choice, modality: 'audio', input: { sampleRate: set.sampleRate, channels: 1, samples: set.exampleSamples } }),
  exampleDims: (config) => [1, 1, audioInputOf(config).samples],
  maxEvalBatch: (config) => Math.max(1, Math.floor(EVAL_BATCH_SAMPLES / audioInputOf(config).samples)),
  throughput: { key: 'audio_seconds_per_s', unit: 's audio/s', perExample: (config) => audioInputOf(config).samples / audioInputOf(config).sampleRate },
  signalName: 'audio',
  validOutput: clampToSigned,

  losses: speechLosses,
  defaultLoss: 'l1',

  metrics: (config, options, set) => speechMetrics(set, codeRate(config), options),
  describeMetrics: describeSpeechMetrics,

  checkInputFile: (file, limits) => checkAudioSamples(readAudioFileHeader(file), file, limits),
  async readInput(file, config, _fit, limits) {
    const clip = await readAudioFile(file, limits);
    return resample(clip.samples, clip.sampleRate, audioInputOf(config).sampleRate);
  },
  sequence: true,
  withExampleLength: (config, samples) => ({ ...config, input: { ...audioInputOf(config), samples } }),
  outputExtension: '.wav',
  encodeOutput: (values, config) => encodeWav16(values, audioInputOf(config).sampleRate),
  preview(originals, reconstructions, count, config) {
    const { sampleRate, samples } = audioInputOf(config);
    const gap = Math.round(PREVIEW_GAP_SECONDS * sampleRate);
    const out = new Float32Array(count * 2 * (samples + gap));
    for (let i = 0; i < count; i++) {
      out.set(originals.subarray(i * samples, (i + 1) * samples), 2 * i * (samples + gap));
      out.set(reconstructions.subarray(i * samples, (i + 1) * samples), (2 * i + 1) * (samples + gap));
    }
    return encodeWav16(out, sampleRate);
  },
  previewName: (split) => (split === 'test' ? 'recon.wav' : 'recon-train.wav'),
};

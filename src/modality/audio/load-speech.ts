/**
 * Loading a speech source's split as a `SpeechSet`: every file's header is read and checked first
 * (its declared samples against `--max-audio-samples`, and the whole split, as float32 at the
 * model's rate, against `--max-data-bytes`), so a source too large for memory is refused before
 * anything is decoded; then each file is decoded, mixed to mono and resampled to the model's rate.
 *
 * Decoded utterances are kept in a process-wide cache (keyed by file and rate, up to
 * `CACHE_BYTES`), so the evaluation after training, or a second split of one source, decodes
 * nothing again.
 */
import { Rng } from '../../init/rng.js';
import { DataError } from '../../data/errors.js';
import { checkAudioSamples } from '../../audio/audio-limits.js';
import { readAudioFile, readAudioFileHeader } from '../../audio/read-audio-file.js';
import { resample, resampledLength } from '../../audio/resample.js';
import { DEFAULT_LIMITS, limitExceeded, type InputLimits } from '../../limits/input-limits.js';
import { makeSpeechSet, type SpeechSet } from './speech-set.js';
import { speechSource, splitFiles } from './speech-sources.js';

/** Bytes of decoded audio the cache holds at most (1 GiB: 9.3 hours of 16 kHz float32); files past it are decoded each time. */
const CACHE_BYTES = 2 ** 30;

const cache = new Map<string, Float32Array>();
let cachedBytes = 0;

/** The mono samples of `file` at `sampleRate`, decoded once per process while the cache has room. */
async function utteranceAt(file: string, sampleRate: number, limits: InputLimits): Promise<Float32Array> {
  const key = `${sampleRate}:${file}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const clip = await readAudioFile(file, limits);
  const samples = await resample(clip.samples, clip.sampleRate, sampleRate);
  if (cachedBytes + samples.byteLength <= CACHE_BYTES) {
    cache.set(key, samples);
    cachedBytes += samples.byteLength;
  }
  return samples;
}

export interface SpeechSplitRequest {
  readonly data: string;
  readonly split: 'train' | 'test';
  readonly kind: SpeechSet['kind'];
  readonly sampleRate: number;
  readonly exampleSamples: number;
  /** Use N utterances of the split only: a fixed seeded choice, kept in file order. */
  readonly limit?: number | undefined;
  readonly limits?: InputLimits | undefined;
}

/** `limit` of `files`, chosen by a permutation seeded by the split's name, in their own order. */
function limitFiles(files: readonly string[], limit: number | undefined, split: string): string[] {
  if (limit === undefined || limit >= files.length) return [...files];
  const chosen = new Rng(split === 'train' ? 1 : 2).permutation(files.length).subarray(0, limit);
  return [...chosen].sort((a, b) => a - b).map((i) => files[i]!);
}

/** One split of a speech source, decoded at `sampleRate` (see the file comment for the checks). */
export async function loadSpeechSplit(r: SpeechSplitRequest): Promise<SpeechSet> {
  const limits = r.limits ?? DEFAULT_LIMITS;
  const source = speechSource(r.data);
  const files = limitFiles(splitFiles(source, r.split), r.limit, r.split);
  let bytes = 0;
  for (const file of files) {
    const header = readAudioFileHeader(file);
    checkAudioSamples(header, file, limits);
    bytes += 4 * resampledLength(header.frames, header.sampleRate, r.sampleRate);
  }
  if (bytes > limits.maxDataBytes) {
    throw new DataError(`${limitExceeded(`the ${r.split} split of ${source.name} (${files.length} files)`, 'maxDataBytes', bytes, limits, `float32 at ${r.sampleRate} Hz`)}, or use fewer files with --${r.split}-limit`);
  }
  const utterances: Float32Array[] = [];
  for (const file of files) utterances.push(await utteranceAt(file, r.sampleRate, limits));
  return makeSpeechSet({ name: `${source.name}/${r.split}`, kind: r.kind, sampleRate: r.sampleRate, utterances, files, exampleSamples: r.exampleSamples });
}

/**
 * A set of speech utterances at the model's sample rate, as the audio modality trains and
 * evaluates on it. Its examples (what `count` counts) are of one of two kinds:
 *
 *   crops    one example per utterance, a random `exampleSamples`-long excerpt drawn afresh each
 *            epoch from (seed, epoch, utterance) alone, so a resumed run sees the same crops; an
 *            utterance shorter than a crop is zero-padded after its end (training)
 *   windows  every utterance whole, cut into consecutive `exampleSamples`-long windows, the last
 *            one zero-padded (evaluation): the model sees all of it, and the metrics are computed
 *            on each utterance put back together and trimmed to its own length
 *
 * Windows are coded independently, so the decoder sees zeros past each window's end; with windows
 * of a second or more that touches a few milliseconds at each seam.
 */
import { Rng } from '../../init/rng.js';
import type { ExampleSet } from '../modality.js';

export interface SpeechSet extends ExampleSet {
  readonly kind: 'crops' | 'windows';
  readonly sampleRate: number;
  /** Mono samples of each utterance at `sampleRate`, nominally in [−1, 1]. */
  readonly utterances: readonly Float32Array[];
  /** The file each utterance came from. */
  readonly files: readonly string[];
  /** Samples of one example: a training crop or an evaluation window. */
  readonly exampleSamples: number;
}

export function makeSpeechSet(fields: Omit<SpeechSet, 'count'>): SpeechSet {
  const count = fields.kind === 'crops' ? fields.utterances.length : fields.utterances.reduce((n, u) => n + windowsOf(u.length, fields.exampleSamples), 0);
  return { ...fields, count };
}

/** Windows of `samples` that cover `length` samples (at least one). */
export function windowsOf(length: number, samples: number): number {
  return Math.max(1, Math.ceil(length / samples));
}

/** The windows of every utterance, one after another, zero-padded (see the file comment). */
export function windowValues(set: SpeechSet): Float32Array {
  const size = set.exampleSamples;
  const windows = set.utterances.reduce((n, u) => n + windowsOf(u.length, size), 0);
  const out = new Float32Array(windows * size);
  let at = 0;
  for (const u of set.utterances) {
    out.set(u, at);
    at += windowsOf(u.length, size) * size;
  }
  return out;
}

/**
 * The crop of utterance `index` for `epoch`: its start is uniform over the positions where a
 * whole crop fits, from an Rng seeded by (seed, epoch, index) alone.
 */
export function cropInto(set: SpeechSet, seed: number, index: number, epoch: number, into: Float32Array): void {
  const u = set.utterances[index]!;
  const size = into.length;
  const rng = new Rng(seed * 4294967296 + ((Math.imul(epoch + 1, 0x9e3779b9) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0));
  const start = u.length > size ? rng.int(u.length - size + 1) : 0;
  const end = Math.min(u.length, start + size);
  into.set(u.subarray(start, end));
  into.fill(0, end - start);
}

/**
 * Decoding Ogg Vorbis to mono float with @wasm-audio-decoders/ogg-vorbis (libvorbis compiled to
 * WebAssembly, embedded in the package, so it decodes offline in Node and in the browser alike).
 * It is the maintained Vorbis decoder of the npm registry (the others are players or whole
 * ffmpeg builds); it reports libvorbis's errors beside what it decoded, and they are turned into
 * refusals here. Its Ogg page parser can also throw: codec-parser 2.5.0 calls a `logError` it never
 * imports when a page's identification header does not parse (a ReferenceError), so whatever the
 * library throws is refused too. It is MIT-licensed; the Ogg page parser it depends on,
 * codec-parser, is LGPL-3.0-or-later, used unmodified as its own npm package.
 *
 * The stream is fed in small chunks and each chunk's samples are mixed into an array that grows as
 * they arrive, up to the declared (and capped) length, so memory stays bounded by what the stream
 * really decodes to, plus what one chunk decodes to, whatever its header declares.
 */
import { OggVorbisDecoder, type OggVorbisDecodedAudio } from '@wasm-audio-decoders/ogg-vorbis';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import type { AudioClip } from './audio-clip.js';
import { AudioError } from './audio-error.js';
import { checkAudioSamples } from './audio-limits.js';
import { readOggVorbisHeader } from './ogg-vorbis-header.js';

/**
 * Bytes given to the decoder at a time. A chunk completes at most a few pages, each of at most 255
 * packets, so one call decodes to at most about (4096 + 255) packets × 4096 samples × 8 channels in
 * a crafted stream, and to a few thousand samples in a real one.
 */
const CHUNK_BYTES = 4096;

/**
 * The decoder's first error in one line: "vorbis_synthesisOV_ENOTAUDIO the packet is not an audio
 * packet." becomes "packet 3: the packet is not an audio packet (OV_ENOTAUDIO)".
 */
function firstError(decoded: OggVorbisDecodedAudio): string {
  const e = decoded.errors[0]!;
  const text = e.message.trim().split('\n')[0]!;
  // The libvorbis function names before the error code say nothing to the user; the code and its text do.
  const parts = /(OV_[A-Z]+)\s*(.*?)\.?$/.exec(text);
  return parts === null ? `packet ${e.frameNumber}: ${text}` : `packet ${e.frameNumber}: ${parts[2]} (${parts[1]})`;
}

/**
 * Decodes Ogg Vorbis bytes to mono float samples; `file` names them in errors. The header is read
 * and checked against `limits.maxAudioSamples` before decoding starts; a stream that decodes with
 * errors, or to more samples than its last page declares, is refused.
 */
export async function decodeOggVorbis(data: Uint8Array, file: string, limits: InputLimits = DEFAULT_LIMITS): Promise<AudioClip> {
  const header = readOggVorbisHeader(data, data, file);
  checkAudioSamples(header, file, limits);
  const { channels, frames } = header;
  // Grown as samples arrive rather than sized from the header: a few bytes can declare the whole cap.
  let samples = new Float32Array(Math.min(frames, 1 << 16));
  let written = 0;
  const take = (decoded: OggVorbisDecodedAudio): void => {
    if (decoded.errors.length > 0) throw new AudioError(`audio ${file} cannot be decoded as Ogg Vorbis (${firstError(decoded)}); re-encode it`);
    const n = decoded.samplesDecoded;
    if (n === 0) return;
    if (decoded.sampleRate !== header.sampleRate || decoded.channelData.length !== channels) {
      throw new AudioError(`audio ${file} changes format mid-stream (${decoded.channelData.length} channels at ${decoded.sampleRate} Hz after ${channels} at ${header.sampleRate} Hz); chained streams are not readable, split it`);
    }
    if (written + n > frames) throw new AudioError(`audio ${file} decodes to more than the ${frames.toLocaleString('en-US')} samples per channel its last page declares; re-encode it`);
    if (written + n > samples.length) {
      const grown = new Float32Array(Math.min(frames, Math.max(2 * samples.length, written + n)));
      grown.set(samples.subarray(0, written));
      samples = grown;
    }
    for (let c = 0; c < channels; c++) {
      const channel = decoded.channelData[c]!;
      for (let i = 0; i < n; i++) samples[written + i] += channel[i]! / channels;
    }
    written += n;
  };
  /** One call into the decoder library; what it throws on a malformed stream becomes a refusal (its own text is an engine error, not for the user). */
  const run = async (call: () => Promise<OggVorbisDecodedAudio>): Promise<OggVorbisDecodedAudio> => {
    try {
      return await call();
    } catch (err) {
      const kind = err instanceof Error ? err.name : typeof err;
      throw new AudioError(`audio ${file} cannot be decoded as Ogg Vorbis (the decoder library stopped on a malformed page with a ${kind}); re-encode it`);
    }
  };
  const decoder = new OggVorbisDecoder();
  await decoder.ready;
  try {
    for (let at = 0; at < data.length; at += CHUNK_BYTES) take(await run(() => decoder.decode(data.subarray(at, at + CHUNK_BYTES))));
    take(await run(() => decoder.flush()));
  } finally {
    decoder.free();
  }
  if (written === 0 && frames > 0) throw new AudioError(`audio ${file} cannot be decoded as Ogg Vorbis (no audio packet decodes); re-encode it`);
  // A stream whose first granule is not 0 (cut from a longer one) decodes to fewer samples than its last granule counts.
  return { sampleRate: header.sampleRate, channels, samples: written === samples.length ? samples : samples.slice(0, written) };
}

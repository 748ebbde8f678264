/**
 * Decoding one audio file, WAV or Ogg Vorbis, to mono float samples at its own rate. The format is
 * taken from the file's first bytes, not its extension, so a mislabelled file still decodes. Pure
 * (no node: imports), so the browser page decodes dropped files with the same checks.
 */
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import type { AudioClip, AudioHeader } from './audio-clip.js';
import { AudioError } from './audio-error.js';
import { decodeOggVorbis } from './ogg-vorbis-decode.js';
import { isOgg, readOggVorbisHeader } from './ogg-vorbis-header.js';
import { decodeWav } from './wav-decode.js';
import { isWav, readWavHeader } from './wav-header.js';

function unrecognised(file: string): never {
  throw new AudioError(`audio ${file} is neither WAV nor Ogg Vorbis (unrecognised first bytes); convert it, e.g. sox IN OUT.wav`);
}

/**
 * What a file declares (format, rate, channels, length) from its first bytes `head` and, for Ogg,
 * its last bytes `tail`; see readWavHeader and readOggVorbisHeader.
 */
export function readAudioHeader(head: Uint8Array, tail: Uint8Array, file: string): AudioHeader {
  if (isWav(head)) return readWavHeader(head, file);
  if (isOgg(head)) return readOggVorbisHeader(head, tail, file);
  return unrecognised(file);
}

/**
 * Decodes WAV or Ogg Vorbis bytes to mono float samples; `file` names them in errors. The header
 * is checked against `limits.maxAudioSamples` before any sample is decoded.
 */
export async function decodeAudio(data: Uint8Array, file: string, limits: InputLimits = DEFAULT_LIMITS): Promise<AudioClip> {
  if (isWav(data)) return decodeWav(data, file, limits);
  if (isOgg(data)) return decodeOggVorbis(data, file, limits);
  return unrecognised(file);
}

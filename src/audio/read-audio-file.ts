/**
 * Reading an audio file from disk: its header first, from its first and last 64 KiB (a WAV's
 * chunk headers, an Ogg stream's first and last pages), checked against the sample cap; only then
 * the whole file, decoded. A WAV whose metadata chunks push its data chunk past the first 64 KiB
 * is read whole to find it.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import type { AudioClip, AudioHeader } from './audio-clip.js';
import { AudioError, TruncatedAudioHeaderError } from './audio-error.js';
import { checkAudioSamples } from './audio-limits.js';
import { decodeAudio, readAudioHeader } from './decode-audio.js';
import { MAX_OGG_PAGE_BYTES } from './ogg-vorbis-header.js';

const HEAD_BYTES = 64 * 1024;

function readAt(fd: number, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
}

/** The one-line refusal of a path that cannot be read. */
function unreadable(file: string, err: unknown): AudioError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new AudioError(`audio ${file} does not exist; check the path`);
  if (code === 'EISDIR') return new AudioError(`audio ${file} is a directory, expected a WAV or Ogg Vorbis file; check the path`);
  return new AudioError(`cannot read audio ${file}: ${code ?? String(err)}; check the path and its permissions`);
}

/** Format, rate, channels and length of an audio file, from its first and last bytes only. */
export function readAudioFileHeader(file: string): AudioHeader {
  try {
    const fd = openSync(file, 'r');
    let head: Uint8Array, tail: Uint8Array, whole: boolean;
    try {
      const size = fstatSync(fd).size;
      whole = size <= HEAD_BYTES;
      head = readAt(fd, 0, HEAD_BYTES);
      tail = whole ? head : readAt(fd, Math.max(0, size - MAX_OGG_PAGE_BYTES), MAX_OGG_PAGE_BYTES);
    } finally {
      closeSync(fd);
    }
    try {
      return readAudioHeader(head, tail, file);
    } catch (err) {
      if (whole || !(err instanceof TruncatedAudioHeaderError)) throw err;
      const all = readFileSync(file);
      return readAudioHeader(all, all, file);
    }
  } catch (err) {
    if (err instanceof AudioError) throw err;
    throw unreadable(file, err);
  }
}

/** Reads and decodes one WAV or Ogg Vorbis file, refusing one that declares more than `limits.maxAudioSamples` before reading it whole. */
export async function readAudioFile(file: string, limits: InputLimits = DEFAULT_LIMITS): Promise<AudioClip> {
  checkAudioSamples(readAudioFileHeader(file), file, limits);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  return decodeAudio(data, file, limits);
}

/**
 * The layout a WAV file declares, read from its chunk headers alone, so that a file can be
 * refused before any sample is decoded. Pure (no node: imports), so the browser page runs the
 * same checks on dropped files.
 *
 * RIFF/WAVE (Microsoft/IBM, "Multimedia Programming Interface and Data Specifications 1.0", 1991):
 * "RIFF", a 32-bit little-endian size, "WAVE", then chunks, each a 4-byte id, a 32-bit size and
 * that many bytes, padded to an even length. The "fmt " chunk holds the format tag, channels,
 * sample rate, byte rate, block align (bytes per frame) and bits per sample; WAVE_FORMAT_EXTENSIBLE
 * (tag 0xFFFE) adds valid bits, a channel mask and a sub-format GUID whose first two bytes are the
 * plain tag (1 PCM, 3 IEEE float). The samples are the "data" chunk.
 *
 * RF64 (EBU Tech 3306): "RF64" in place of "RIFF", 32-bit sizes of 0xFFFFFFFF, and a "ds64" chunk
 * first whose 64-bit sizes replace them, for files past 4 GiB (sox writes these).
 */
import { AudioError, TruncatedAudioHeaderError } from './audio-error.js';

export type WavSampleFormat = 'pcm' | 'float';

export interface WavHeader {
  readonly format: 'wav';
  readonly sampleFormat: WavSampleFormat;
  /** Bits each sample occupies in the file: 8, 16, 24 or 32 for PCM (8 is unsigned), 32 or 64 for float. */
  readonly bitsPerSample: number;
  readonly channels: number;
  readonly sampleRate: number;
  /** Bytes per frame (one sample of every channel). */
  readonly blockAlign: number;
  /** Offset of the first sample byte. */
  readonly dataOffset: number;
  /** Bytes of samples the data chunk declares (the rest of the file where a streaming writer left the size unknown). */
  readonly dataBytes: number;
  /** Frames (samples per channel) the data chunk declares. */
  readonly frames: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The KSDATAFORMAT_SUBTYPE GUIDs of PCM and float after their first two bytes (the format tag). */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** The 32-bit size a streaming writer leaves when it cannot seek back to fill it in. */
const UNKNOWN_SIZE = 0xffffffff;

const ascii = (d: Uint8Array, i: number): string => String.fromCharCode(d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!);
const u16 = (d: Uint8Array, i: number): number => d[i]! | (d[i + 1]! << 8);
const u32 = (d: Uint8Array, i: number): number => (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16)) + d[i + 3]! * 2 ** 24;
/** A 64-bit size as a number (exact below 2⁵³, which no file reaches). */
const u64 = (d: Uint8Array, i: number): number => u32(d, i) + u32(d, i + 4) * 2 ** 32;

/** 'wav' when the bytes begin a RIFF or RF64 WAVE file. */
export function isWav(data: Uint8Array): boolean {
  return data.length >= 12 && (ascii(data, 0) === 'RIFF' || ascii(data, 0) === 'RF64') && ascii(data, 8) === 'WAVE';
}

interface WavFormat {
  readonly sampleFormat: WavSampleFormat;
  readonly bitsPerSample: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly blockAlign: number;
}

function readFormat(data: Uint8Array, at: number, size: number, file: string): WavFormat {
  const refuse = (why: string): never => {
    throw new AudioError(`audio ${file} cannot be decoded as WAV (${why}); convert it to 16-bit PCM WAV, e.g. sox IN -b 16 OUT.wav`);
  };
  if (size < 16) refuse(`its fmt chunk has ${size} bytes, fewer than 16`);
  let tag = u16(data, at);
  const channels = u16(data, at + 2);
  const sampleRate = u32(data, at + 4);
  const blockAlign = u16(data, at + 12);
  const bitsPerSample = u16(data, at + 14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) refuse(`its WAVE_FORMAT_EXTENSIBLE fmt chunk has ${size} bytes, fewer than 40`);
    if (!SUBFORMAT_GUID_TAIL.every((b, i) => data[at + 26 + i] === b)) refuse('its WAVE_FORMAT_EXTENSIBLE sub-format is neither PCM nor IEEE float');
    tag = u16(data, at + 24);
  }
  if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT) {
    refuse(`format tag 0x${tag.toString(16).padStart(4, '0')}; PCM (1), IEEE float (3) and WAVE_FORMAT_EXTENSIBLE of either are readable`);
  }
  const sampleFormat: WavSampleFormat = tag === WAVE_FORMAT_PCM ? 'pcm' : 'float';
  const readableBits = sampleFormat === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!readableBits.includes(bitsPerSample)) refuse(`${bitsPerSample}-bit ${sampleFormat === 'pcm' ? 'PCM' : 'float'} samples; ${readableBits.join(', ')} bits are readable`);
  if (channels === 0) refuse('it declares 0 channels');
  if (sampleRate === 0) refuse('it declares a sample rate of 0 Hz');
  if (blockAlign !== channels * (bitsPerSample / 8)) refuse(`block align ${blockAlign} for ${channels} channels of ${bitsPerSample} bits, expected ${channels * (bitsPerSample / 8)}`);
  return { sampleFormat, bitsPerSample, channels, sampleRate, blockAlign };
}

/**
 * Sample layout, rate and length of a WAV file from its chunk headers; `data` may be the whole
 * file or a prefix of it that reaches the data chunk's header. Chunks before "data" are walked
 * over by their sizes; a prefix that ends before "data" throws TruncatedAudioHeaderError.
 */
export function readWavHeader(data: Uint8Array, file: string): WavHeader {
  const refuse = (why: string): never => {
    throw new AudioError(`audio ${file} cannot be decoded as WAV (${why}); re-export it`);
  };
  const truncated = (): never => {
    throw new TruncatedAudioHeaderError(`audio ${file} cannot be decoded as WAV (it ends before its data chunk, after ${data.length} bytes); re-export it`);
  };
  if (!isWav(data)) refuse('it does not begin with RIFF…WAVE');
  const rf64 = ascii(data, 0) === 'RF64';
  let dataSize64: number | undefined;
  let format: WavFormat | undefined;
  let at = 12;
  for (;;) {
    if (at + 8 > data.length) return truncated();
    const id = ascii(data, at);
    const size32 = u32(data, at + 4);
    const body = at + 8;
    if (id === 'data') {
      if (format === undefined) refuse('its data chunk comes before its fmt chunk');
      const fmt = format!;
      const declared = rf64 && size32 === UNKNOWN_SIZE ? dataSize64 : size32;
      if (declared === undefined) refuse('it is RF64 but has no ds64 chunk before its data');
      // A writer that could not seek back leaves the size unknown (0xFFFFFFFF, or 0 with samples after it): the samples run to the end.
      const streamed = !rf64 && (size32 === UNKNOWN_SIZE || (size32 === 0 && data.length > body));
      const dataBytes = streamed ? Math.max(0, data.length - body) : declared!;
      if (dataBytes % fmt.blockAlign !== 0 && !streamed) refuse(`its data chunk of ${dataBytes} bytes is not a whole number of ${fmt.blockAlign}-byte frames`);
      return { format: 'wav', ...fmt, dataOffset: body, dataBytes, frames: Math.floor(dataBytes / fmt.blockAlign) };
    }
    if (id === 'ds64' && rf64) {
      if (body + 16 > data.length) return truncated();
      dataSize64 = u64(data, body + 8);
    }
    if (id === 'fmt ') {
      if (body + Math.min(size32, 40) > data.length) return truncated();
      format = readFormat(data, body, size32, file);
    }
    at = body + size32 + (size32 % 2);
  }
}

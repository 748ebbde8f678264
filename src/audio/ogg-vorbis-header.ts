/**
 * What an Ogg Vorbis file declares, from its first page and its last page alone, so that it can
 * be refused before it is decoded. Pure (no node: imports).
 *
 * Ogg (RFC 3533 §6): pages of "OggS", version 0, a header-type byte (0x04 marks the last page of
 * the stream), a 64-bit little-endian granule position, serial number, sequence number, CRC, the
 * segment count and that many lacing values, whose sum is the page's body length. A Vorbis
 * stream's granule position is the number of samples per channel decoded by the end of the page
 * (Vorbis I §A.2), so the last page's granule is the stream's length.
 *
 * Vorbis I §4.2.2: the first packet, alone on the first page, is the identification header:
 * 0x01 "vorbis", a 32-bit version (0), the channel count (8 bits), the sample rate (32 bits),
 * three bitrates, the two block sizes as powers of two, and a framing bit. The block sizes are
 * 2^6 to 2^13 samples, the first no larger than the second, and the framing bit is set; a header
 * that breaks these is refused here, as libvorbis would, before the decoder library sees it.
 */
import type { AudioHeader } from './audio-clip.js';
import { AudioError, TruncatedAudioHeaderError } from './audio-error.js';

export interface OggVorbisHeader extends AudioHeader {
  readonly format: 'ogg-vorbis';
}

/**
 * Vorbis I (§4.3.9) defines the channel order of 1 to 8 channels only; more is an application's
 * own layout. The cap also bounds the samples one page can decode to (255 packets of at most 4,096
 * samples per channel), which decodeOggVorbis allocates before it can compare them with the cap.
 */
const MAX_CHANNELS = 8;
/** The largest page: a 27-byte header, 255 lacing values and 255 × 255 body bytes (RFC 3533 §6). */
export const MAX_OGG_PAGE_BYTES = 27 + 255 + 255 * 255;

const u32 = (d: Uint8Array, i: number): number => (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16)) + d[i + 3]! * 2 ** 24;
const isCapture = (d: Uint8Array, i: number): boolean => d[i] === 0x4f && d[i + 1] === 0x67 && d[i + 2] === 0x67 && d[i + 3] === 0x53 && d[i + 4] === 0;

/** True when the bytes begin an Ogg stream whose first packet is a Vorbis identification header. */
function isOggVorbis(data: Uint8Array): boolean {
  if (data.length < 28 || !isCapture(data, 0)) return false;
  const body = 27 + data[26]!;
  return data.length >= body + 7 && data[body] === 1 && String.fromCharCode(...data.subarray(body + 1, body + 7)) === 'vorbis';
}

/** Whether the file is Ogg but carries another codec (Opus, FLAC, Speex), for a clearer refusal. */
export function isOgg(data: Uint8Array): boolean {
  return data.length >= 5 && isCapture(data, 0);
}

/** Offset in `tail` of the last complete page that ends exactly at the end of `tail`, or -1. */
function lastPageOffset(tail: Uint8Array): number {
  for (let i = tail.length - 27; i >= Math.max(0, tail.length - MAX_OGG_PAGE_BYTES); i--) {
    if (!isCapture(tail, i)) continue;
    const segments = tail[i + 26]!;
    if (i + 27 + segments > tail.length) continue;
    let end = i + 27 + segments;
    for (let s = 0; s < segments; s++) end += tail[i + 27 + s]!;
    if (end === tail.length) return i;
  }
  return -1;
}

/**
 * Channels, rate and length of an Ogg Vorbis file. `head` is the file's first bytes (at least its
 * first page), `tail` its last bytes (at least MAX_OGG_PAGE_BYTES, or the whole file); for a file
 * in memory both are the whole file. A file whose end is not a complete last page, marked as the
 * stream's end, is refused as truncated: the decoder itself decodes a cut file short, silently.
 */
export function readOggVorbisHeader(head: Uint8Array, tail: Uint8Array, file: string): OggVorbisHeader {
  const refuse = (why: string): never => {
    throw new AudioError(`audio ${file} cannot be decoded as Ogg Vorbis (${why}); re-encode it, e.g. oggenc IN.wav or sox IN OUT.wav`);
  };
  if (!isOgg(head)) refuse('it does not begin with an Ogg page');
  if (head.length < 27 + head[26]! + 30) {
    throw new TruncatedAudioHeaderError(`audio ${file} cannot be decoded as Ogg Vorbis (it ends inside its first page, after ${head.length} bytes); re-encode it`);
  }
  if (!isOggVorbis(head)) refuse('its first packet is not a Vorbis identification header; Opus, FLAC and Speex in Ogg are not readable');
  const id = 27 + head[26]!;
  const version = u32(head, id + 7);
  const channels = head[id + 11]!;
  const sampleRate = u32(head, id + 12);
  if (version !== 0) refuse(`Vorbis version ${version}; version 0 is readable`);
  if (channels === 0 || channels > MAX_CHANNELS) refuse(`${channels} channels; 1 to ${MAX_CHANNELS} are readable`);
  if (sampleRate === 0) refuse('it declares a sample rate of 0 Hz');
  const shortBlock = head[id + 28]! & 0x0f;
  const longBlock = head[id + 28]! >> 4;
  if (shortBlock < 6 || longBlock > 13 || shortBlock > longBlock) refuse(`block sizes 2^${shortBlock} and 2^${longBlock}; 2^6 ≤ short ≤ long ≤ 2^13 are readable`);
  if ((head[id + 29]! & 1) === 0) refuse('its identification header lacks the framing bit');
  const last = lastPageOffset(tail);
  if (last < 0) refuse('it does not end with a complete Ogg page (truncated?)');
  if ((tail[last + 5]! & 0x04) === 0) refuse('its last page is not marked as the end of the stream (truncated?)');
  const granuleLow = u32(tail, last + 6);
  const granuleHigh = u32(tail, last + 10);
  // A granule of −1 (all ones) marks a page on which no packet ends (RFC 3533 §6).
  if (granuleLow === 0xffffffff && granuleHigh === 0xffffffff) refuse('its last page declares no length');
  return { format: 'ogg-vorbis', sampleRate, channels, frames: granuleLow + granuleHigh * 2 ** 32 };
}

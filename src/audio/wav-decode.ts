/**
 * Decoding a WAV file's samples to mono float, after its header has been checked against the
 * sample cap. The RIFF parser is our own (wav-header.ts): the npm WAV decoders either refuse
 * WAVE_FORMAT_EXTENSIBLE (node-wav, which also allocates whatever the data chunk declares before
 * checking the file holds it) or were last released in 2020 and decode to 64-bit interleaved
 * arrays of the whole file (wavefile). Past the header, decoding is a scale per sample format.
 *
 * Integer samples are scaled by 2^(bits − 1) (8-bit PCM is unsigned, offset 128), so full scale
 * maps to [−1, 1) exactly as sox, libsndfile and soundfile read it; channels are averaged.
 */
import { DEFAULT_LIMITS, type InputLimits } from '../limits/input-limits.js';
import type { AudioClip } from './audio-clip.js';
import { AudioError } from './audio-error.js';
import { checkAudioSamples } from './audio-limits.js';
import { readWavHeader, type WavHeader } from './wav-header.js';

/** The value of sample `i` (a byte offset) as a float, for one sample format. */
type SampleReader = (view: DataView, i: number) => number;

function sampleReader(header: WavHeader): SampleReader {
  if (header.sampleFormat === 'float') {
    return header.bitsPerSample === 32 ? (v, i) => v.getFloat32(i, true) : (v, i) => v.getFloat64(i, true);
  }
  switch (header.bitsPerSample) {
    case 8: return (v, i) => (v.getUint8(i) - 128) / 128;
    case 16: return (v, i) => v.getInt16(i, true) / 32768;
    case 24: return (v, i) => ((v.getUint8(i) | (v.getUint8(i + 1) << 8) | (v.getInt8(i + 2) << 16)) / 8388608);
    default: return (v, i) => v.getInt32(i, true) / 2147483648;
  }
}

/**
 * Decodes WAV bytes to mono float samples; `file` names them in errors. The header is read and
 * checked against `limits.maxAudioSamples` before any sample is decoded, and a data chunk that
 * runs past the end of the bytes (a truncated file) is refused rather than decoded short.
 */
export function decodeWav(data: Uint8Array, file: string, limits: InputLimits = DEFAULT_LIMITS): AudioClip {
  const header = readWavHeader(data, file);
  checkAudioSamples(header, file, limits);
  const present = data.length - header.dataOffset;
  if (header.dataBytes > present) {
    throw new AudioError(`audio ${file} declares ${header.dataBytes.toLocaleString('en-US')} bytes of samples but holds ${Math.max(0, present).toLocaleString('en-US')} (truncated?); re-export it`);
  }
  const { channels, blockAlign, frames } = header;
  const bytesPerSample = header.bitsPerSample / 8;
  const read = sampleReader(header);
  const view = new DataView(data.buffer, data.byteOffset + header.dataOffset, frames * blockAlign);
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += read(view, f * blockAlign + c * bytesPerSample);
    // A NaN or infinity in a float file would poison every loss and metric it reaches.
    if (!Number.isFinite(sum)) throw new AudioError(`audio ${file} holds a sample that is not a finite number (frame ${f}); re-export it`);
    samples[f] = sum / channels;
  }
  return { sampleRate: header.sampleRate, channels, samples };
}

/** Writing mono float samples as a 16-bit PCM WAV file (RIFF, format tag 1, a 44-byte header). */

/**
 * Encodes samples as 16-bit PCM: each is scaled by 32768, rounded to the nearest integer and
 * clipped to [−32768, 32767], the inverse of how 16-bit samples decode (k / 32768), so a decoded
 * 16-bit file encodes back to the same bytes.
 */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate > 0x7fffffff) {
    throw new RangeError(`a WAV sample rate is a positive integer below 2³¹, got ${sampleRate}`);
  }
  const dataBytes = samples.length * 2;
  if (44 + dataBytes - 8 > 0xffffffff) throw new RangeError(`${samples.length} samples do not fit a 16-bit WAV file (at most 2,147,483,625); split the audio`);
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string): void => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  text(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  text(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * 32768);
    // NaN (which no comparison passes) becomes silence rather than an arbitrary integer.
    view.setInt16(44 + 2 * i, v >= 32767 ? 32767 : v <= -32768 ? -32768 : v === v ? v : 0, true);
  }
  return out;
}

/** The cap on the samples an audio file may declare, checked against its header before decoding. */
import { limitExceeded, type InputLimits } from '../limits/input-limits.js';
import type { AudioHeader } from './audio-clip.js';
import { AudioError } from './audio-error.js';

/** A duration for a message: "2.4 s", "12.5 min", "277,778 h". */
function duration(seconds: number): string {
  if (seconds < 120) return `${Number(seconds.toPrecision(3))} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${Math.round(seconds / 3600).toLocaleString('en-US')} h`;
}

/** Refuses audio that declares more than `limits.maxAudioSamples` samples (frames × channels), naming the file and the flag that raises the cap. */
export function checkAudioSamples(header: AudioHeader, file: string, limits: InputLimits): void {
  const samples = header.frames * header.channels;
  if (samples > limits.maxAudioSamples) {
    const detail = `${header.frames.toLocaleString('en-US')} frames × ${header.channels} channel${header.channels === 1 ? '' : 's'}, ${duration(header.frames / header.sampleRate)} at ${header.sampleRate.toLocaleString('en-US')} Hz`;
    throw new AudioError(limitExceeded(file, 'maxAudioSamples', samples, limits, detail));
  }
}

/**
 * Speech into the page, as mono samples at the model's rate: a WAV or Ogg Vorbis file decoded by
 * the library's own decoders (the ones `vqlab encode` reads files with, so a file gives the same
 * samples in both), or the microphone, recorded through an AudioWorklet (a ScriptProcessorNode
 * where the browser has no AudioWorklet). Both are resampled by the library's band-limited
 * resampler, as `vqlab encode` resamples a file at another rate.
 */
import { decodeAudio, resample, type InputLimits } from '../../dist/src/browser.js';

/** Samples at the model's rate, and the rate they were captured or stored at. */
export interface SpeechClip {
  readonly samples: Float32Array;
  readonly sourceRate: number;
}

/** A file the user opened: its declared length is checked against the cap before it is decoded (decodeAudio). */
export async function readSpeechFile(file: File, sampleRate: number, limits: InputLimits): Promise<SpeechClip> {
  const clip = await decodeAudio(new Uint8Array(await file.arrayBuffer()), file.name, limits);
  if (clip.samples.length === 0) throw new Error(`audio ${file.name} holds no samples; open a longer clip`);
  return { samples: await resample(clip.samples, clip.sampleRate, sampleRate), sourceRate: clip.sampleRate };
}

/** Posts each block of the input's samples (channels averaged to mono) to the page. */
const RECORDER_WORKLET = `registerProcessor('vqlab-recorder', class extends AudioWorkletProcessor {
  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const mono = new Float32Array(channels[0].length);
      for (const channel of channels) for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
      this.port.postMessage(mono, [mono.buffer]);
    }
    return true;
  }
});`;

/** Samples of a ScriptProcessorNode block: 4,096 is about 85 ms at 48 kHz. */
const SCRIPT_PROCESSOR_BLOCK = 4096;

export class MicrophoneRecorder {
  private readonly blocks: Float32Array[] = [];
  private recorded = 0;

  private constructor(
    private readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly maxSamples: number,
    private readonly onLimit: () => void,
  ) {}

  /** Starts recording from the default microphone; `onLimit` is called once the recording holds limits.maxAudioSamples samples, where it stops growing. */
  static async start(limits: InputLimits, onLimit: () => void): Promise<MicrophoneRecorder> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives the page no microphone (it needs a secure context: https or localhost)');
    // The raw signal: echo cancellation, noise suppression and gain control would change what is coded.
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const context = new AudioContext();
    const recorder = new MicrophoneRecorder(context, stream, limits.maxAudioSamples, onLimit);
    try {
      const source = context.createMediaStreamSource(stream);
      // Processing nodes run only when connected to the destination; a silent gain keeps the microphone out of the speakers.
      const mute = context.createGain();
      mute.gain.value = 0;
      mute.connect(context.destination);
      if (context.audioWorklet) {
        const url = URL.createObjectURL(new Blob([RECORDER_WORKLET], { type: 'text/javascript' }));
        try {
          await context.audioWorklet.addModule(url);
        } finally {
          URL.revokeObjectURL(url);
        }
        const node = new AudioWorkletNode(context, 'vqlab-recorder');
        node.port.onmessage = (event: MessageEvent<Float32Array>) => recorder.add(event.data);
        source.connect(node).connect(mute);
      } else {
        const node = context.createScriptProcessor(SCRIPT_PROCESSOR_BLOCK, 1, 1);
        node.onaudioprocess = (event) => recorder.add(event.inputBuffer.getChannelData(0).slice());
        source.connect(node).connect(mute);
      }
    } catch (err) {
      await recorder.release();
      throw err;
    }
    return recorder;
  }

  private add(block: Float32Array): void {
    if (this.recorded >= this.maxSamples) return;
    const kept = block.subarray(0, this.maxSamples - this.recorded);
    this.blocks.push(kept);
    this.recorded += kept.length;
    if (this.recorded >= this.maxSamples) this.onLimit();
  }

  private async release(): Promise<void> {
    for (const track of this.stream.getTracks()) track.stop();
    await this.context.close();
  }

  /** Stops the microphone; the recording at `sampleRate`. */
  async stop(sampleRate: number): Promise<SpeechClip> {
    const sourceRate = this.context.sampleRate;
    await this.release();
    if (this.recorded === 0) throw new Error('the microphone gave no samples; check that the browser may use it and record again');
    const samples = new Float32Array(this.recorded);
    let at = 0;
    for (const block of this.blocks) {
      samples.set(block, at);
      at += block.length;
    }
    return { samples: await resample(samples, sourceRate, sampleRate), sourceRate };
  }
}

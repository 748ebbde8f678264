/** Decoded audio as the models read it: one channel of float samples at the file's own rate. */
export interface AudioClip {
  readonly sampleRate: number;
  /** Channels the file holds; `samples` is their mean. */
  readonly channels: number;
  /** Mono samples, nominally in [−1, 1] (float files may exceed it; they are not clipped). */
  readonly samples: Float32Array;
}

/** What a file declares, read from its headers alone, before anything is decoded. */
export interface AudioHeader {
  readonly format: 'wav' | 'ogg-vorbis';
  readonly sampleRate: number;
  readonly channels: number;
  /** Frames (samples per channel) the file declares. */
  readonly frames: number;
}

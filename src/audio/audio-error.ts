/** A file that is not a readable WAV or Ogg Vorbis file, or declares more than a cap; the one-line message names the file and the fix. */
export class AudioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudioError';
  }
}

/**
 * A header that ends before the sizes are known: the bytes given are a prefix of a longer file, or
 * the file is truncated. A reader of a file's first bytes retries with the whole file.
 */
export class TruncatedAudioHeaderError extends AudioError {
  constructor(message: string) {
    super(message);
    this.name = 'TruncatedAudioHeaderError';
  }
}

/**
 * Coding a signal of any length with a model compiled for one example length (a sequence
 * modality: audio): the values are cut into consecutive examples (windows), the last zero-padded,
 * coded one after another, and the decoded values are trimmed back to the signal's length.
 *
 * One implementation for `vqlab encode`/`vqlab decode` (with the Node `Tokenizer`) and for the demo
 * page (with onnxruntime-web), so both give the same codes for the same samples. No node: imports.
 */

/** Examples (windows) per run of the encoder and decoder: a clip of speech is a few windows. */
export const SEQUENCE_BATCH = 8;

/** What codes examples both ways, a whole number of them per call (the `Tokenizer` is one). */
export interface ExampleCoder {
  /** Values per example (for audio the samples of a window). */
  readonly exampleSize: number;
  /** Indices per example (code positions times the depth of a residual quantizer). */
  readonly codesPerImage: number;
  encode(examples: Float32Array): Promise<Int32Array>;
  decode(indices: ArrayLike<number>): Promise<Float32Array>;
}

/** Examples that cover `length` values (at least one). */
export function examplesCovering(length: number, valuesPerExample: number): number {
  return Math.max(1, Math.ceil(length / valuesPerExample));
}

/** The codes of `values` (any length): examplesCovering(…) examples, codesPerImage indices each, in order. */
export async function encodeSequence(coder: ExampleCoder, values: Float32Array): Promise<Int32Array> {
  const padded = new Float32Array(examplesCovering(values.length, coder.exampleSize) * coder.exampleSize);
  padded.set(values);
  return coder.encode(padded);
}

/** The `length` values that `indices` (a whole number of examples, from `encodeSequence`) decode to. */
export async function decodeSequence(coder: ExampleCoder, indices: ArrayLike<number>, length: number): Promise<Float32Array> {
  const decoded = await coder.decode(indices);
  if (!Number.isInteger(length) || length < 1 || length > decoded.length) {
    throw new RangeError(`a sequence of ${indices.length} codes decodes to at most ${decoded.length} values, not ${length}`);
  }
  return decoded.subarray(0, length);
}

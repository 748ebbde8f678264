/**
 * The JSON that `vqlab encode` writes and `vqlab decode` reads for a sequence modality (audio),
 * where a file is coded as consecutive examples (windows) and may have any length:
 *
 *   {"checkpoint", "codebook_size", "codes_per_example", "values_per_example",
 *    "sequences": [{"file", "length", "indices": [...]}]}
 *
 * `length` is the file's values at the model's rate (samples); `indices` holds the codes of each
 * example in turn, codes_per_example of them per example (for a residual quantizer of depth D each
 * entry is an array of D indices). Every sequence is checked before anything is allocated for it.
 */
import { basename } from 'node:path';
import { shownValue as show } from '../limits/shown-value.js';
import { IndicesFileError } from './indices-file.js';

export interface SequenceShape {
  /** Code positions per example (h·w of the latent grid). */
  readonly codesPerExample: number;
  /** Values per example (for audio the samples of a window). */
  readonly valuesPerExample: number;
  readonly depth: number;
  readonly codebookSize: number;
}

export interface SequenceEntry {
  /** The encoded file's name, when it is usable as the stem of an output file. */
  readonly file: string | undefined;
  readonly length: number;
  /** examples × codesPerExample × depth indices. */
  readonly indices: Int32Array;
}

/** The JSON object of encoded sequences. */
export function sequencesJson(checkpoint: string, shape: SequenceShape, entries: readonly SequenceEntry[]): unknown {
  return {
    checkpoint,
    codebook_size: shape.codebookSize,
    codes_per_example: shape.codesPerExample,
    values_per_example: shape.valuesPerExample,
    sequences: entries.map((e) => ({
      file: e.file !== undefined ? basename(e.file) : undefined,
      length: e.length,
      indices: shape.depth === 1 ? Array.from(e.indices) : Array.from({ length: e.indices.length / shape.depth }, (_, i) => Array.from(e.indices.subarray(i * shape.depth, (i + 1) * shape.depth))),
    })),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The sequences of `vqlab encode` output, checked against the model (`shape`); one-line errors name the file and the fix. */
export function parseSequencesFile(json: unknown, source: string, shape: SequenceShape): SequenceEntry[] {
  if (!isRecord(json) || !Array.isArray(json.sequences)) throw new IndicesFileError(`${source} is not \`vqlab encode\` output of this model ({"sequences": [{"length": …, "indices": [...]}]}); encode the audio with it`);
  const same = (field: string, want: number): void => {
    if (json[field] !== undefined && json[field] !== want) {
      throw new IndicesFileError(`${source} declares ${field} ${show(json[field])} but the model has ${want}; decode it with the checkpoint that encoded it`);
    }
  };
  same('codebook_size', shape.codebookSize);
  same('codes_per_example', shape.codesPerExample);
  same('values_per_example', shape.valuesPerExample);
  if (json.sequences.length === 0) throw new IndicesFileError(`${source} holds no sequences`);
  return json.sequences.map((entry: unknown, i): SequenceEntry => {
    if (!isRecord(entry) || !Array.isArray(entry.indices)) throw new IndicesFileError(`${source}: sequences[${i}] is ${show(entry)}, expected {"length": …, "indices": [...]}`);
    const codes = entry.indices;
    if (codes.length === 0 || codes.length % shape.codesPerExample !== 0) {
      throw new IndicesFileError(`${source}: sequences[${i}] has ${codes.length} codes, not a whole number of examples of ${shape.codesPerExample}; decode it with the checkpoint that encoded it`);
    }
    const examples = codes.length / shape.codesPerExample;
    const length = entry.length ?? examples * shape.valuesPerExample;
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > examples * shape.valuesPerExample) {
      throw new IndicesFileError(`${source}: sequences[${i}] has length ${show(entry.length)}; its ${examples} examples hold 1 to ${examples * shape.valuesPerExample} values`);
    }
    const indices = new Int32Array(codes.length * shape.depth);
    codes.forEach((cell: unknown, at) => {
      const values: unknown[] = Array.isArray(cell) ? cell : [cell];
      if (values.length !== shape.depth) throw new IndicesFileError(`${source}: sequences[${i}] has ${values.length} indices at position ${at} but the model's quantizer has ${shape.depth} stage${shape.depth === 1 ? '' : 's'}`);
      values.forEach((v, s) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= shape.codebookSize) {
          throw new IndicesFileError(`${source}: sequences[${i}] has index ${show(v)} at position ${at}; indices are integers from 0 to ${shape.codebookSize - 1} (K = ${shape.codebookSize})`);
        }
        indices[at * shape.depth + s] = v;
      });
    });
    const file = typeof entry.file === 'string' && entry.file.length <= 200 && !/[\u0000-\u001f\u007f/]/.test(entry.file) ? entry.file : undefined;
    return { file, length, indices };
  });
}

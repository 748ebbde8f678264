/**
 * Caps on what a user's file may declare, checked against its header before anything is decoded
 * or allocated, so memory stays bounded whatever a file says (an 875 KB PNG can declare
 * 30,000 × 30,000 pixels, 3.6 GB of RGBA; a gzip stream can inflate a thousandfold). Pillow's
 * `MAX_IMAGE_PIXELS` (89,478,485, then `DecompressionBombError`) is the precedent; vqlab's models
 * read small images, so its default is lower.
 *
 * Each cap is defined once here, with the command-line flag that raises it; a parser that refuses
 * a file names the file, what it declares, the cap and that flag (`limitExceeded`).
 */

export interface InputLimits {
  /** Pixels (width × height) one image file may declare. */
  readonly maxPixels: number;
  /** Bytes one JSON file (a checkpoint's config, trainer state, pointer, checksums; an indices file) may hold. */
  readonly maxJsonBytes: number;
  /** Bytes one dataset file (IDX, CIFAR batch) may hold once decompressed. */
  readonly maxDataBytes: number;
  /** Samples (frames × channels) one audio file may declare. */
  readonly maxAudioSamples: number;
}

interface LimitSpec {
  readonly default: number;
  /** The command-line flag that sets it. */
  readonly flag: string;
  readonly unit: string;
  readonly doc: string;
}

export const LIMIT_SPECS: { readonly [K in keyof InputLimits]: LimitSpec } = {
  maxPixels: { default: 4096 * 4096, flag: '--max-pixels', unit: 'pixels', doc: 'pixels one image file may declare (width × height)' },
  maxJsonBytes: { default: 64 * 2 ** 20, flag: '--max-json-bytes', unit: 'bytes', doc: 'bytes one JSON file may hold' },
  maxDataBytes: { default: 2 ** 30, flag: '--max-data-bytes', unit: 'bytes', doc: 'bytes one dataset file may hold once decompressed' },
  // 2²⁶ samples are 256 MB as 32-bit floats: 70 minutes of 16 kHz mono, 23 minutes of 48 kHz stereo.
  maxAudioSamples: { default: 2 ** 26, flag: '--max-audio-samples', unit: 'samples', doc: 'samples one audio file may declare (frames × channels)' },
};

export const DEFAULT_LIMITS: InputLimits = {
  maxPixels: LIMIT_SPECS.maxPixels.default,
  maxJsonBytes: LIMIT_SPECS.maxJsonBytes.default,
  maxDataBytes: LIMIT_SPECS.maxDataBytes.default,
  maxAudioSamples: LIMIT_SPECS.maxAudioSamples.default,
};

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The one-line refusal of a file that declares more than a cap:
 * "FILE declares 900,000,000 pixels (30000×30000), over the cap of 16,777,216; raise it with --max-pixels N".
 * `declared` may add detail in parentheses after the number.
 */
export function limitExceeded(file: string, limit: keyof InputLimits, declared: number, limits: InputLimits, detail?: string): string {
  const spec = LIMIT_SPECS[limit];
  const what = detail !== undefined ? `${count(declared)} ${spec.unit} (${detail})` : `${count(declared)} ${spec.unit}`;
  return `${file} declares ${what}, over the cap of ${count(limits[limit])}; raise it with ${spec.flag} N if the file is genuine`;
}

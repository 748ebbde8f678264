/**
 * The parsers of user files that the fuzz harness exercises, each with valid seed files, the
 * mutations that suit its format, and the error classes that count as a proper refusal. A
 * parse that returns is a valid result; one that throws anything else is a failure (run.ts).
 */
import { readFileSync } from 'node:fs';
import { deflateSync, gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AudioError } from '../src/audio/audio-error.js';
import { decodeAudio } from '../src/audio/decode-audio.js';
import { encodeWav16 } from '../src/audio/wav-encode.js';
import { IndicesFileError, parseIndicesFile, parseIndicesJson, type IndexGridShape } from '../src/cli/indices-file.js';
import { parseCifarBatch } from '../src/data/cifar.js';
import { DataError } from '../src/data/errors.js';
import { parseIdxImages, parseIdxLabels } from '../src/data/idx.js';
import { maybeGunzip } from '../src/data/read-file.js';
import { decodeImage } from '../src/images/decode.js';
import { ImageError } from '../src/images/image-error.js';
import { Rng } from '../src/init/rng.js';
import type { InputLimits } from '../src/limits/input-limits.js';
import { makeModelConfig, type ModelChoice } from '../src/models/config.js';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { CheckpointError, configFromJson } from '../src/persistence/checkpoint-weights.js';
import { parseTrainerState } from '../src/persistence/checkpoint.js';
import { parsePointer, RunDirectoryError } from '../src/persistence/run-directory.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type NamedTensor } from '../src/persistence/safetensors.js';
import { mutateBytes, mutateJson, type FieldSpot } from './mutate.js';

/**
 * Caps the fuzzed parsers run under: small, so that a header that slips past a check shows up as
 * an allocation the RSS bound catches, and so that refusals are quick.
 */
const FUZZ_LIMITS: InputLimits = { maxPixels: 2 ** 22, maxJsonBytes: 2 ** 20, maxDataBytes: 2 ** 20, maxAudioSamples: 2 ** 20 };

type ErrorClass = abstract new (...args: never[]) => Error;

export interface FuzzTarget {
  readonly name: string;
  /** How many seed files `mutate` chooses from. */
  readonly seedCount: number;
  /** A mutated copy of seed `seed`. */
  mutate(seed: number, rng: Rng): Uint8Array;
  /** Parses a (mutated) file of seed `seed`'s kind; returns (or resolves) for a valid file, throws (or rejects) to refuse it. */
  parse(bytes: Uint8Array, seed: number): void | Promise<void>;
  /** The error classes that are proper refusals (their messages must still be one line). */
  readonly refusals: readonly ErrorClass[];
}

/** Text that is not JSON, refused as the file readers refuse it (before any field is read). */
class NotJsonError extends Error {
  constructor(file: string) {
    super(`${file} is not valid JSON`);
    this.name = 'NotJsonError';
  }
}

const utf8 = new TextDecoder();
const encodeText = (text: string): Uint8Array => new TextEncoder().encode(text);

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new NotJsonError(file);
  }
}

/** A JSON target: structure-aware mutations of the seeds (byte-level ones at times), `parse` on the text. */
function jsonTarget(name: string, seeds: readonly unknown[], parse: (text: string, seed: number) => void, refusals: readonly ErrorClass[]): FuzzTarget {
  const texts = seeds.map((s) => encodeText(JSON.stringify(s, null, 2)));
  return {
    name,
    seedCount: seeds.length,
    mutate: (seed, rng) => (rng.uniform() < 0.85 ? mutateJson(seeds[seed], rng) : mutateBytes(texts[seed]!, rng)),
    parse: (bytes, seed) => parse(utf8.decode(bytes), seed),
    refusals,
  };
}

// ------------------------------------------------------------------ safetensors

function safetensorsSeeds(): Uint8Array[] {
  const t = (shape: number[], rng: Rng): NamedTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, data: Float32Array.from({ length: n }, () => rng.normal()) };
  };
  const rng = new Rng(5);
  return [
    encodeSafetensors(new Map([['encoder.conv.weight', t([4, 1, 3, 3], rng)], ['encoder.conv.bias', t([4], rng)], ['quantizer.codebook', t([8, 4], rng)]]), { format: 'vqlab', step: '3' }),
    encodeSafetensors(new Map([['scalar', t([], rng)], ['empty', t([0, 5], rng)], ['v', t([3], rng)]])),
  ];
}

function safetensorsTarget(): FuzzTarget {
  const seeds = safetensorsSeeds();
  const headerOf = (bytes: Uint8Array): { header: unknown; data: Uint8Array } => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return { header: JSON.parse(utf8.decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
  };
  const parts = seeds.map(headerOf);
  return {
    name: 'safetensors',
    seedCount: seeds.length,
    mutate(seed, rng) {
      if (rng.uniform() < 0.5) return mutateBytes(seeds[seed]!, rng, [{ offset: 0, bytes: 8, littleEndian: true }, { offset: 0, bytes: 4, littleEndian: true }]);
      // A mutated header behind a correct length, so the parser reads the JSON and acts on it.
      const { header, data } = parts[seed]!;
      const json = mutateJson(header, rng);
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    },
    parse(bytes) {
      decodeSafetensors(bytes, 'model.safetensors');
    },
    refusals: [SafetensorsError],
  };
}

// ------------------------------------------------------------------ JSON files of a checkpoint and of `vqlab encode`

function configSeeds(): unknown[] {
  const input = { channels: 1, height: 28, width: 28 };
  const choices: ModelChoice[] = [
    { input, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 64, dim: 8 }) },
    { input, quantizer: resolveQuantizerConfig('vq', { codebookSize: 32, dim: 8, codebookDim: 4, kmeansIters: 2 }) },
    { input, quantizer: resolveQuantizerConfig('ema', { codebookSize: 16, dim: 4 }) },
    { input, quantizer: resolveQuantizerConfig('fsq', { dim: 4, levels: [8, 5, 5] }) },
    { input, quantizer: resolveQuantizerConfig('lfq', { codebookSize: 16, dim: 4 }) },
    { input, quantizer: resolveQuantizerConfig('residual', { codebookSize: 16, dim: 4, base: 'simvq', depth: 2 }) },
    { model: 'conv', input: { channels: 3, height: 8, width: 8 }, quantizer: resolveQuantizerConfig('vq', { codebookSize: 8, dim: 4 }), conv: { hiddenChannels: 8, downsamples: 1, residualBlocks: 1 } },
  ];
  const v1 = { format: 'vqlab-model', version: 1, input: { channels: 1, height: 8, width: 8 }, architecture: { kind: 'conv', hiddenChannels: 4, downsamples: 1, residualBlocks: 0, residualChannels: 1, activation: 'relu' }, quantizer: { name: 'vq', codebookSize: 8, dim: 4, beta: 0.25 } };
  return [...choices.map((c) => makeModelConfig(c)), v1];
}

function trainerStateSeeds(): unknown[] {
  const base = {
    format: 'vqlab-trainer', version: 1, epoch: 1, step: 3, epochs: 2, seed: 11, batch: 2, lr: 0.01,
    dataPosition: { epoch: 1, batch: 0 },
    data: { path: null, name: 'generated', trainCount: 2, testCount: 2, trainLimit: null, testLimit: null },
    optimizer: { name: 'adam', config: {} },
  };
  return [base, { ...base, data: { ...base.data, path: '/data/mnist', trainLimit: 100, testLimit: 10 }, optimizer: { name: 'adam', config: { beta1: 0.9, beta2: 0.99 } } }];
}

function pointerSeeds(): unknown[] {
  return [
    { format: 'vqlab-run', version: 1, last: 'checkpoints/step-00000070', best: 'checkpoints/step-00000050', best_test_mse: 0.012 },
    { format: 'vqlab-run', version: 1, last: 'checkpoints/step-00000003', best: null, best_test_mse: null },
  ];
}

const INDICES_SHAPES: readonly IndexGridShape[] = [
  { height: 3, width: 3, depth: 1, codebookSize: 16 },
  { height: 3, width: 3, depth: 1, codebookSize: 16 },
  { height: 3, width: 3, depth: 1, codebookSize: 16 },
  { height: 2, width: 2, depth: 2, codebookSize: 8 },
];

function indicesSeeds(): unknown[] {
  const grid = [[0, 1, 2], [3, 4, 5], [15, 14, 13]];
  return [
    { checkpoint: '/runs/x', codebook_size: 16, grid: [3, 3], images: [{ file: 'a.png', indices: grid }, { file: 'b.png', indices: grid }] },
    grid,
    [grid, grid],
    { codebook_size: 8, grid: [2, 2, 2], images: [{ file: 'r.png', indices: [[[1, 2], [3, 4]], [[5, 6], [7, 0]]] }] },
  ];
}

// ------------------------------------------------------------------ datasets

function idxImages(count: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(16 + count * height * width);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x803);
  view.setUint32(4, count);
  view.setUint32(8, height);
  view.setUint32(12, width);
  for (let i = 16; i < out.length; i++) out[i] = (i * 37) & 0xff;
  return out;
}

function idxLabels(count: number): Uint8Array {
  const out = new Uint8Array(8 + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x801);
  view.setUint32(4, count);
  for (let i = 8; i < out.length; i++) out[i] = i % 10;
  return out;
}

function idxTarget(): FuzzTarget {
  const images = idxImages(3, 4, 5);
  // The last seed inflates to four times the fuzz cap: a small gzip bomb.
  const seeds = [images, idxLabels(6), new Uint8Array(gzipSync(images)), new Uint8Array(gzipSync(new Uint8Array(4 * FUZZ_LIMITS.maxDataBytes)))];
  const fields: FieldSpot[] = [4, 8, 12].map((offset) => ({ offset, bytes: 4, littleEndian: false }));
  return {
    name: 'idx',
    seedCount: seeds.length,
    mutate: (seed, rng) => mutateBytes(seeds[seed]!, rng, fields),
    parse(bytes) {
      const data = maybeGunzip(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'train-images-idx3-ubyte', FUZZ_LIMITS);
      if (data.length >= 4 && data.readUInt32BE(0) === 0x801) parseIdxLabels(data, 'train-labels-idx1-ubyte');
      else parseIdxImages(data, 'train-images-idx3-ubyte');
    },
    refusals: [DataError],
  };
}

function cifarTarget(): FuzzTarget {
  const record = 3073;
  const seed = new Uint8Array(3 * record);
  for (let r = 0; r < 3; r++) {
    seed[r * record] = r * 4;
    for (let i = 1; i < record; i++) seed[r * record + i] = (r + i * 13) & 0xff;
  }
  const fields: FieldSpot[] = [0, record, 2 * record].map((offset) => ({ offset, bytes: 2, littleEndian: false }));
  return {
    name: 'cifar',
    seedCount: 1,
    mutate: (_seed, rng) => mutateBytes(seed, rng, fields),
    parse(bytes) {
      parseCifarBatch(bytes, 'data_batch_1.bin');
    },
    refusals: [DataError],
  };
}

// ------------------------------------------------------------------ images

/** One PNG chunk: length, type, data, CRC-32 of type and data (ISO/IEC 15948 §5.3). */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Recomputes the CRC of every chunk that lies inside the file, so that a mutation reaches the decoder. */
function fixPngCrcs(data: Uint8Array): Uint8Array {
  const out = data.slice();
  const view = new DataView(out.buffer);
  for (let i = 8; i + 12 <= out.length;) {
    const length = view.getUint32(i);
    if (i + 12 + length > out.length) break;
    view.setUint32(i + 8 + length, crc32(out.subarray(i + 4, i + 8 + length)));
    i += 12 + length;
  }
  return out;
}

/** An Adam7-interlaced 8-bit grey PNG (pngjs writes no interlaced files), with filter 0 on every row. */
function interlacedPng(width: number, height: number): Uint8Array {
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    for (let y = 0; y < h; y++) rows.push(0, ...Array.from({ length: w }, (_, x) => (x * 29 + y * 7) & 0xff));
  }
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 1], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', new Uint8Array(deflateSync(Uint8Array.from(rows)))), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function pngSeed(width: number, height: number, colorType: 0 | 2 | 6): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 31) & 0xff;
  return new Uint8Array(PNG.sync.write(png, { colorType }));
}

function pngTarget(): FuzzTarget {
  const seeds = [pngSeed(5, 4, 0), pngSeed(6, 3, 2), pngSeed(4, 4, 6), interlacedPng(9, 7)];
  const fields: FieldSpot[] = [8, 16, 20, 33].map((offset) => ({ offset, bytes: 4, littleEndian: false }));
  return {
    name: 'png',
    seedCount: seeds.length,
    mutate(seed, rng) {
      const out = mutateBytes(seeds[seed]!, rng, fields);
      return rng.uniform() < 0.7 ? fixPngCrcs(out) : out;
    },
    parse(bytes) {
      decodeImage(bytes, 'image.png', FUZZ_LIMITS);
    },
    refusals: [ImageError],
  };
}

/** The frame header's height and width fields and every segment length, as mutation targets. */
function jpegFields(data: Uint8Array): FieldSpot[] {
  const spots: FieldSpot[] = [];
  for (let i = 2; i + 4 < data.length && data[i] === 0xff;) {
    const marker = data[i + 1]!;
    if (marker === 0xda) break;
    spots.push({ offset: i + 2, bytes: 2, littleEndian: false });
    if (marker >= 0xc0 && marker <= 0xc2) spots.push({ offset: i + 5, bytes: 2, littleEndian: false }, { offset: i + 7, bytes: 2, littleEndian: false });
    i += 2 + ((data[i + 2]! << 8) | data[i + 3]!);
  }
  return spots;
}

function jpegSeed(width: number, height: number, quality: number): Uint8Array {
  const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 17) & 0xff);
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, quality).data);
}

function jpegTarget(): FuzzTarget {
  const seeds = [jpegSeed(8, 8, 90), jpegSeed(13, 9, 40)];
  const fields = seeds.map(jpegFields);
  return {
    name: 'jpeg',
    seedCount: seeds.length,
    mutate: (seed, rng) => mutateBytes(seeds[seed]!, rng, fields[seed]!),
    parse(bytes) {
      decodeImage(bytes, 'image.jpg', FUZZ_LIMITS);
    },
    refusals: [ImageError],
  };
}

// ------------------------------------------------------------------ audio

interface WavSeedLayout {
  readonly tag: 'pcm' | 'float';
  readonly bits: 8 | 16 | 24 | 32 | 64;
  readonly channels: number;
  /** WAVE_FORMAT_EXTENSIBLE (a 40-byte fmt chunk whose sub-format GUID carries the tag). */
  readonly extensible?: boolean;
  /** RF64 with a ds64 chunk and 32-bit sizes of 0xFFFFFFFF (EBU Tech 3306). */
  readonly rf64?: boolean;
}

/**
 * A WAV file of `frames` frames of a sine per channel, in the layout given, and the offsets of
 * its size, channel, rate, block-align and bits fields as mutation targets.
 */
function wavSeed(layout: WavSeedLayout, frames: number): { bytes: Uint8Array; fields: FieldSpot[] } {
  const { tag, bits, channels } = layout;
  const bytesPerSample = bits / 8;
  const dataBytes = frames * channels * bytesPerSample;
  const fmtBytes = layout.extensible === true ? 40 : 16;
  const ds64Bytes = layout.rf64 === true ? 8 + 28 : 0;
  const fmtAt = 12 + ds64Bytes;
  const dataAt = fmtAt + 8 + fmtBytes;
  const out = new Uint8Array(dataAt + 8 + dataBytes);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string): void => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  const riffSize = out.length - 8;
  text(0, layout.rf64 === true ? 'RF64' : 'RIFF');
  view.setUint32(4, layout.rf64 === true ? 0xffffffff : riffSize, true);
  text(8, 'WAVE');
  if (layout.rf64 === true) {
    text(12, 'ds64');
    view.setUint32(16, 28, true);
    view.setBigUint64(20, BigInt(riffSize), true);
    view.setBigUint64(28, BigInt(dataBytes), true);
    view.setBigUint64(36, BigInt(frames), true);
  }
  const plainTag = tag === 'pcm' ? 1 : 3;
  text(fmtAt, 'fmt ');
  view.setUint32(fmtAt + 4, fmtBytes, true);
  view.setUint16(fmtAt + 8, layout.extensible === true ? 0xfffe : plainTag, true);
  view.setUint16(fmtAt + 10, channels, true);
  view.setUint32(fmtAt + 12, 16000, true);
  view.setUint32(fmtAt + 16, 16000 * channels * bytesPerSample, true);
  view.setUint16(fmtAt + 20, channels * bytesPerSample, true);
  view.setUint16(fmtAt + 22, bits, true);
  if (layout.extensible === true) {
    view.setUint16(fmtAt + 24, 22, true); // extension size
    view.setUint16(fmtAt + 26, bits, true); // valid bits
    view.setUint32(fmtAt + 28, channels === 1 ? 0x4 : 0x3, true); // channel mask: centre, or left and right
    view.setUint16(fmtAt + 32, plainTag, true);
    out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], fmtAt + 34);
  }
  text(dataAt, 'data');
  view.setUint32(dataAt + 4, layout.rf64 === true ? 0xffffffff : dataBytes, true);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const v = 0.5 * Math.sin((2 * Math.PI * (c + 1) * f) / 16);
      const at = dataAt + 8 + (f * channels + c) * bytesPerSample;
      if (tag === 'float') {
        if (bits === 32) view.setFloat32(at, v, true);
        else view.setFloat64(at, v, true);
      } else if (bits === 8) view.setUint8(at, Math.round(v * 127) + 128);
      else if (bits === 16) view.setInt16(at, Math.round(v * 32767), true);
      else if (bits === 24) {
        const k = Math.round(v * 8388607);
        view.setUint16(at, k & 0xffff, true);
        view.setInt8(at + 2, k >> 16);
      } else view.setInt32(at, Math.round(v * 2147483647), true);
    }
  }
  const u32 = (offset: number): FieldSpot => ({ offset, bytes: 4, littleEndian: true });
  const u16 = (offset: number): FieldSpot => ({ offset, bytes: 2, littleEndian: true });
  const fields = [u32(4), u32(fmtAt + 4), u16(fmtAt + 8), u16(fmtAt + 10), u32(fmtAt + 12), u16(fmtAt + 20), u16(fmtAt + 22), u32(dataAt + 4)];
  if (layout.rf64 === true) fields.push(u32(16), { offset: 28, bytes: 8, littleEndian: true });
  if (layout.extensible === true) fields.push(u16(fmtAt + 24), u16(fmtAt + 32));
  return { bytes: out, fields };
}

function wavTarget(): FuzzTarget {
  const tone = Float32Array.from({ length: 24 }, (_, i) => 0.5 * Math.sin(i / 3));
  const encoded = encodeWav16(tone, 16000);
  const seeds = [
    { bytes: encoded, fields: wavSeed({ tag: 'pcm', bits: 16, channels: 1 }, 24).fields },
    wavSeed({ tag: 'pcm', bits: 8, channels: 1 }, 20),
    wavSeed({ tag: 'pcm', bits: 16, channels: 2 }, 16),
    wavSeed({ tag: 'pcm', bits: 24, channels: 1 }, 15),
    wavSeed({ tag: 'pcm', bits: 32, channels: 2 }, 12),
    wavSeed({ tag: 'float', bits: 32, channels: 1 }, 16),
    wavSeed({ tag: 'float', bits: 64, channels: 2 }, 8),
    wavSeed({ tag: 'pcm', bits: 24, channels: 2, extensible: true }, 10),
    wavSeed({ tag: 'float', bits: 32, channels: 1, extensible: true }, 12),
    wavSeed({ tag: 'pcm', bits: 16, channels: 2, rf64: true }, 12),
  ];
  return {
    name: 'wav',
    seedCount: seeds.length,
    mutate: (seed, rng) => mutateBytes(seeds[seed]!.bytes, rng, seeds[seed]!.fields),
    async parse(bytes) {
      await decodeAudio(bytes, 'clip.wav', FUZZ_LIMITS);
    },
    refusals: [AudioError],
  };
}

/** Offsets of every page's granule position (64-bit), the first page's Vorbis channel and rate fields, and each page's segment count. */
function oggFields(data: Uint8Array): FieldSpot[] {
  const spots: FieldSpot[] = [];
  for (let i = 0; i + 27 <= data.length && data[i] === 0x4f;) {
    spots.push({ offset: i + 6, bytes: 8, littleEndian: true });
    const segments = data[i + 26]!;
    if (i === 0) spots.push({ offset: 27 + segments + 7, bytes: 4, littleEndian: true }, { offset: 27 + segments + 12, bytes: 4, littleEndian: true });
    let body = 0;
    for (let s = 0; s < segments; s++) body += data[i + 27 + s]!;
    i += 27 + segments + body;
  }
  return spots;
}

/** The pages of an Ogg stream, each as [start, end) offsets, read by their lacing values (RFC 3533 §6). */
function oggPages(data: Uint8Array): Array<[number, number]> {
  const pages: Array<[number, number]> = [];
  for (let i = 0; i + 27 <= data.length;) {
    const segments = data[i + 26]!;
    let end = i + 27 + segments;
    for (let s = 0; s < segments; s++) end += data[i + 27 + s]!;
    pages.push([i, end]);
    i = end;
  }
  return pages;
}

/**
 * `data` with the body of one page mutated and the page's lacing values kept true to the new body,
 * so that the stream still ends in a complete page and the mutation reaches the Vorbis packets. A
 * body that keeps its length keeps its packet boundaries; one that changes length becomes one packet.
 */
function mutateOggPage(data: Uint8Array, pages: ReadonlyArray<[number, number]>, rng: Rng): Uint8Array {
  const [start, end] = pages[rng.int(pages.length)]!;
  const segments = data[start + 26]!;
  const oldBody = data.subarray(start + 27 + segments, end);
  // At most 254 lacing values of 255 and a last one below 255 (RFC 3533 §6).
  const body = mutateBytes(oldBody, rng).subarray(0, 254 * 255);
  const lacing = body.length === oldBody.length
    ? data.subarray(start + 27, start + 27 + segments)
    : Uint8Array.from({ length: Math.floor(body.length / 255) + 1 }, (_, k, n = Math.floor(body.length / 255)) => (k < n ? 255 : body.length % 255));
  const page = new Uint8Array(27 + lacing.length + body.length);
  page.set(data.subarray(start, start + 27));
  page[26] = lacing.length;
  page.set(lacing, 27);
  page.set(body, 27 + lacing.length);
  const out = new Uint8Array(data.length - (end - start) + page.length);
  out.set(data.subarray(0, start));
  out.set(page, start);
  out.set(data.subarray(end), start + page.length);
  return out;
}

/**
 * Ogg Vorbis: the committed stereo tone (5 KB). The decoder (libvorbis in WebAssembly) ignores
 * page CRCs, so a mutation reaches it without the checksums being fixed. speech.ogg (15 KB) is
 * left out: it would triple the time per case, and the tone's three pages already carry every
 * kind of Vorbis packet (identification, comment, setup, audio) and an end-of-stream page.
 */
function oggVorbisTarget(): FuzzTarget {
  const tone = new Uint8Array(readFileSync(new URL('../../test/fixtures/audio/tone.ogg', import.meta.url)));
  const fields = oggFields(tone);
  const pages = oggPages(tone);
  return {
    name: 'ogg-vorbis',
    seedCount: 1,
    mutate: (_seed, rng) => (rng.uniform() < 0.5 ? mutateOggPage(tone, pages, rng) : mutateBytes(tone, rng, fields)),
    async parse(bytes) {
      await decodeAudio(bytes, 'clip.ogg', FUZZ_LIMITS);
    },
    refusals: [AudioError],
  };
}

/** Every target, in the order `npm run fuzz` reports them. */
export function fuzzTargets(): FuzzTarget[] {
  return [
    safetensorsTarget(),
    jsonTarget('config', configSeeds(), (text) => void configFromJson(parseJson(encodeText(text), 'config.json'), 'config.json'), [CheckpointError, NotJsonError]),
    jsonTarget('checkpoint-pointer', pointerSeeds(), (text) => void parsePointer(text, 'checkpoint.json'), [RunDirectoryError]),
    jsonTarget('trainer-state', trainerStateSeeds(), (text) => void parseTrainerState(text, 'trainer-state.json'), [CheckpointError]),
    jsonTarget('indices', indicesSeeds(), (text, seed) => void parseIndicesFile(parseIndicesJson(text, 'codes.json'), 'codes.json', INDICES_SHAPES[seed]!), [IndicesFileError]),
    idxTarget(),
    cifarTarget(),
    pngTarget(),
    jpegTarget(),
    wavTarget(),
    oggVorbisTarget(),
  ];
}

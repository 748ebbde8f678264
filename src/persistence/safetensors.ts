/**
 * The safetensors format (https://github.com/huggingface/safetensors), written and read here so
 * checkpoints open in Python with `safetensors.safe_open` / `safetensors.numpy.load_file`:
 *
 *   bytes 0..8        N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N      UTF-8 JSON: { "__metadata__"?: {string: string},
 *                                    name: { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] } }
 *                     padded with spaces (0x20) so that 8 + N is a multiple of 8
 *   bytes 8+N..       the tensors' raw little-endian data; offsets are relative to this point,
 *                     and the tensors tile it exactly (no gaps, no overlaps)
 *
 * Only float32 ("F32") is written or read: every vqlab variable is float32.
 */
import { shownValue } from '../limits/shown-value.js';

export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A file that is not valid safetensors, or holds something vqlab cannot use. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The same bound the reference implementation applies, so a garbage length fails fast. */
const MAX_HEADER_BYTES = 100_000_000;
/** Typed arrays use the host's byte order; safetensors data is little-endian. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialize tensors (in name order, for reproducible bytes) with optional string metadata. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' is reserved and cannot name a tensor`);
    const { shape, data } = tensors.get(name)!;
    if (data.length !== shapeSize(shape)) throw new SafetensorsError(`tensor '${name}' has ${data.length} values but shape [${shape.join(',')}]`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder();
  json += ' '.repeat((8 - ((8 + utf8.encode(json).length) % 8)) % 8);
  const headerBytes = utf8.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors.get(name)!;
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i]!, true);
    }
    pos += data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


interface TensorEntry {
  readonly name: string;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Parse and validate safetensors bytes. `source` (a file name) prefixes every error, each of
 * which says what is wrong in one line. Every entry and the tiling of the data section are
 * checked before any tensor is allocated, so the allocations add up to the data section's size
 * whatever the header declares (entries pointing at overlapping spans are refused first).
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): DecodedSafetensors {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source}: ${why}`);
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes, too short for a safetensors file (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    fail(`header length ${n64} exceeds the ${bytes.length - 8} bytes after the length field; the file is truncated or not safetensors`);
  }
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    fail('header is not valid JSON; the file is corrupt or not safetensors');
  }
  if (!isRecord(header)) return fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: [string, string][] = [];
  const entries: TensorEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry)) return fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fail(`__metadata__ value of ${shownValue(k)} must be a string`);
        metadata.push([k, v as string]);
      }
      continue;
    }
    if (!isRecord(entry)) return fail(`entry ${shownValue(name)} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (dtype !== 'F32') fail(`tensor ${shownValue(name)} has dtype ${shownValue(dtype)}; vqlab reads only F32`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${shownValue(name)} has an invalid shape ${shownValue(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor ${shownValue(name)} has invalid data_offsets ${shownValue(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    if (end < begin || end > dataLength) fail(`tensor ${shownValue(name)} data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data section (truncated file?)`);
    // A product of safe integers may pass 2^53 and round, but never to a span of the file's size.
    const needed = 4 * shapeSize(dims);
    if (end - begin !== needed) fail(`tensor ${shownValue(name)} spans ${end - begin} bytes but F32 shape ${shownValue(dims)} needs ${needed}`);
    entries.push({ name, shape: dims, begin, end });
  }
  // The reference reader requires the tensors to tile the data section exactly.
  const byStart = [...entries].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const { begin, end, name } of byStart) {
    if (begin !== expected) fail(`tensor ${shownValue(name)} starts at byte ${begin}, expected ${expected} (gap or overlap in the data section)`);
    expected = end;
  }
  if (expected !== dataLength) fail(`tensors cover ${expected} of the ${dataLength} data bytes (trailing garbage or truncated tensor)`);
  const tensors = new Map<string, NamedTensor>();
  for (const { name, shape, begin, end } of entries) {
    const data = new Float32Array((end - begin) / 4);
    if (LITTLE_ENDIAN_HOST) {
      // Copy: the data section need not be 4-byte aligned within the file buffer.
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    } else {
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    }
    tensors.set(name, { shape, data });
  }
  // fromEntries defines each key as an own property, a key named "__proto__" included.
  return { tensors, metadata: Object.fromEntries(metadata) };
}

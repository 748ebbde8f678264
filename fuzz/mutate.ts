/**
 * Seeded mutations of valid input files, for the fuzz harness (main.ts, targets.ts).
 *
 * Bytes: bit flips, byte sets to boundary values, truncation, extension with random bytes,
 * splices of the file into itself, and huge lengths or counts written over the header fields a
 * format declares (`FieldSpot`s), where a parser is most likely to trust a number.
 *
 * JSON: structure-aware edits of the parsed seed (a value replaced by one of the wrong type, by
 * NaN or ±Infinity, which JSON cannot hold and so arrive as bare literals, by a negative or an
 * enormous number; a key deleted or duplicated; a value wrapped in deep nesting), serialized
 * back to text, sometimes followed by a byte-level edit of that text.
 */
import { Rng } from '../src/init/rng.js';

/** A numeric header field: where it sits, its width and byte order. */
export interface FieldSpot {
  readonly offset: number;
  readonly bytes: 2 | 4 | 8;
  readonly littleEndian: boolean;
}

/** Values that sit on the edges parsers get wrong: 0, all ones, signed extremes, 2³¹, 2³², 2⁵³. */
const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const HUGE_FIELD_VALUES: readonly bigint[] = [0n, 1n, 0x7fffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 53n) + 1n, (1n << 63n) - 1n, (1n << 64n) - 1n];

function writeField(out: Uint8Array, spot: FieldSpot, value: bigint): void {
  if (spot.offset + spot.bytes > out.length) return;
  const masked = value & ((1n << BigInt(8 * spot.bytes)) - 1n);
  for (let i = 0; i < spot.bytes; i++) {
    const byte = Number((masked >> BigInt(8 * i)) & 0xffn);
    out[spot.offset + (spot.littleEndian ? i : spot.bytes - 1 - i)] = byte;
  }
}

type ByteMutation = (data: Uint8Array, rng: Rng, fields: readonly FieldSpot[]) => Uint8Array;

const BYTE_MUTATIONS: readonly ByteMutation[] = [
  function flipBits(data, rng) {
    const out = data.slice();
    for (let n = 1 + rng.int(4); n > 0 && out.length > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  function setBytes(data, rng) {
    const out = data.slice();
    for (let n = 1 + rng.int(4); n > 0 && out.length > 0; n--) out[rng.int(out.length)] = rng.uniform() < 0.5 ? BOUNDARY_BYTES[rng.int(BOUNDARY_BYTES.length)]! : rng.int(256);
    return out;
  },
  function truncate(data, rng) {
    return data.slice(0, rng.int(data.length + 1));
  },
  function extend(data, rng) {
    const extra = new Uint8Array(1 + rng.int(rng.uniform() < 0.9 ? 64 : 4096));
    for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
    const out = new Uint8Array(data.length + extra.length);
    out.set(data);
    out.set(extra, data.length);
    return out;
  },
  function splice(data, rng) {
    if (data.length === 0) return data.slice();
    const from = rng.int(data.length);
    const length = 1 + rng.int(Math.min(256, data.length - from));
    const at = rng.int(data.length + 1);
    const chunk = data.subarray(from, from + length);
    const out = new Uint8Array(data.length + chunk.length);
    out.set(data.subarray(0, at));
    out.set(chunk, at);
    out.set(data.subarray(at), at + chunk.length);
    return out;
  },
  function hugeField(data, rng, fields) {
    const out = data.slice();
    const spot: FieldSpot = fields.length > 0 && rng.uniform() < 0.8
      ? fields[rng.int(fields.length)]!
      : { offset: rng.int(Math.max(1, out.length - 3)), bytes: 4, littleEndian: rng.uniform() < 0.5 };
    writeField(out, spot, HUGE_FIELD_VALUES[rng.int(HUGE_FIELD_VALUES.length)]!);
    return out;
  },
];

/** One to three byte-level mutations of `data`; `fields` are the header fields worth overwriting. */
export function mutateBytes(data: Uint8Array, rng: Rng, fields: readonly FieldSpot[] = []): Uint8Array {
  let out = data;
  for (let n = 1 + rng.int(3); n > 0; n--) out = BYTE_MUTATIONS[rng.int(BYTE_MUTATIONS.length)]!(out, rng, fields);
  return out;
}

// ------------------------------------------------------------------ JSON

/** Text to put in the serialized JSON as is (NaN, Infinity, a number JSON.stringify would round). */
class RawToken {
  constructor(readonly text: string) {}
}

/** A key written twice in one object: the serializer emits both (JSON.parse keeps the last). */
class DuplicatedKeys {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

type Json = unknown;

const ODD_VALUES: readonly (() => Json)[] = [
  () => null,
  () => true,
  () => 'text',
  () => '',
  () => [],
  () => ({}),
  () => [1, 2, 3],
  () => ({ kind: 'vq' }),
  () => new RawToken('NaN'),
  () => new RawToken('Infinity'),
  () => new RawToken('-Infinity'),
  () => -1,
  () => -0,
  () => 0,
  () => 0.5,
  () => 1e12,
  () => 1e308,
  () => new RawToken('1e400'),
  () => 2 ** 53 + 2,
  () => -(2 ** 31),
  () => 2 ** 32,
  () => 4294967295,
];

function serialize(v: Json): string {
  if (v instanceof RawToken) return v.text;
  if (v instanceof DuplicatedKeys) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${serialize(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(serialize).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${serialize(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Every container (object or array) in `v`, with the keys or indices it holds. */
function containers(v: Json, out: (Record<string, Json> | Json[])[] = []): (Record<string, Json> | Json[])[] {
  if (Array.isArray(v)) {
    out.push(v);
    for (const x of v) containers(x, out);
  } else if (typeof v === 'object' && v !== null && !(v instanceof RawToken) && !(v instanceof DuplicatedKeys)) {
    out.push(v as Record<string, Json>);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

function randomNumberNear(v: number, rng: Rng): Json {
  switch (rng.int(6)) {
    case 0: return -v;
    case 1: return v * 2 ** (10 + rng.int(40));
    case 2: return v + 0.5;
    case 3: return v - 1;
    case 4: return new RawToken(`${v}e${100 + rng.int(300)}`);
    default: return Math.round(v * (1 + rng.int(1000)));
  }
}

/** One structure-aware edit of `root`, in place; returns the new root (a whole replacement, at times). */
function editJson(root: Json, rng: Rng): Json {
  const all = containers(root);
  if (all.length === 0 || rng.uniform() < 0.05) return ODD_VALUES[rng.int(ODD_VALUES.length)]!();
  const box = all[rng.int(all.length)]!;
  const keys = Array.isArray(box) ? box.map((_, i) => String(i)) : Object.keys(box);
  if (keys.length === 0) {
    if (Array.isArray(box)) box.push(ODD_VALUES[rng.int(ODD_VALUES.length)]!());
    else box.extra = ODD_VALUES[rng.int(ODD_VALUES.length)]!();
    return root;
  }
  const key = keys[rng.int(keys.length)]!;
  const get = (): Json => (Array.isArray(box) ? box[Number(key)] : box[key]);
  const set = (x: Json): void => {
    if (Array.isArray(box)) box[Number(key)] = x;
    else box[key] = x;
  };
  switch (rng.int(7)) {
    case 0:
    case 1:
      set(ODD_VALUES[rng.int(ODD_VALUES.length)]!());
      break;
    case 2: {
      const current = get();
      set(typeof current === 'number' ? randomNumberNear(current, rng) : ODD_VALUES[rng.int(ODD_VALUES.length)]!());
      break;
    }
    case 3:
      if (Array.isArray(box)) box.splice(Number(key), 1);
      else delete box[key];
      break;
    case 4:
      if (Array.isArray(box)) box.push(...box.slice(0, 1 + rng.int(box.length)));
      else set(new DuplicatedKeys([[key, get()], [key, ODD_VALUES[rng.int(ODD_VALUES.length)]!()]]));
      break;
    case 5: {
      // Deep nesting: 1,000 to 100,000 levels, past what a recursive walker's stack holds.
      const depth = 10 ** (3 + rng.int(3));
      set(new RawToken(`${'['.repeat(depth)}${serialize(get())}${']'.repeat(depth)}`));
      break;
    }
    default:
      // A long array in place of a value, as a file declaring many entries would have.
      set(new RawToken(`[${Array.from({ length: 1 + rng.int(2000) }, () => String(rng.int(100))).join(',')}]`));
  }
  return root;
}

/** Text of a mutated JSON document: one to three structural edits, and sometimes a byte-level one. */
export function mutateJson(seed: Json, rng: Rng): Uint8Array {
  let value: Json = structuredClone(seed);
  for (let n = 1 + rng.int(3); n > 0; n--) value = editJson(value, rng);
  const text = new TextEncoder().encode(serialize(value));
  return rng.uniform() < 0.2 ? mutateBytes(text, rng) : text;
}

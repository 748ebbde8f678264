/**
 * checksums.json: the SHA-256 (FIPS 180-4) and size of every file of a checkpoint, recorded when
 * the checkpoint is committed and checked whenever it is loaded, so that a flipped bit on disk is
 * refused instead of silently changing the weights (the safetensors format has no checksum of its
 * own; storage such as git's object store and ZFS checksums every object it hands back for the
 * same reason):
 *
 *   { "format": "vqlab-checksums", "version": 1, "algorithm": "sha256",
 *     "files": { "model.safetensors": { "sha256": "<64 lowercase hex digits>", "bytes": 123456 }, … } }
 *
 * Nothing here touches the file system and there are no node: imports: hashing is Web Crypto's
 * `crypto.subtle.digest('SHA-256', …)`, which Node (19 and later) and browsers both provide, so
 * the demo page verifies a checkpoint's uploaded files with the same code and the same errors.
 */
import { DEFAULT_LIMITS, limitExceeded, type InputLimits } from '../limits/input-limits.js';
import { CheckpointError } from './checkpoint-weights.js';
import { JsonFields, type JsonSource } from './json-fields.js';

export const CHECKSUMS_FILE = 'checksums.json';
const CHECKSUMS_FORMAT = 'vqlab-checksums';

/** What the user can do about a checkpoint whose files fail their checksums. */
const REMEDY = 'use another checkpoint of the run (--checkpoint best, or last) or restore the run from a copy';

export interface FileChecksum {
  /** 64 lowercase hexadecimal digits. */
  readonly sha256: string;
  readonly bytes: number;
}

/** The recorded checksum of each file, by file name. */
export type Checksums = ReadonlyMap<string, FileChecksum>;

/** A plain file name: no folder, no `..`, no hidden or temporary name. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;
/** Lowercase only: the format writes lowercase, and accepting 'A' would let the bit flip a → A pass. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `folder/name`, as the errors name a file. */
function filePath(folder: string, name: string): string {
  return folder === '' ? name : `${folder.replace(/\/+$/, '')}/${name}`;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // SubtleCrypto takes views of an ArrayBuffer, not of a SharedArrayBuffer (copied then).
  const data = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The text of checksums.json for `files` (name → contents). */
export async function checksumsText(files: ReadonlyMap<string, Uint8Array>): Promise<string> {
  const entries: Record<string, FileChecksum> = {};
  for (const name of [...files.keys()].sort()) {
    const bytes = files.get(name)!;
    entries[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }
  return `${JSON.stringify({ format: CHECKSUMS_FORMAT, version: 1, algorithm: 'sha256', files: entries }, null, 2)}\n`;
}

/**
 * The checksums in `text` (the contents of `path`), every field checked; anything else is refused
 * with one `CheckpointError` line naming the file and the field.
 */
export function parseChecksums(text: string, path: string): Checksums {
  const source: JsonSource = {
    path,
    remedy: `the checkpoint's checksums are damaged, so none of its files can be trusted; ${REMEDY}`,
    fail: (message) => new CheckpointError(message),
  };
  const c = JsonFields.parse(text, source);
  c.constant('format', CHECKSUMS_FORMAT);
  c.constant('version', 1);
  c.constant('algorithm', 'sha256');
  const files = c.object('files');
  const out = new Map<string, FileChecksum>();
  for (const name of files.keys()) {
    if (!FILE_NAME.test(name)) throw new CheckpointError(`${path} lists ${JSON.stringify(name.slice(0, 40))}, which is not a plain file name; ${source.remedy}`);
    const entry = files.object(name);
    out.set(name, { sha256: entry.string('sha256', { test: SHA256_HEX, wanted: '64 lowercase hexadecimal digits' }), bytes: entry.integer('bytes', 0) });
  }
  return out;
}

/**
 * Refuse `bytes`, read from `folder`/`name`, unless they are what `checksums` recorded for that
 * name: the same size and the same SHA-256.
 */
export async function verifyFile(checksums: Checksums, folder: string, name: string, bytes: Uint8Array): Promise<void> {
  const path = filePath(folder, name);
  const recorded = checksums.get(name);
  if (recorded === undefined) throw unlistedFileError(folder, name);
  checkSize(recorded, path, bytes.length);
  if ((await sha256Hex(bytes)) !== recorded.sha256) throw new CheckpointError(`${path} does not match the SHA-256 recorded when it was saved (the file, or checksums.json, changed on disk); ${REMEDY}`);
}

function checkSize(recorded: FileChecksum, path: string, size: number): void {
  if (size !== recorded.bytes) {
    throw new CheckpointError(`${path} has ${size} bytes but ${recorded.bytes} were recorded when it was saved (the file was truncated or changed on disk); ${REMEDY}`);
  }
}

/** The one-line refusal of a checkpoint file that checksums.json does not list. */
export function unlistedFileError(folder: string, name: string): CheckpointError {
  return new CheckpointError(`${filePath(folder, name)} is not listed in ${filePath(folder, CHECKSUMS_FILE)}, so it cannot be verified (the checksums file is damaged, or the file comes from another checkpoint); ${REMEDY}`);
}

/** The one-line refusal of a file that checksums.json lists but the folder lacks. */
export function missingFileError(folder: string, name: string): CheckpointError {
  return new CheckpointError(`${filePath(folder, name)} is listed in ${CHECKSUMS_FILE} but missing; ${REMEDY}`);
}

/** The notice for a checkpoint folder without checksums.json. */
export function noChecksumsNotice(folder: string): string {
  return `${folder} carries no checksums (written before vqlab recorded them), so its files are loaded unverified`;
}

export interface CheckpointVerification {
  /** The names of the files that matched their recorded checksums. */
  readonly verified: readonly string[];
  /** Set when nothing could be verified because the checkpoint carries no checksums. */
  readonly notice?: string;
}

/**
 * Check a checkpoint's files given as bytes (e.g. uploaded to a web page) against its
 * checksums.json, also given as bytes, or `undefined` when the checkpoint has none (one written
 * before vqlab recorded them: nothing is verified, and the result says so). `where` names the
 * checkpoint folder in messages. Throws `CheckpointError` naming the first file that does not
 * match, or a damaged checksums file.
 */
export async function verifyCheckpointFiles(files: Readonly<Record<string, Uint8Array>>, checksums: Uint8Array | undefined, where: string, limits: InputLimits = DEFAULT_LIMITS): Promise<CheckpointVerification> {
  if (checksums === undefined) return { verified: [], notice: noChecksumsNotice(where) };
  const path = filePath(where, CHECKSUMS_FILE);
  if (checksums.length > limits.maxJsonBytes) throw new CheckpointError(limitExceeded(path, 'maxJsonBytes', checksums.length, limits));
  const recorded = parseChecksums(new TextDecoder().decode(checksums), path);
  const verified: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    await verifyFile(recorded, where, name, bytes);
    verified.push(name);
  }
  return { verified };
}

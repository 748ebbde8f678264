import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { decodeImage } from '../src/images/decode.js';
import { Rng } from '../src/init/rng.js';
import { readImageHeader } from '../src/images/image-header.js';
import { DEFAULT_LIMITS } from '../src/limits/input-limits.js';
import { CLI_MAIN, loaderFlags } from './helpers/run-cli.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';

// The decompression bomb: a PNG whose IHDR declares 30,000 × 30,000 pixels (3.6 GB of
// RGBA) while the file itself is small. The size is in its first 24 bytes, so every reader must
// refuse it from the header, with one line naming the file and the flag, in little memory.

/** A chunk: length, type, data, CRC-32 over type and data (ISO/IEC 15948 §5.3). */
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  let c = 0xffffffff;
  for (const b of out.subarray(4, 8 + data.length)) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** A grey 8-bit PNG declaring width × height, whose IDAT holds the first rows only (about 1 MB of file). */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  // Random rows do not compress, so 33 of them make a file of about 1 MB, as in the issue.
  const rng = new Rng(24);
  const rows = Buffer.alloc(33 * (width + 1));
  for (let i = 0; i < rows.length; i++) rows[i] = rng.int(256);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]);
}

const BOMB_MESSAGE = /bomb\.png declares 900,000,000 pixels \(30000×30000\), over the cap of 16,777,216; raise it with --max-pixels N if the file is genuine/;
/** Resident memory the refusal may take, the bound: a node process with vqlab loaded is about 100 MB. */
const RSS_BOUND_MB = 200;

interface ProbedRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly peakRssMb: number;
}

/** Runs the CLI with a preload that records the child's peak resident memory (getrusage) at exit. */
async function runCliMeasured(args: readonly string[], work: string): Promise<ProbedRun> {
  const probe = join(work, 'rss-probe.mjs');
  const rssFile = join(work, `rss-${Date.now()}.txt`);
  writeFileSync(probe, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
  const child = spawn(process.execPath, [...loaderFlags(), '--import', pathToFileURL(probe).href, CLI_MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { code, stderr, peakRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

function assertRefusedInLittleMemory(r: ProbedRun, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^vqlab: /);
  assert.match(lines[0]!, pattern);
  assert.ok(r.peakRssMb < RSS_BOUND_MB, `peak resident memory ${r.peakRssMb.toFixed(0)} MB, over ${RSS_BOUND_MB} MB`);
}

let work = '';
let bomb = '';
let checkpoint = '';

before(async () => {
  work = tempDir('bomb');
  bomb = join(work, 'bomb.png');
  writeFileSync(bomb, bombPng(30_000, 30_000));
  checkpoint = (await tinyCheckpoint()).out;
});

test('the 30,000² PNG is sized from its IHDR and refused before pngjs sees it', () => {
  const bytes = readFileSync(bomb);
  assert.ok(bytes.length > 900_000 && bytes.length < 1_300_000, `${bytes.length} bytes`);
  assert.deepEqual(readImageHeader(bytes.subarray(0, 26), 'bomb.png'), { format: 'png', width: 30_000, height: 30_000, channels: 1 });
  assert.throws(() => decodeImage(bytes, 'bomb.png', DEFAULT_LIMITS), BOMB_MESSAGE);
});

test('vqlab encode refuses the 30,000² PNG in one line and under 200 MB', async () => {
  assertRefusedInLittleMemory(await runCliMeasured(['encode', checkpoint, bomb], work), BOMB_MESSAGE);
});

test('vqlab train --data sizes every image of the folder before decoding any', async () => {
  const folder = join(work, 'folder');
  mkdirSync(folder);
  // Sorted before the bomb: a valid image, and one whose header is intact but whose data is cut
  // off. A loader that decoded files as it went would stop at b.png; one that sizes every file
  // first names the bomb.
  const png = new PNG({ width: 28, height: 28 });
  png.data.fill(90);
  const valid = PNG.sync.write(png, { colorType: 0 });
  writeFileSync(join(folder, 'a.png'), valid);
  writeFileSync(join(folder, 'b.png'), valid.subarray(0, 40));
  assert.throws(() => decodeImage(valid.subarray(0, 40), 'b.png'), /b\.png cannot be decoded as PNG/);
  writeFileSync(join(folder, 'bomb.png'), readFileSync(bomb));
  const args = ['train', '--data', folder, '--image-size', '28', '--epochs', '1', '--quiet', '--out', join(work, 'run')];
  assertRefusedInLittleMemory(await runCliMeasured(args, work), /folder\/bomb\.png declares 900,000,000 pixels \(30000×30000\), over the cap of 16,777,216; raise it with --max-pixels N if the file is genuine or remove it from the folder/);
  // The flag reaches the loader: with a cap below 28 × 28 the ordinary images are refused too.
  const small = await runCliMeasured([...args.slice(0, -2), '--out', join(work, 'run2'), '--max-pixels', '100'], work);
  assertRefusedInLittleMemory(small, /folder\/a\.png declares 784 pixels \(28×28\), over the cap of 100; raise it with --max-pixels N/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { IndicesFileError, parseIndicesFile, readIndicesJson, type IndexGridShape } from '../src/cli/indices-file.js';
import { loadCifarFiles } from '../src/data/cifar.js';
import { DataError } from '../src/data/errors.js';
import { loadIdx } from '../src/data/idx.js';
import { loadImageFolder } from '../src/data/image-folder.js';
import { checkImagePixels, readImageHeader } from '../src/images/image-header.js';
import { ImageError } from '../src/images/image-error.js';
import { DEFAULT_LIMITS, type InputLimits } from '../src/limits/input-limits.js';
import { tempDir } from './helpers/checkpoint-fixture.js';

const SMALL: InputLimits = { maxPixels: 10_000, maxJsonBytes: 1000, maxDataBytes: 64 * 1024, maxAudioSamples: 10_000 };

/** `fn` throws `type` with a one-line message matching every pattern. */
function refuses(fn: () => unknown, type: abstract new (...args: never[]) => Error, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, String(err));
    assert.ok(!err.message.includes('\n'), err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('image headers: PNG IHDR and JPEG SOF give size and channels without decoding', () => {
  const png = new PNG({ width: 7, height: 3 });
  assert.deepEqual(readImageHeader(PNG.sync.write(png, { colorType: 2 }), 'a.png'), { format: 'png', width: 7, height: 3, channels: 3 });
  assert.deepEqual(readImageHeader(PNG.sync.write(png, { colorType: 0 }), 'a.png'), { format: 'png', width: 7, height: 3, channels: 1 });
  const jpg = new Uint8Array(jpeg.encode({ width: 9, height: 5, data: new Uint8Array(9 * 5 * 4) }, 80).data);
  assert.deepEqual(readImageHeader(jpg, 'b.jpg'), { format: 'jpeg', width: 9, height: 5, channels: 3 });
  // An APP segment of 60 KB before the frame header is walked over by its length.
  const app = new Uint8Array(4 + 60_000);
  app.set([0xff, 0xe1, 60_002 >> 8, 60_002 & 0xff]);
  const padded = new Uint8Array([...jpg.subarray(0, 2), ...app, ...jpg.subarray(2)]);
  assert.deepEqual(readImageHeader(padded, 'c.jpg'), { format: 'jpeg', width: 9, height: 5, channels: 3 });
  refuses(() => readImageHeader(padded.subarray(0, 30_000), 'c.jpg'), ImageError, /c\.jpg cannot be decoded as JPEG \(it ends before its frame header/);
  const zero = PNG.sync.write(png);
  zero.writeUInt32BE(0, 16);
  refuses(() => readImageHeader(zero, 'z.png'), ImageError, /z\.png cannot be decoded as PNG \(it declares 0×3 pixels/);
  refuses(() => checkImagePixels({ format: 'png', width: 200, height: 100, channels: 1 }, 'big.png', SMALL), ImageError,
    /^big\.png declares 20,000 pixels \(200×100\), over the cap of 10,000; raise it with --max-pixels N/);
});

test('IDX and CIFAR files are sized before they are read, and gzip stops at the byte cap', () => {
  const dir = tempDir('caps');
  // A gzip bomb: 64 KiB of file that inflates to 64 MiB.
  const bomb = join(dir, 'bomb-images-idx3-ubyte.gz');
  writeFileSync(bomb, gzipSync(Buffer.alloc(64 * 2 ** 20)));
  refuses(() => loadIdx(bomb, undefined, bomb, SMALL), DataError, /bomb-images-idx3-ubyte\.gz inflates to more than 65,536 bytes, the cap on a dataset file; raise it with --max-data-bytes N/);
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x803, 0);
  header.writeUInt32BE(0xffffffff, 4);
  header.writeUInt32BE(0xffffffff, 8);
  header.writeUInt32BE(0xffffffff, 12);
  const absurd = join(dir, 'absurd-images-idx3-ubyte');
  writeFileSync(absurd, header);
  refuses(() => loadIdx(absurd), DataError, /is truncated: header says 4294967295 images of 4294967295×4294967295/);
  const cifar = join(dir, 'data_batch_1.bin');
  writeFileSync(cifar, Buffer.alloc(3073 * 30));
  refuses(() => loadCifarFiles([cifar], 'x', SMALL), DataError, /CIFAR-10 file .*data_batch_1\.bin declares 92,190 bytes \(on disk\), over the cap of 65,536; raise it with --max-data-bytes N/);
});

test('an image folder is refused when its dataset would pass the byte cap, before any image is read', () => {
  const dir = tempDir('folder-caps');
  mkdirSync(join(dir, 'x'));
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'x', `${i}.png`), 'not read');
  refuses(() => loadImageFolder(dir, { size: 64, limits: SMALL }), DataError, /image folder .* declares 147,456 bytes \(3 images of 3×64×64 float32\), over the cap of 65,536; raise it with --max-data-bytes N/);
});

const SHAPE: IndexGridShape = { height: 2, width: 2, depth: 1, codebookSize: 16 };

test('indices files: sized before reading; every index an integer in [0, K); the grid and K checked', () => {
  const dir = tempDir('indices');
  const big = join(dir, 'big.json');
  writeFileSync(big, JSON.stringify(Array.from({ length: 300 }, () => [[1, 2], [3, 4]])));
  refuses(() => readIndicesJson(big, SMALL), IndicesFileError, /indices file .*big\.json declares \d[\d,]* bytes, over the cap of 1,000; raise it with --max-json-bytes N/);
  assert.deepEqual([...parseIndicesFile(readIndicesJson(big, DEFAULT_LIMITS), 'big.json', SHAPE).indices.subarray(0, 8)], [1, 2, 3, 4, 1, 2, 3, 4]);
  for (const [bad, shown] of [[16, '16'], [-1, '-1'], [1.5, '1.5'], [1e300, '1e+300'], ['3', '"3"'], [null, 'null']] as const) {
    refuses(() => parseIndicesFile([[0, bad], [0, 0]], 'c.json', SHAPE), IndicesFileError, new RegExp(`c\\.json: grid 0 has index ${shown.replace(/[.+]/g, '\\$&')} at row 0, column 1; indices are integers from 0 to 15 \\(K = 16\\)`));
  }
  refuses(() => parseIndicesFile([[0, 1], [2]], 'c.json', SHAPE), IndicesFileError, /grid 0 row 1 has 1 indices but the model's latent grid is 2×2 \(2 per row\)/);
  refuses(() => parseIndicesFile({ grid: [7, 7], images: [] }, 'c.json', SHAPE), IndicesFileError, /c\.json declares grid \[7,7\] but the model's latent grid is 2×2/);
  refuses(() => parseIndicesFile({ codebook_size: 1024, images: [] }, 'c.json', SHAPE), IndicesFileError, /declares codebook_size 1024 but the model has 16 codes/);
  refuses(() => parseIndicesFile({ images: [7] }, 'c.json', SHAPE), IndicesFileError, /c\.json: images\[0\] is 7/);
  refuses(() => parseIndicesFile('codes', 'c.json', SHAPE), IndicesFileError, /is neither `vqlab encode` output/);
});

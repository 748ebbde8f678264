import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError } from '../src/data/errors.js';
import { describe, imageAt, makeDataset, splitTrainTest, subset, type ImageDataset } from '../src/data/dataset.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { loadIdx } from '../src/data/idx.js';
import { loadCifarFiles } from '../src/data/cifar.js';
import { loadImageFolder } from '../src/data/image-folder.js';
import { resizeImage } from '../src/images/resize.js';
import { loadDataset, loadDatasetSplit } from '../src/data/load.js';
import { BatchIterator } from '../src/data/batches.js';

const root = mkdtempSync(join(tmpdir(), 'vqlab-data-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirCounter = 0;
/** A fresh empty directory under the test's temp root. */
function freshDir(): string {
  const d = join(root, `d${dirCounter++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const u8 = (v: number): number => Math.fround(v / 255);

function idxImages(count: number, h: number, w: number, pixel: (i: number, p: number) => number): Buffer {
  const b = Buffer.alloc(16 + count * h * w);
  b.writeUInt32BE(0x803, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(h, 8);
  b.writeUInt32BE(w, 12);
  for (let i = 0; i < count; i++) for (let p = 0; p < h * w; p++) b[16 + i * h * w + p] = pixel(i, p);
  return b;
}

function idxLabels(labels: number[]): Buffer {
  const b = Buffer.alloc(8 + labels.length);
  b.writeUInt32BE(0x801, 0);
  b.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => { b[8 + i] = l; });
  return b;
}

function cifarRecords(n: number, firstLabel: number): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let r = 0; r < n; r++) {
    b[r * 3073] = (firstLabel + r) % 10;
    for (let p = 0; p < 3072; p++) b[r * 3073 + 1 + p] = (p * 7 + r * 31) % 256;
  }
  return b;
}

function writePng(file: string, w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [r, g, b] = rgb(x, y);
    const o = 4 * (y * w + x);
    png.data[o] = r; png.data[o + 1] = g; png.data[o + 2] = b; png.data[o + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(png));
}

function writeJpeg(file: string, w: number, h: number, gray: (x: number, y: number) => number): void {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = 4 * (y * w + x);
    data[o] = data[o + 1] = data[o + 2] = gray(x, y); data[o + 3] = 255;
  }
  writeFileSync(file, jpeg.encode({ data, width: w, height: h }, 100).data);
}

/** Asserts that fn throws a DataError whose message matches every pattern and is a single line. */
function throwsData(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

function toy(count: number, labelled = true): ImageDataset {
  const images = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) { images[2 * i] = i; images[2 * i + 1] = -i; }
  return makeDataset({
    images, count, channels: 1, height: 1, width: 2, name: 'toy',
    labels: labelled ? Uint8Array.from({ length: count }, (_, i) => i % 256) : undefined,
  });
}

// ---------------------------------------------------------------- dataset helpers

test('subset, imageAt and splitTrainTest keep images and labels together', () => {
  const ds = toy(10);
  const s = subset(ds, [7, 2]);
  assert.deepEqual([...imageAt(s, 0)], [7, -7]);
  assert.deepEqual([...s.labels!], [7, 2]);
  const a = splitTrainTest(ds, 3, 5);
  const b = splitTrainTest(ds, 3, 5);
  assert.equal(a.train.count, 7);
  assert.equal(a.test.count, 3);
  assert.deepEqual(a.test.images, b.test.images);
  const seen = [...a.train.labels!, ...a.test.labels!].sort((x, y) => x - y);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.match(describe(a.train), /toy\/train: 7 images, 1×1×2, labels/);
  throwsData(() => splitTrainTest(ds, 11, 0), /cannot hold out 11 test images from toy, which has 10/);
});

// ---------------------------------------------------------------- bundled MNIST

test('bundled MNIST: 10,000 28×28 digits, fixed 9,000 / 1,000 split by seed', () => {
  const ds = loadBundledMnist();
  assert.equal(ds.count, 10000);
  assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
  let min = Infinity, max = -Infinity, onGrid = true;
  for (const v of ds.images) {
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.fround(Math.round(v * 255) / 255) !== v) onGrid = false;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.ok(onGrid, 'pixel values are multiples of 1/255');
  const perDigit = new Array<number>(10).fill(0);
  for (const l of ds.labels!) perDigit[l]++;
  assert.deepEqual(perDigit, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);

  const a = loadDataset(undefined);
  assert.equal(a.format, 'mnist-bundled');
  assert.equal(a.train.count, 9000);
  assert.equal(a.test.count, 1000);
  const b = loadDataset(undefined);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.deepEqual(a.test.images.subarray(0, 5000), b.test.images.subarray(0, 5000));
  const c = loadDataset(undefined, { splitSeed: 1 });
  assert.notDeepEqual(a.test.labels, c.test.labels);
  const resized = loadDataset(undefined, { size: 32, channels: 3 });
  assert.deepEqual([resized.train.channels, resized.train.height, resized.train.width], [3, 32, 32]);
});

// ---------------------------------------------------------------- IDX

test('IDX: plain and gzipped files decode to exact pixels and labels; t10k becomes test', () => {
  const dir = freshDir();
  const pix = (i: number, p: number): number => (i * 50 + p * 17) % 256;
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(3, 2, 3, pix)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels([4, 0, 9])));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxImages(2, 2, 3, (i, p) => 255 - pix(i, p)));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxLabels([1, 2]));
  const { train, test: testSet, format } = loadDataset(dir);
  assert.equal(format, 'idx');
  assert.deepEqual([train.count, train.channels, train.height, train.width], [3, 1, 2, 3]);
  assert.deepEqual([...train.labels!], [4, 0, 9]);
  assert.deepEqual([...testSet.labels!], [1, 2]);
  for (let i = 0; i < 3; i++) for (let p = 0; p < 6; p++) assert.equal(train.images[i * 6 + p], u8(pix(i, p)));
  assert.equal(testSet.images[7], u8(255 - pix(1, 1)));
  assert.equal(loadDatasetSplit(dir, 'test').count, 2);
  // A lone images file finds its labels next to it.
  const single = loadIdx(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte'));
  assert.deepEqual([...single.labels!], [1, 2]);
  const viaFile = loadDataset(join(dir, 'train-images-idx3-ubyte.gz'), { testCount: 1 });
  assert.equal(viaFile.train.count + viaFile.test.count, 3);
  assert.ok(viaFile.train.labels !== undefined);
});

test('IDX: truncation, wrong magic, count mismatch, corrupt gzip and missing files are explained', () => {
  const dir = freshDir();
  const good = idxImages(4, 28, 28, () => 1);
  const truncated = join(dir, 'trunc-images-idx3-ubyte');
  writeFileSync(truncated, good.subarray(0, 1016));
  throwsData(() => loadIdx(truncated), /IDX file .*trunc-images-idx3-ubyte is truncated/, /4 images of 28×28 \(3,136 bytes\)/, /only 1,000 bytes follow/, /re-download/);

  const swapped = join(dir, 'swapped-images-idx3-ubyte');
  writeFileSync(swapped, idxLabels([1, 2, 3]));
  throwsData(() => loadIdx(swapped), /magic number 0x00000801, expected 0x00000803/, /labels file/);
  const labelsFile = join(dir, 'l-labels-idx1-ubyte');
  writeFileSync(labelsFile, idxLabels([1, 2, 3]));
  const imagesFile = join(dir, 'i-images-idx3-ubyte');
  writeFileSync(imagesFile, good);
  throwsData(() => loadIdx(imagesFile, imagesFile), /magic number 0x00000803, expected 0x00000801/);
  throwsData(() => loadIdx(imagesFile, labelsFile), /disagree: .* has 4 images but .* has 3 labels/, /matching/);

  const badGz = join(dir, 'bad-images-idx3-ubyte.gz');
  const gz = gzipSync(good);
  writeFileSync(badGz, gz.subarray(0, gz.length >> 1));
  throwsData(() => loadIdx(badGz), /bad-images-idx3-ubyte\.gz is a corrupt gzip file/, /re-download/);

  throwsData(() => loadIdx(join(dir, 'nope-images-idx3-ubyte')), /nope-images-idx3-ubyte does not exist/, /check the path/);
  throwsData(() => loadDataset(join(dir, 'missing-dir')), /dataset path .*missing-dir does not exist/, /bundled MNIST/);
  throwsData(() => loadDataset(labelsFile), /is an IDX labels file; pass the images file/);
});

// ---------------------------------------------------------------- CIFAR-10

test('CIFAR-10: batches decode to CHW RGB with labels; train / test split by file', () => {
  const dir = freshDir();
  const sub = join(dir, 'cifar-10-batches-bin');
  mkdirSync(sub);
  writeFileSync(join(sub, 'data_batch_1.bin'), cifarRecords(2, 3));
  writeFileSync(join(sub, 'data_batch_2.bin'), cifarRecords(1, 8));
  writeFileSync(join(sub, 'test_batch.bin'), cifarRecords(1, 0));
  const { train, test: testSet, format } = loadDataset(dir);
  assert.equal(format, 'cifar10');
  assert.deepEqual([train.count, train.channels, train.height, train.width], [3, 3, 32, 32]);
  assert.deepEqual([...train.labels!], [3, 4, 8]);
  assert.deepEqual([...testSet.labels!], [0]);
  assert.equal(train.classNames?.[3], 'cat');
  // Record 1 of batch 1, green plane (offset 1024), pixel (row 2, col 5).
  const p = 1024 + 2 * 32 + 5;
  assert.equal(train.images[3072 + p], u8((p * 7 + 31) % 256));
  assert.equal(loadDatasetSplit(dir, 'test').count, 1);
  assert.equal(loadDatasetSplit(dir, 'train').count, 3);
  const single = loadDataset(join(sub, 'data_batch_1.bin'), { testCount: 1, splitSeed: 3 });
  assert.equal(single.train.count, 1);
  assert.equal(single.test.count, 1);
});

test('CIFAR-10: wrong length and out-of-range labels are explained', () => {
  const dir = freshDir();
  const short = join(dir, 'data_batch_1.bin');
  writeFileSync(short, cifarRecords(2, 0).subarray(0, 5000));
  throwsData(() => loadCifarFiles([short], 'x'), /CIFAR-10 file .*data_batch_1\.bin has 5,000 bytes, not a positive multiple of the 3073-byte record/, /re-download/);
  const c100 = join(dir, 'c100.bin');
  writeFileSync(c100, Buffer.alloc(3074 * 2));
  throwsData(() => loadCifarFiles([c100], 'x'), /CIFAR-100/);
  const badLabel = join(dir, 'bad.bin');
  const rec = cifarRecords(2, 0);
  rec[3073] = 42;
  writeFileSync(badLabel, rec);
  throwsData(() => loadCifarFiles([badLabel], 'x'), /label 42 in record 1, expected 0–9/);
});

// ---------------------------------------------------------------- image folders and resizing

test('resize: box filter when shrinking, bilinear when enlarging, on gradients', () => {
  const row4 = Float32Array.from([0, 0.25, 0.5, 0.75]);
  assert.deepEqual([...resizeImage(row4, 1, 1, 4, 1, 2)], [0.125, 0.625]);
  // 3 → 2: each output covers 1.5 input pixels.
  const row3 = Float32Array.from([0, 0.3, 0.9]);
  const down = resizeImage(row3, 1, 1, 3, 1, 2);
  assert.ok(Math.abs(down[0] - (0 + 0.5 * 0.3) / 1.5) < 1e-7);
  assert.ok(Math.abs(down[1] - (0.5 * 0.3 + 0.9) / 1.5) < 1e-7);
  assert.deepEqual([...resizeImage(Float32Array.from([0, 1]), 1, 1, 2, 1, 4)], [0, 0.25, 0.75, 1]);
  // 2-D: a 4×4 horizontal gradient to 2×2 and back to 8×8, two channels.
  const img = new Float32Array(2 * 16);
  for (let c = 0; c < 2; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) img[c * 16 + y * 4 + x] = c === 0 ? x / 3 : y / 3;
  const small = resizeImage(img, 2, 4, 4, 2, 2);
  const near = (a: ArrayLike<number>, b: number[]): void => { for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${a[i]} vs ${b[i]}`); };
  near(small, [1 / 6, 5 / 6, 1 / 6, 5 / 6, 1 / 6, 1 / 6, 5 / 6, 5 / 6]);
  const big = resizeImage(Float32Array.from([0, 1, 0, 1]), 1, 2, 2, 4, 4);
  near(big, [0, 0.25, 0.75, 1, 0, 0.25, 0.75, 1, 0, 0.25, 0.75, 1, 0, 0.25, 0.75, 1]);
  // Mean is preserved by area averaging for an integer factor.
  const grad = Float32Array.from({ length: 64 }, (_, i) => (i % 8) / 7);
  const avg = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(avg(resizeImage(grad, 1, 8, 8, 2, 2)) - avg(grad)) < 1e-6);
});

test('image folder: PNG exact, JPEG within tolerance, mixed sizes resized, labels from subfolders', () => {
  const dir = freshDir();
  mkdirSync(join(dir, 'cats'));
  mkdirSync(join(dir, 'dogs', 'small'), { recursive: true });
  writePng(join(dir, 'cats', 'a.png'), 4, 4, (x, y) => [x * 60, y * 60, 200]);
  writeJpeg(join(dir, 'dogs', 'b.JPG'), 8, 8, (x) => x * 32);
  writePng(join(dir, 'dogs', 'small', 'c.png'), 2, 2, (x, y) => [x * 255, y * 255, 0]);
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  writeFileSync(join(dir, '.hidden.png'), 'ignored');

  const ds = loadImageFolder(dir, { size: 4 });
  assert.deepEqual([ds.count, ds.channels, ds.height, ds.width], [3, 3, 4, 4]);
  assert.deepEqual(ds.classNames, ['cats', 'dogs']);
  // Sorted paths: cats/a.png, dogs/b.JPG, dogs/small/c.png.
  assert.deepEqual([...ds.labels!], [0, 1, 1]);
  const a = imageAt(ds, 0);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
    assert.equal(a[y * 4 + x], u8(x * 60));
    assert.equal(a[16 + y * 4 + x], u8(y * 60));
    assert.equal(a[32 + y * 4 + x], u8(200));
  }
  // 8 → 4 box filter of columns 32x: pairs average to (64x + 16) / 255.
  const b = imageAt(ds, 1);
  for (let x = 0; x < 4; x++) assert.ok(Math.abs(b[4 + x] - (64 * x + 16) / 255) < 4 / 255, `jpeg column ${x}: ${b[4 + x]}`);
  // 2 → 4 bilinear: the red column profile 0, .25, .75, 1.
  const c = imageAt(ds, 2);
  assert.deepEqual([...c.subarray(0, 4)].map((v) => Math.round(v * 100) / 100), [0, 0.25, 0.75, 1]);

  const gray = loadImageFolder(dir, { size: { height: 2, width: 3 }, channels: 1, labels: false });
  assert.deepEqual([gray.channels, gray.height, gray.width], [1, 2, 3]);
  assert.equal(gray.labels, undefined);

  const loaded = loadDataset(dir, { size: 4, testCount: 1 });
  assert.equal(loaded.format, 'image-folder');
  assert.equal(loaded.train.count, 2);
});

test('image folder: missing size, empty folder, single image and corrupt image are explained', () => {
  const dir = freshDir();
  writePng(join(dir, 'x.png'), 2, 2, () => [1, 2, 3]);
  throwsData(() => loadDataset(dir), /image folder .* needs an image size/, /size option/);
  throwsData(() => loadDataset(join(dir, 'x.png')), /is a single image; pass the folder/);
  const empty = freshDir();
  writeFileSync(join(empty, 'readme.md'), '#');
  throwsData(() => loadDataset(empty), /cannot tell the dataset format/, /IDX/, /CIFAR-10/, /PNG\/JPEG/, /bundled MNIST/);
  throwsData(() => loadDataset(join(empty, 'readme.md')), /cannot tell the dataset format .*readme\.md; supported are/);
  const broken = freshDir();
  writeFileSync(join(broken, 'y.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(20, 7)]));
  throwsData(() => loadImageFolder(broken, { size: 4 }), /image .*y\.png cannot be decoded as PNG/, /re-export it or remove it/);
  writeFileSync(join(broken, 'y.png'), 'GIF89a not really');
  throwsData(() => loadImageFolder(broken, { size: 4 }), /neither a PNG nor a JPEG/);
  throwsData(() => loadImageFolder(dir, { size: 0 }), /image size must be a positive integer/);
});

// ---------------------------------------------------------------- batches

function epochIndices(it: BatchIterator): number[] {
  const out: number[] = [];
  for (const b of it.epochBatches()) out.push(...b.indices);
  return out;
}

test('BatchIterator: each epoch is a permutation fixed by (seed, epoch); data rows match indices', () => {
  const ds = toy(23);
  const it = new BatchIterator(ds, 5, 11, { dropLast: false });
  assert.equal(it.batchesPerEpoch, 5);
  const e0 = epochIndices(it);
  assert.deepEqual(it.position, { epoch: 1, batch: 0 });
  const e1 = epochIndices(it);
  assert.deepEqual([...e0].sort((x, y) => x - y), Array.from({ length: 23 }, (_, i) => i));
  assert.deepEqual([...e1].sort((x, y) => x - y), Array.from({ length: 23 }, (_, i) => i));
  assert.notDeepEqual(e0, e1);
  assert.deepEqual(epochIndices(new BatchIterator(ds, 5, 11, { dropLast: false })), e0);
  assert.notDeepEqual(epochIndices(new BatchIterator(ds, 5, 12, { dropLast: false })), e0);

  const check = new BatchIterator(ds, 4, 3);
  assert.equal(check.batchesPerEpoch, 5); // 23 // 4, last 3 dropped
  for (const b of check.epochBatches()) {
    assert.deepEqual(b.shape, [4, 1, 1, 2]);
    for (let r = 0; r < b.rows; r++) {
      assert.equal(b.data[2 * r], b.indices[r]);
      assert.equal(b.data[2 * r + 1], -b.indices[r]);
      assert.equal(b.labels![r], b.indices[r]);
    }
  }
  const partial = new BatchIterator(ds, 5, 0, { dropLast: false });
  const last = [...partial.epochBatches()].at(-1)!;
  assert.equal(last.rows, 3);
  assert.equal(last.data.length, 6);
});

test('BatchIterator: resuming at (epoch, batch) continues the same sequence; prefetch gives identical batches', async () => {
  const ds = toy(40);
  const run = new BatchIterator(ds, 8, 99);
  const reference: number[][] = [];
  for (let k = 0; k < 13; k++) {
    reference.push([...run.next().data]);
    await new Promise((r) => setImmediate(r)); // lets the background prefetch run
  }
  const resumed = new BatchIterator(ds, 8, 99, { start: { epoch: 1, batch: 2 }, prefetch: false });
  for (let k = 7; k < 13; k++) assert.deepEqual([...resumed.next().data], reference[k]);
  const seeking = new BatchIterator(ds, 8, 99);
  seeking.next();
  seeking.seek({ epoch: 2, batch: 0 });
  assert.deepEqual([...seeking.next().data], reference[10]);
  seeking.close();

  // Double buffering: consecutive batches use different buffers, the one after reuses the first.
  const db = new BatchIterator(ds, 8, 1);
  const b0 = db.next(), b1 = db.next(), b2 = db.next();
  assert.notEqual(b0.data.buffer, b1.data.buffer);
  assert.equal(b0.data.buffer, b2.data.buffer);
  db.close();
  throwsData(() => new BatchIterator(ds, 41, 0), /has 40 images, fewer than one batch of 41/);
  throwsData(() => new BatchIterator(ds, 8, 0, { start: { epoch: 0, batch: 9 } }), /cannot resume at epoch 0, batch 9/);
});

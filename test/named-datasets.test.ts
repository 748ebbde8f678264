import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../src/data/errors.js';
import { locateDataset, NAMED_DATASETS, type NamedDataset } from '../src/data/named-datasets.js';
import { loadRunData } from '../src/data/selection.js';

function idxImages(count: number): Buffer {
  const b = Buffer.alloc(16 + count * 4);
  b.writeUInt32BE(0x803, 0);
  b.writeUInt32BE(count, 4);
  b.writeUInt32BE(2, 8);
  b.writeUInt32BE(2, 12);
  return b;
}

function withTmp(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vqlab-named-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a dataset name resolves to the first location holding both splits, or says how to install it', () => {
  withTmp((dir) => {
    const empty = join(dir, 'empty');
    const installed = join(dir, 'installed');
    mkdirSync(empty);
    mkdirSync(installed);
    // Only the training split: not a complete installation, so the next location is tried.
    writeFileSync(join(empty, 'train-images-idx3-ubyte'), idxImages(3));
    const known: Record<string, NamedDataset> = { toy: { description: 'a toy', locations: [join(dir, 'missing'), empty, installed], install: 'apt-get install -y dataset-toy' } };

    assert.throws(() => locateDataset('toy', known), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.match(err.message, /dataset 'toy' is not installed/);
      assert.ok(err.message.includes(empty), 'names where it looked');
      assert.match(err.message, /install it with: apt-get install -y dataset-toy$/);
      return true;
    });

    writeFileSync(join(installed, 'train-images-idx3-ubyte.gz'), idxImages(3));
    writeFileSync(join(installed, 't10k-images-idx3-ubyte.gz'), idxImages(2));
    assert.equal(locateDataset('toy', known), installed);
    // Anything that is not a known name is a path, returned as given.
    assert.equal(locateDataset('some/dir', known), 'some/dir');
  });
});

test('a local path of the same name wins over the named dataset', () => {
  withTmp((dir) => {
    const before = process.cwd();
    process.chdir(dir);
    try {
      mkdirSync('toy');
      const known: Record<string, NamedDataset> = { toy: { description: 'a toy', locations: [join(dir, 'nowhere')], install: 'n/a' } };
      assert.equal(locateDataset('toy', known), 'toy');
    } finally {
      process.chdir(before);
    }
  });
});

test('--data fashion-mnist loads Debian\'s Fashion-MNIST: 60,000 train and 10,000 test 28×28 images', (t) => {
  const dir = NAMED_DATASETS['fashion-mnist']!.locations[0]!;
  if (!existsSync(dir)) {
    t.skip(`not installed here (${NAMED_DATASETS['fashion-mnist']!.install})`);
    return;
  }
  const data = loadRunData('fashion-mnist', { trainLimit: 500 });
  assert.equal(data.path, dir);
  assert.equal(data.train.count, 500);
  assert.equal(data.test.count, 10_000);
  assert.deepEqual([data.test.channels, data.test.height, data.test.width], [1, 28, 28]);
  // Unlike the mostly-black digits, clothing covers much of the frame.
  let lit = 0;
  for (const v of data.test.images) if (v > 0.1) lit++;
  assert.ok(lit / data.test.images.length > 0.4, `share of lit pixels ${lit / data.test.images.length}`);
});

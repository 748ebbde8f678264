import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadDatasetSplit } from '../src/data/index.js';
import { encodePng } from '../src/images/encode-png.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { CLI_MAIN, loaderFlags, runCli, type CliResult } from './helpers/run-cli.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';

let checkpoint = '';

before(async () => {
  checkpoint = (await tinyCheckpoint()).out;
});

function assertOneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^vqlab: /);
  assert.match(r.stderr, pattern);
}

test('vqlab --version prints the package version', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('samples writes test digits as PNG that encode reads, and does not overwrite them unasked', async () => {
  const dir = join(tempDir('samples'), 'digits');
  const r = await runCli(['samples', '--out', dir, '--count', '3']);
  assert.equal(r.code, 0, r.stderr);
  const files = r.stdout.trim().split('\n');
  assert.equal(files.length, 3);
  const test = loadDatasetSplit(undefined, 'test');
  const first = PNG.sync.read(readFileSync(files[0]!));
  assert.deepEqual([first.width, first.height], [28, 28]);
  // digit<label>-<index>.png holds exactly that test image (8-bit).
  const [, label, index] = /digit(\d)-(\d+)\.png$/.exec(files[1]!)!.map(Number) as [number, number, number];
  assert.equal(test.labels![index], label);
  const png = PNG.sync.read(readFileSync(files[1]!));
  for (let i = 0; i < 784; i++) assert.equal(png.data[4 * i], Math.round(test.images[index * 784 + i]! * 255));
  assertOneLineError(await runCli(['samples', '--out', dir, '--count', '3']), /digit\d-0000\.png already exists \(and 2 more\); pass --force/);
  assert.equal((await runCli(['samples', '--out', dir, '--count', '3', '--force'])).code, 0);
  const encoded = await runCli(['encode', checkpoint, ...files, '--threads', '1']);
  assert.equal(encoded.code, 0, encoded.stderr);
  assert.equal((JSON.parse(encoded.stdout) as { images: unknown[] }).images.length, 3);
});

test('a negative option value reaches the option check instead of being taken for a flag', async () => {
  assertOneLineError(await runCli(['train', '--beta', '-1', '--out', join(tempDir('neg'), 'run')]), /beta must be a finite number >= 0, got -1$/m);
  assertOneLineError(await runCli(['train', '--batch', '-3']), /--batch must be an integer >= 1, got '-3'/);
});

test('two images of the same name encode and decode to two different files', async () => {
  const work = tempDir('samename');
  const digits = (await runCli(['samples', '--out', join(work, 'digits'), '--count', '2'])).stdout.trim().split('\n');
  for (const [i, sub] of ['a', 'b'].entries()) {
    mkdirSync(join(work, sub));
    copyFileSync(digits[i]!, join(work, sub, 'x.png'));
  }
  const codes = join(work, 'codes.json');
  assert.equal((await runCli(['encode', checkpoint, join(work, 'a', 'x.png'), join(work, 'b', 'x.png'), '--out', codes])).code, 0);
  const out = join(work, 'out');
  const decoded = await runCli(['decode', checkpoint, codes, '--out', out]);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.deepEqual(decoded.stdout.trim().split('\n'), [join(out, 'x.0.decoded.png'), join(out, 'x.1.decoded.png')]);
  // Each file is the decode of its own grid.
  const json = JSON.parse(readFileSync(codes, 'utf8')) as { images: { indices: number[][] }[] };
  const tokenizer = await Tokenizer.load(checkpoint, { threads: 1 });
  try {
    for (const [i, image] of json.images.entries()) {
      const pixels = await tokenizer.decode(Int32Array.from(image.indices.flat()));
      assert.deepEqual(readFileSync(join(out, `x.${i}.decoded.png`)), encodePng(pixels, tokenizer.input));
    }
  } finally {
    await tokenizer.release();
  }
  assertOneLineError(await runCli(['encode', checkpoint, join(work, 'a', 'x.png'), '--out', join(work, 'a', 'x.png')]), /--out .*x\.png is one of the images to encode/);
});

test('a grid with one short row is refused naming that row', async () => {
  const file = join(tempDir('short'), 'short.json');
  const grid = Array.from({ length: 7 }, (_, y) => Array.from({ length: y === 3 ? 6 : 7 }, () => 1));
  writeFileSync(file, JSON.stringify(grid));
  assertOneLineError(await runCli(['decode', checkpoint, file]), /short\.json: grid 0 row 3 has 6 indices but the model's latent grid is 7×7 \(7 per row\)/);
});

test('missing, read-only, full and kernel output folders fail fast with the file and the fix', { timeout: 60_000 }, async () => {
  const work = tempDir('outputs');
  const codes = join(work, 'codes.json');
  writeFileSync(codes, JSON.stringify(Array.from({ length: 7 }, () => Array.from({ length: 7 }, () => 0))));
  assertOneLineError(
    await runCli(['encode', checkpoint, join(work, 'nothing.png'), '--out', join(work, 'missing', 'y.json')]),
    /cannot write .*missing\/y\.json: its folder .*missing does not exist; create it or choose another path/,
  );
  // A full disk while writing the PNG: the message names the file, no temporary is left, and so
  // the folder decode created for it is empty and removed.
  const full = join(work, 'full');
  assertOneLineError(
    await runCli(['decode', checkpoint, codes, '--out', full], { VQLAB_TEST_FAIL_WRITE: 'ENOSPC:decoded-0.decoded.png' }),
    /cannot write .*full\/decoded-0\.decoded\.png: the disk is full \(ENOSPC\); free some space/,
  );
  assert.equal(existsSync(full), false);
  // Root ignores permission bits, so a read-only file system is simulated at the write probe.
  const run = join(work, 'readonly');
  const ro = await runCli(['train', '--out', run, '--train-limit', '64'], { VQLAB_TEST_FAIL_WRITE: 'EROFS:.vqlab-write-check' });
  assertOneLineError(ro, /cannot write .*readonly\/\.vqlab-write-check\.\d+\.tmp: the file system is read-only \(EROFS\); choose a folder on a writable disk/);
  assert.deepEqual(readdirSync(run), [], 'refused before anything was trained or written');
  // /proc is no storage: refused by file-system type, before a mkdir that would spin forever.
  for (const args of [['train', '--out', '/proc/vqlab-test/run'], ['decode', checkpoint, codes, '--out', '/proc/vqlab-test'], ['samples', '--out', '/proc/vqlab-test']]) {
    assertOneLineError(await runCli(args), /cannot write to \/proc\/vqlab-test.*: \/proc is a kernel interface \(procfs\), not storage; choose a folder on a disk/);
  }
  assert.ok(!existsSync('/proc/vqlab-test'));
});

test('image sizes below the SSIM window are refused before anything is loaded', async () => {
  assertOneLineError(await runCli(['train', '--image-size', '4', '--out', join(tempDir('tiny-images'), 'run')]), /--image-size 4 is smaller than the 11×11 window of SSIM, one of the test metrics; use 11 or more/);
});

test('a codebook whose step takes minutes to compile is announced before compiling starts', async () => {
  const out = join(tempDir('huge-k'), 'run');
  const child = spawn(process.execPath, [...loaderFlags(), CLI_MAIN, 'train', '--codebook-size', '10000000', '--train-limit', '64', '--batch', '16', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const closed = new Promise((resolve) => child.on('close', resolve));
  let stderr = '';
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.includes('\n')) resolve();
  }));
  child.kill('SIGKILL');
  await closed;
  assert.match(stderr.split('\n')[0]!, /^compiling the training step for 64\d M parameters \(640 M of them the K=10000000 × d=64 codebook\); at this size that takes minutes — a smaller --codebook-size starts at once$/);
});

test('train --help states when reruns are exact', async () => {
  const r = await runCli(['train', '--help']);
  assert.match(r.stdout.replace(/\s+/g, ' '), /the same options, seed and --threads give byte-identical weights and loss metrics/);
});

/**
 * The demo page in headless Chromium: it trains in the browser on onnxruntime-web, loads a
 * checkpoint made by `vqlab train` and encodes digits exactly as the Node tokenizer does, and turns
 * a drawing or an opened image into a code grid and an image whose codes can be edited. Its
 * controls stay disabled until the worker is ready, a failed action shows its message, and hostile
 * files (a tampered checkpoint, a PNG declaring 30,000² pixels) are refused before they are parsed.
 *
 * Skipped, with the reason, only when Chromium is missing outside CI; in CI (CI=true) a missing
 * Chromium fails the test, since .ci/run installs it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { buildDemo, type DemoBuild } from '../demo/build.js';
import { launchChromium, missingChromium, type Browser } from '../demo/chromium.js';
import { serveDemo, type DemoServer } from '../demo/serve.js';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { encodePng } from '../src/images/encode-png.js';
import { CHECKSUMS_FILE } from '../src/persistence/checksums.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { pretrainedModels } from '../src/tokenize/pretrained.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import type { TrainSummary } from '../src/train/summary.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';
import { waitForPage } from './helpers/wait-for-page.js';

const missing = missingChromium();
const skip = missing !== null && process.env.CI !== 'true' ? `browser test skipped: ${missing}` : false;

/** What the page mirrors on window.vqlabDemo (see demo/page/main.ts). */
interface DemoState {
  runtime: string;
  model: string;
  ready: boolean;
  phase: string;
  training: boolean;
  losses: number[];
  testDigits: { count: number; images: Record<number, number>; codes: Record<number, number> } | null;
  drawnCodes: number[] | null;
  drawnImage: Record<number, number> | null;
  errors: string[];
  notices: string[];
}

const PIXELS = 28 * 28;
/** Every control that needs the worker or the digits. */
const CONTROLS = ['#quantizer', '#codebook-size', '#batch', '#lr', '#backend', '#train', '#stop', '#checkpoint', '#pretrained', '#image'];

/**
 * A PNG whose IHDR declares `width` × `height` grayscale pixels (ISO/IEC 15948 §11.2.2), with no
 * image data: the page must refuse it from the header alone, so the header is all a bomb needs here.
 */
function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (gray), compression, filter and interlace methods 0
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IEND', Buffer.alloc(0))]);
}

describe('demo page in Chromium', { skip }, () => {
  let build: DemoBuild;
  let server: DemoServer;
  let browser: Browser;
  let run: TrainSummary;
  /** The checkpoint folder of `run`. */
  let folder: string;
  /** Lets the page's request for the digits through; until then the worker cannot be ready. */
  let releaseDigits: () => void;

  const demo = (): Promise<DemoState> => browser.page.evaluate(() => (globalThis as unknown as { vqlabDemo: DemoState }).vqlabDemo);
  /** Wait until `condition` holds on the page state; fail at once with the page's own error. */
  const waitFor = (what: string, condition: (s: DemoState) => boolean, seconds = 40): Promise<DemoState> => waitForPage(demo, what, condition, seconds);
  /** Wait for the page to report one error, check it is shown in the status line, and clear it. */
  const expectError = async (what: string, pattern: RegExp, seconds = 20): Promise<void> => {
    const deadline = Date.now() + seconds * 1000;
    let s = await demo();
    while (s.errors.length === 0) {
      if (Date.now() > deadline) assert.fail(`timed out after ${seconds} s waiting for the page to refuse ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      s = await demo();
    }
    // Cleared before the checks, so that a failed check does not fail the tests after it too.
    await browser.page.evaluate(() => {
      (globalThis as unknown as { vqlabDemo: DemoState }).vqlabDemo.errors.length = 0;
    });
    assert.equal(s.errors.length, 1, s.errors.join('; '));
    const error = s.errors[0]!;
    assert.match(error, pattern);
    assert.ok(!error.includes('\n'), `the message should be one line: ${error}`);
    assert.equal(await browser.page.locator('#status').textContent(), error);
    assert.equal(await browser.page.locator('#status').getAttribute('data-state'), 'error');
  };
  const disabled = async (): Promise<Record<string, boolean>> =>
    Object.fromEntries(await Promise.all(CONTROLS.map(async (c) => [c, await browser.page.locator(c).isDisabled()] as const)));

  before(async () => {
    build = await buildDemo(join(tempDir('demo'), 'site'));
    server = await serveDemo(build.dir);
    run = await tinyCheckpoint({ quantizer: resolveQuantizerConfig('vq', { codebookSize: 32, dim: 8 }), lr: 3e-3, trainLimit: 256, batch: 32 });
    folder = resolveCheckpoint(run.out);
    browser = await launchChromium();
    const digits = new Promise<void>((resolve) => (releaseDigits = resolve));
    await browser.page.route('**/mnist-digits.bin', async (route) => {
      await digits;
      await route.continue();
    });
    await browser.page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('bundles the library for the browser without onnxruntime-node or node: modules', () => {
    assert.ok(build.bundledInputs.some((i) => i.includes('onnxruntime-web')), 'onnxruntime-web should be in the bundle');
    assert.ok(build.bundledInputs.some((i) => i.endsWith('src/runtime/training-program.js')), 'the training program should be in the bundle');
    assert.deepEqual(build.bundledInputs.filter((i) => i.includes('onnxruntime-node') || i.startsWith('node:')), []);
  });

  it('keeps every control disabled until the worker is ready and the digits are loaded', async () => {
    const { page } = browser;
    await page.waitForLoadState('load');
    assert.equal((await demo()).phase, 'starting');
    assert.deepEqual(await disabled(), Object.fromEntries(CONTROLS.map((c) => [c, true])));
    assert.equal(await page.locator('#pad').getAttribute('aria-disabled'), 'true');
    releaseDigits();
    await waitFor('the worker to load the digits', (d) => d.ready);
    assert.equal((await demo()).phase, 'ready');
    assert.deepEqual(await disabled(), Object.fromEntries(CONTROLS.map((c) => [c, c === '#stop'])));
    assert.equal(await page.locator('#pad').getAttribute('aria-disabled'), 'false');
  });

  it('loads cross-origin isolated, with WebAssembly threads', async () => {
    const s = await waitFor('the worker to load the digits', (d) => d.ready);
    assert.equal(await browser.page.evaluate(() => crossOriginIsolated), true);
    assert.match(s.runtime, /^onnxruntime-web 1\.30\.0 \(wasm, \d+ threads?\)$/);
  });

  it('encodes test digits with a checkpoint from vqlab train to the same indices as the Node tokenizer', async () => {
    await browser.page.setInputFiles('#checkpoint', [join(folder, CHECKPOINT_FILES.config), join(folder, CHECKPOINT_FILES.model), join(folder, CHECKSUMS_FILE)]);
    const s = await waitFor('the checkpoint to load', (d) => d.model.includes('K=32') && d.testDigits !== null);
    assert.deepEqual(s.notices, [], 'a checkpoint with its checksums.json loads verified, without a notice');
    const digits = s.testDigits!;
    const images = Float32Array.from({ length: digits.count * PIXELS }, (_, i) => digits.images[i]!);
    // The page's digits are the test split `vqlab train` holds out, pixel for pixel.
    const test = splitTrainTest(loadBundledMnist(), 1000, 0).test;
    for (let d = 0; d < digits.count; d++) {
      const image = images.subarray(d * PIXELS, (d + 1) * PIXELS);
      const found = Array.from({ length: test.count }, (_, i) => i).some((i) => test.images.subarray(i * PIXELS, (i + 1) * PIXELS).every((v, j) => v === image[j]));
      assert.ok(found, `page digit ${d} is not an image of the bundled MNIST test split`);
    }
    const tokenizer = await Tokenizer.load(run.out, { batch: digits.count });
    try {
      const node = Array.from(await tokenizer.encode(images));
      const page = Array.from({ length: node.length }, (_, i) => digits.codes[i]!);
      assert.deepEqual(page, node);
      assert.ok(new Set(node).size > 2, `the digits should use several codes, got ${new Set(node).size}`);
    } finally {
      await tokenizer.release();
    }
  });

  it('turns a drawing into a 7×7 code grid and an image, and decodes an edited code', async () => {
    const { page } = browser;
    const pad = page.locator('#pad');
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 8 });
    await page.mouse.up();
    const s = await waitFor('the drawing to be encoded', (d) => d.drawnCodes !== null && d.drawnImage !== null);
    assert.equal(s.drawnCodes!.length, 49);
    assert.equal(await page.locator('#grid td').count(), 49);
    const image = Array.from({ length: PIXELS }, (_, i) => s.drawnImage![i]!);
    assert.ok(Math.max(...image) - Math.min(...image) > 0.1, 'the decoded drawing should not be a flat image');

    const cell = 24;
    const replacement = (s.drawnCodes![cell]! + 1) % 32;
    await page.locator(`#grid td[data-index="${cell}"]`).click();
    await page.fill('#code', String(replacement));
    await page.click('#apply');
    const edited = await waitFor('the edited grid to be decoded', (d) => d.drawnImage !== null && Array.from({ length: PIXELS }, (_, i) => d.drawnImage![i]!).some((v, i) => v !== image[i]));
    assert.equal(edited.drawnCodes![cell], replacement);
    assert.equal(await page.locator(`#grid td[data-index="${cell}"]`).textContent(), String(replacement));
  });

  it('refuses a dropped PNG that declares 30,000 × 30,000 pixels within a second, from its header, and keeps working', async () => {
    const { page } = browser;
    const bomb = pngDeclaring(30000, 30000);
    const started = Date.now();
    await page.evaluate((bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], 'bomb.png', { type: 'image/png' }));
      const pad = document.getElementById('pad')!;
      for (const type of ['dragenter', 'dragover', 'drop']) pad.dispatchEvent(new DragEvent(type, { dataTransfer: files, bubbles: true, cancelable: true }));
    }, Array.from(bomb));
    await expectError('the 30,000² PNG', /^Opening the image failed: (image )?bomb\.png declares 900,000,000 pixels \(30000×30000\), over the cap of 16,777,216; /);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000, `the refusal took ${elapsed} ms`);
    assert.equal((await demo()).phase, 'ready');
  });

  it('opens a PNG of a digit and encodes it like a drawing', async () => {
    const { page } = browser;
    const test = splitTrainTest(loadBundledMnist(), 1000, 0).test;
    const file = join(tempDir('digit'), 'digit.png');
    writeFileSync(file, encodePng(test.images.subarray(0, PIXELS), { channels: 1, height: 28, width: 28 }));
    await page.evaluate(() => {
      (globalThis as unknown as { vqlabDemo: DemoState }).vqlabDemo.drawnCodes = null;
    });
    await page.setInputFiles('#image', file);
    const s = await waitFor('the opened image to be encoded', (d) => d.drawnCodes !== null);
    assert.equal(s.drawnCodes!.length, 49);
    assert.match((await page.locator('#status').textContent())!, /^Opened digit\.png \(28×28, shown as 28×28 gray\)/);
    // Shown on the pad as MNIST has it, white strokes on black, in gray.
    const pad = await page.evaluate(() => {
      const canvas = document.getElementById('pad') as HTMLCanvasElement;
      const rgba = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let brightest = 0;
      let gray = true;
      for (let i = 0; i < rgba.length; i += 4) {
        brightest = Math.max(brightest, rgba[i]!);
        gray &&= rgba[i] === rgba[i + 1] && rgba[i] === rgba[i + 2];
      }
      return { corner: rgba[0]!, brightest, gray };
    });
    assert.deepEqual(pad, { corner: 0, brightest: 255, gray: true });
  });

  it('shows why a corrupt checkpoint upload failed and keeps the model it had', async () => {
    const corrupt = tempDir('corrupt');
    writeFileSync(join(corrupt, CHECKPOINT_FILES.config), '{"version": ');
    copyFileSync(join(folder, CHECKPOINT_FILES.model), join(corrupt, CHECKPOINT_FILES.model));
    await browser.page.setInputFiles('#checkpoint', [join(corrupt, CHECKPOINT_FILES.config), join(corrupt, CHECKPOINT_FILES.model)]);
    await expectError('an invalid config.json', /^Loading the checkpoint failed: config\.json is not valid JSON; /);
    const s = await demo();
    assert.equal(s.phase, 'ready');
    assert.match(s.model, /K=32/);
  });

  it('refuses a model.safetensors with one bit flipped against its checksums.json, and notes a checkpoint without one', async () => {
    const tampered = tempDir('tampered');
    for (const name of [CHECKPOINT_FILES.config, CHECKSUMS_FILE]) copyFileSync(join(folder, name), join(tampered, name));
    const weights = readFileSync(join(folder, CHECKPOINT_FILES.model));
    weights[weights.length >> 1]! ^= 0x10;
    writeFileSync(join(tampered, CHECKPOINT_FILES.model), weights);
    const picked = [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model, CHECKSUMS_FILE].map((name) => join(tampered, name));
    await browser.page.setInputFiles('#checkpoint', picked);
    await expectError('a tampered model.safetensors', /^Loading the checkpoint failed: model\.safetensors does not match the SHA-256 recorded when it was saved/);
    assert.deepEqual((await demo()).notices, []);

    await browser.page.setInputFiles('#checkpoint', [join(folder, CHECKPOINT_FILES.config), join(folder, CHECKPOINT_FILES.model)]);
    const s = await waitFor('the checkpoint without checksums to load', (d) => d.notices.length > 0 && d.phase === 'ready');
    assert.equal(s.notices.length, 1);
    assert.match(s.notices[0]!, /^this checkpoint carries no checksums, so config\.json and model\.safetensors are loaded unverified/);
    assert.ok((await browser.page.locator('#status').textContent())!.includes(s.notices[0]!));
  });

  it('offers the pretrained models and loads one, verified, to the codes Tokenizer.pretrained gives', async () => {
    const { page } = browser;
    const offered = await page.locator('#pretrained option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(offered, ['', ...pretrainedModels().map((m) => m.card.name)]);
    const notices = (await demo()).notices.length;
    await page.selectOption('#pretrained', 'mnist-simvq-1k');
    const s = await waitFor('the pretrained model to load', (d) => d.model.includes('K=1024') && d.testDigits !== null && d.phase === 'ready');
    assert.equal(s.notices.length, notices, 'its checksums.json comes with it, so it loads verified, without a notice');
    const digits = s.testDigits!;
    const images = Float32Array.from({ length: digits.count * PIXELS }, (_, i) => digits.images[i]!);
    const tokenizer = await Tokenizer.pretrained('mnist-simvq-1k', { batch: digits.count });
    try {
      const node = Array.from(await tokenizer.encode(images));
      assert.deepEqual(Array.from({ length: node.length }, (_, i) => digits.codes[i]!), node);
    } finally {
      await tokenizer.release();
    }
  });

  it('trains SimVQ in the page and the loss falls', async () => {
    const { page } = browser;
    await page.selectOption('#quantizer', 'simvq');
    await page.selectOption('#codebook-size', '64');
    await page.fill('#batch', '4');
    await page.fill('#lr', '0.002');
    await page.click('#train');
    // Disabled from the click on: the model is being built, then trained.
    assert.ok(await page.locator('#train').isDisabled());
    assert.ok(await page.locator('#quantizer').isDisabled());
    const s = await waitFor('six training steps', (d) => d.losses.length >= 6);
    await page.click('#stop');
    await waitFor('training to stop', (d) => !d.training);
    assert.ok(s.model.includes('simvq (K=64'), s.model);
    const losses = s.losses.slice(0, 6);
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    const early = (losses[0]! + losses[1]!) / 2;
    const late = (losses[4]! + losses[5]!) / 2;
    assert.ok(late < early * 0.95, `the loss should fall over six steps, got ${losses.map((l) => l.toFixed(4)).join(', ')}`);
  });
});

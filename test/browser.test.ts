/**
 * The demo page in headless Chromium: it trains in the browser on onnxruntime-web, loads a
 * checkpoint made by `vqlab train` and encodes digits exactly as the Node tokenizer does, and turns
 * a drawing into a code grid and an image whose codes can be edited.
 *
 * Skipped, with the reason, only when Chromium is missing outside CI; in CI (CI=true) a missing
 * Chromium fails the test, since .ci/run installs it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildDemo, type DemoBuild } from '../demo/build.js';
import { launchChromium, missingChromium, type Browser } from '../demo/chromium.js';
import { serveDemo, type DemoServer } from '../demo/serve.js';
import { loadBundledMnist, splitTrainTest } from '../src/data/index.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { tempDir, tinyCheckpoint } from './helpers/checkpoint-fixture.js';

const missing = missingChromium();
const skip = missing !== null && process.env.CI !== 'true' ? `browser test skipped: ${missing}` : false;

/** What the page mirrors on window.vqlabDemo (see demo/page/main.ts). */
interface DemoState {
  runtime: string;
  model: string;
  ready: boolean;
  training: boolean;
  losses: number[];
  testDigits: { count: number; images: Record<number, number>; codes: Record<number, number> } | null;
  drawnCodes: number[] | null;
  drawnImage: Record<number, number> | null;
  errors: string[];
}

const PIXELS = 28 * 28;

describe('demo page in Chromium', { skip }, () => {
  let build: DemoBuild;
  let server: DemoServer;
  let browser: Browser;

  const demo = (): Promise<DemoState> => browser.page.evaluate(() => (globalThis as unknown as { vqlabDemo: DemoState }).vqlabDemo);
  /** Wait until `condition` holds on the page state; fail at once with the page's own error. */
  const waitFor = async (what: string, condition: (s: DemoState) => boolean, seconds = 40): Promise<DemoState> => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const s = await demo();
      if (s.errors.length > 0) assert.fail(`the page reported: ${s.errors.join('; ')} (while waiting for ${what})`);
      if (condition(s)) return s;
      if (Date.now() > deadline) assert.fail(`timed out after ${seconds} s waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    build = await buildDemo(join(tempDir('demo'), 'site'));
    server = await serveDemo(build.dir);
    browser = await launchChromium();
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

  it('loads cross-origin isolated, with WebAssembly threads', async () => {
    const s = await waitFor('the worker to load the digits', (d) => d.ready);
    assert.equal(await browser.page.evaluate(() => crossOriginIsolated), true);
    assert.match(s.runtime, /^onnxruntime-web 1\.30\.0 \(wasm, \d+ threads?\)$/);
  });

  it('encodes test digits with a checkpoint from vqlab train to the same indices as the Node tokenizer', async () => {
    // A higher learning rate on more digits than the fixture's default, so the codes differ across the digits.
    const run = await tinyCheckpoint({ quantizer: 'vq', codebookSize: 32, dim: 8, lr: 3e-3, trainLimit: 256, batch: 32 });
    const folder = resolveCheckpoint(run.out);
    await browser.page.setInputFiles('#checkpoint', [join(folder, CHECKPOINT_FILES.config), join(folder, CHECKPOINT_FILES.model)]);
    const s = await waitFor('the checkpoint to load', (d) => d.model.includes('K=32') && d.testDigits !== null);
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

  it('trains SimVQ in the page and the loss falls', async () => {
    const { page } = browser;
    await page.selectOption('#quantizer', 'simvq');
    await page.selectOption('#codebook-size', '64');
    await page.fill('#batch', '4');
    await page.fill('#lr', '0.002');
    await page.click('#train');
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

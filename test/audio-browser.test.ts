/**
 * The audio modules in headless Chromium, bundled by esbuild for the browser as the demo page is:
 * the Vorbis decoder and the resampler carry their WebAssembly inside their JavaScript, so they
 * run with no file or network access, and give the same samples as in Node.
 *
 * Skipped, with the reason, only when Chromium is missing outside CI (as test/browser.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launchChromium, missingChromium } from '../demo/chromium.js';
import { decodeAudio } from '../src/audio/decode-audio.js';
import { resample } from '../src/audio/resample.js';
import { encodeWav16 } from '../src/audio/wav-encode.js';

const missing = missingChromium();
const skip = missing !== null && process.env.CI !== 'true' ? `browser test skipped: ${missing}` : false;
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, '..', '..', 'test', 'fixtures', 'audio', 'tone.ogg');

interface PageResult {
  readonly decoded: number[];
  readonly resampled: number[];
  readonly wav: number[];
}

test('in Chromium, Ogg Vorbis decodes, resamples and encodes to WAV exactly as in Node', { skip, timeout: 120_000 }, async () => {
  const bundle = await build({
    stdin: {
      contents: `import { decodeAudio } from './src/audio/decode-audio.js';
import { resample } from './src/audio/resample.js';
import { encodeWav16 } from './src/audio/wav-encode.js';
window.vqlabAudio = { decodeAudio, resample, encodeWav16 };`,
      // The compiled modules beside this test: dist/test → dist.
      resolveDir: join(here, '..'),
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const bytes = readFileSync(FIXTURE);
  const browser = await launchChromium();
  try {
    const { page } = browser;
    await page.setContent('<!doctype html><title>audio</title>');
    await page.addScriptTag({ type: 'module', content: bundle.outputFiles[0]!.text });
    await page.waitForFunction(() => 'vqlabAudio' in window);
    const result = await page.evaluate(async (data: number[]): Promise<PageResult> => {
      const audio = (window as unknown as { vqlabAudio: { decodeAudio: typeof decodeAudio; resample: typeof resample; encodeWav16: typeof encodeWav16 } }).vqlabAudio;
      const clip = await audio.decodeAudio(new Uint8Array(data), 'tone.ogg');
      const resampled = await audio.resample(clip.samples, clip.sampleRate, 24000);
      return { decoded: [...clip.samples], resampled: [...resampled], wav: [...audio.encodeWav16(resampled, 24000)] };
    }, [...bytes]);
    const clip = await decodeAudio(bytes, 'tone.ogg');
    const resampled = await resample(clip.samples, clip.sampleRate, 24000);
    assert.deepEqual(Float32Array.from(result.decoded), clip.samples);
    assert.deepEqual(Float32Array.from(result.resampled), resampled);
    assert.deepEqual(Uint8Array.from(result.wav), encodeWav16(resampled, 24000));
  } finally {
    await browser.close();
  }
});

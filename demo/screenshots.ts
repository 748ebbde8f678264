/**
 * The README's screenshots of the demo page, taken in headless Chromium:
 *
 *   node dist/demo/screenshots.js --checkpoint runs/<dir> [--seconds 150] [--out docs]
 *
 * writes demo-vq.png and demo-simvq.png (the page after training each quantizer for the same time,
 * K = 1024, in the page) and demo-draw.png (a checkpoint of `vqlab train` loaded, a drawn 7
 * encoded, and one code of its grid changed).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { buildDemo } from './build.js';
import { launchChromium } from './chromium.js';
import { serveDemo } from './serve.js';

interface PageState {
  ready: boolean;
  training: boolean;
  model: string;
  testDigits: unknown;
  drawnCodes: number[] | null;
  drawnImage: unknown;
  errors: string[];
}

async function until(page: Page, done: (s: PageState) => boolean): Promise<void> {
  for (;;) {
    const s = await page.evaluate(() => (globalThis as unknown as { vqlabDemo: PageState }).vqlabDemo);
    if (s.errors.length > 0) throw new Error(`the page reported: ${s.errors.join('; ')}`);
    if (done(s)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function trainFor(page: Page, url: string, quantizer: string, seconds: number, file: string): Promise<void> {
  await page.goto(url);
  await until(page, (s) => s.ready);
  await page.selectOption('#quantizer', quantizer);
  await page.selectOption('#codebook-size', '1024');
  await page.fill('#batch', '32');
  await page.fill('#lr', '0.001');
  await page.click('#train');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await page.click('#stop');
  await until(page, (s) => !s.training);
  await drawSeven(page);
  await page.screenshot({ path: file, fullPage: true });
}

async function drawSeven(page: Page): Promise<void> {
  const pad = page.locator('#pad');
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const at = (x: number, y: number): [number, number] => [box.x + box.width * x, box.y + box.height * y];
  await page.mouse.move(...at(0.25, 0.22));
  await page.mouse.down();
  await page.mouse.move(...at(0.75, 0.22), { steps: 8 });
  await page.mouse.move(...at(0.42, 0.85), { steps: 10 });
  await page.mouse.up();
  await until(page, (s) => s.drawnCodes !== null && s.drawnImage !== null);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, seconds: { type: 'string', default: '150' }, out: { type: 'string', default: 'docs' } } });
  if (!values.checkpoint) throw new Error('pass --checkpoint DIR, a run directory written by vqlab train');
  const out = resolve(values.out!);
  const site = await buildDemo(join(mkdtempSync(join(tmpdir(), 'vqlab-shots-')), 'site'));
  const server = await serveDemo(site.dir);
  const browser = await launchChromium({ width: 1100, height: 1000 });
  try {
    const { page } = browser;
    const seconds = Number(values.seconds);
    await trainFor(page, server.url, 'vq', seconds, join(out, 'demo-vq.png'));
    await trainFor(page, server.url, 'simvq', seconds, join(out, 'demo-simvq.png'));

    await page.goto(server.url);
    await until(page, (s) => s.ready);
    await page.setInputFiles('#checkpoint', [join(values.checkpoint, 'config.json'), join(values.checkpoint, 'model.safetensors')]);
    await until(page, (s) => s.model !== '' && s.testDigits !== null);
    await drawSeven(page);
    await page.locator('#grid td[data-index="17"]').click();
    const current = Number(await page.locator('#code').inputValue());
    await page.fill('#code', String((current + 1) % 1024));
    await page.click('#apply');
    await new Promise((r) => setTimeout(r, 1500));
    await page.screenshot({ path: join(out, 'demo-draw.png'), fullPage: true });
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

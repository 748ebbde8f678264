/**
 * Headless Chromium for the browser test, the browser benchmark and the README screenshots:
 * Debian's `chromium` driven by playwright-core (Playwright's own browser download does not work
 * offline). The flags keep Chromium off the network it would otherwise call at start-up, and a
 * fresh profile directory per launch keeps runs independent.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * WebGPU in headless Chromium 156 on Linux: `--enable-unsafe-webgpu` alone gives pages (and their
 * workers) an adapter — on a machine without a GPU, SwiftShader's, which Chromium ships
 * (navigator.gpu.requestAdapter() reports vendor "google", architecture "swiftshader"). Without the
 * flag a headless Linux Chromium offers none. `--use-webgpu-adapter=swiftshader` picks SwiftShader
 * even where a GPU exists, so a test sees the same adapter on every machine; neither
 * `--use-angle=swiftshader` nor `--enable-features=Vulkan` is needed. navigator.gpu exists only in
 * secure contexts: served from http://127.0.0.1, not about:blank.
 */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];
const SWIFTSHADER_WEBGPU_FLAGS = [...WEBGPU_FLAGS, '--use-webgpu-adapter=swiftshader'];

export interface Browser {
  readonly page: Page;
  close(): Promise<void>;
}

/** Why a browser test cannot run here, or null when Chromium is installed. */
export function missingChromium(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is not installed (apt-get install -y chromium, or set CHROMIUM_PATH)`;
}

/** Chromium's test microphone (a beep every second), granted to the page without asking. */
const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/**
 * Start headless Chromium with one page; `gpu` turns WebGPU on with the machine's adapter,
 * `gpu: 'swiftshader'` with SwiftShader's; `fakeMicrophone` gives getUserMedia Chromium's test signal.
 */
export async function launchChromium(options: { gpu?: boolean | 'swiftshader'; fakeMicrophone?: boolean; width?: number; height?: number } = {}): Promise<Browser> {
  const missing = missingChromium();
  if (missing) throw new Error(missing);
  const profile = mkdtempSync(join(tmpdir(), 'vqlab-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...FLAGS, ...(options.gpu === 'swiftshader' ? SWIFTSHADER_WEBGPU_FLAGS : options.gpu ? WEBGPU_FLAGS : ['--disable-gpu']), ...(options.fakeMicrophone ? FAKE_MICROPHONE : [])],
      viewport: { width: options.width ?? 1100, height: options.height ?? 900 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The demo page with a speech checkpoint in headless Chromium: a tiny SEANet trained by `vqlab
 * train` on the speech fixture is loaded as the page loads image checkpoints; a clip opened in the
 * page (Ogg Vorbis at 16 kHz, resampled to the model's 8 kHz) gets exactly the codes `vqlab encode`
 * gives it, decodes to the samples the Node tokenizer decodes them to (to float32 tolerance), and
 * its downloadable WAV is `vqlab decode`'s (to one 16-bit step). The codes, tokens/s and bitrate are
 * shown; a file that is not audio is refused in one line. Chromium's test microphone is recorded and
 * its samples coded as the Node tokenizer codes them. Nothing is played.
 *
 * Skipped, with the reason, only when Chromium is missing outside CI (as test/browser.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo } from '../demo/build.js';
import { launchChromium, missingChromium, type Browser } from '../demo/chromium.js';
import { serveDemo, type DemoServer } from '../demo/serve.js';
import { decodeWav } from '../src/audio/wav-decode.js';
import { CHECKSUMS_FILE } from '../src/persistence/checksums.js';
import { CHECKPOINT_FILES } from '../src/persistence/checkpoint.js';
import { resolveCheckpoint } from '../src/persistence/run-directory.js';
import { decodeSequence, encodeSequence, SEQUENCE_BATCH } from '../src/tokenize/sequence-coding.js';
import { Tokenizer } from '../src/tokenize/tokenizer.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { runCli } from './helpers/run-cli.js';
import { waitForPage } from './helpers/wait-for-page.js';

const missing = missingChromium();
const skip = missing !== null && process.env.CI !== 'true' ? `browser test skipped: ${missing}` : false;
// dist/test/… → the repository's test/fixtures/audio.
const speech = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');

/** What the page mirrors on window.vqlabDemo (see demo/page/main.ts), with the samples as arrays. */
interface PageSpeech {
  readonly ready: boolean;
  readonly phase: string;
  readonly model: string;
  readonly speechModel: { sampleRate: number; windowSamples: number; codesPerWindow: number; tokensPerSecond: number } | null;
  readonly speech: { source: string; sampleRate: number; samples: number[]; codes: number[]; decoded: number[]; tokensPerSecond: number; bitsPerSecond: number } | null;
  readonly recording: boolean;
  readonly errors: string[];
}

describe('demo page with a speech checkpoint in Chromium', { skip }, () => {
  let server: DemoServer;
  let browser: Browser;
  /** The run of `vqlab train` and what `vqlab encode` and `vqlab decode` made of the fixture with it. */
  let run: string;
  let encoded: { codes_per_example: number; sequences: { length: number; indices: number[] }[] };
  let decodedWav: Uint8Array;

  const demo = (): Promise<PageSpeech> =>
    browser.page.evaluate(() => {
      const s = (globalThis as unknown as { vqlabDemo: PageSpeech & { speech: { samples: Float32Array; decoded: Float32Array } | null } }).vqlabDemo;
      return { ...s, speech: s.speech && { ...s.speech, samples: Array.from(s.speech.samples), decoded: Array.from(s.speech.decoded) } };
    });
  const waitFor = (what: string, condition: (s: PageSpeech) => boolean, seconds = 60): Promise<PageSpeech> => waitForPage(demo, what, condition, seconds);

  before(async () => {
    const data = tempDir('speech-page');
    for (let i = 0; i < 2; i++) {
      mkdirSync(join(data, `speaker${i}`));
      copyFileSync(speech, join(data, `speaker${i}`, `utt${i}.ogg`));
    }
    run = join(tempDir('speech-page-run'), 'run');
    // A SEANet of 4 channels and hop 4·5·8 = 160 at 8 kHz (50 tokens/s), two steps: the page must match the CLI, not sound good.
    const trained = await runCli(['train', '--data', data, '--model', 'seanet', '--sample-rate', '8000', '--channels', '4', '--strides', '4,5,8', '--dilations', '1',
      '--crop-samples', '1600', '--codebook-size', '16', '--dim', '8', '--batch', '1', '--epochs', '1', '--threads', '1', '--out', run, '--quiet']);
    assert.equal(trained.code, 0, trained.stderr);
    const codes = join(run, 'codes.json');
    const encodedRun = await runCli(['encode', run, speech, '--out', codes, '--threads', '1']);
    assert.equal(encodedRun.code, 0, encodedRun.stderr);
    encoded = JSON.parse(readFileSync(codes, 'utf8')) as typeof encoded;
    const decodedRun = await runCli(['decode', run, codes, '--out', join(run, 'decoded'), '--threads', '1']);
    assert.equal(decodedRun.code, 0, decodedRun.stderr);
    decodedWav = readFileSync(decodedRun.stdout.trim());

    const build = await buildDemo(join(tempDir('speech-demo'), 'site'));
    server = await serveDemo(build.dir);
    browser = await launchChromium({ fakeMicrophone: true });
    await browser.page.goto(server.url);
    await waitFor('the worker to start', (s) => s.ready);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads a speech checkpoint of vqlab train, enables recording and opening audio, and disables the drawing', async () => {
    const { page } = browser;
    assert.ok(await page.locator('#audio-file').isDisabled(), 'no speech model yet');
    const folder = resolveCheckpoint(run);
    await page.setInputFiles('#checkpoint', [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model, CHECKSUMS_FILE].map((name) => join(folder, name)));
    const s = await waitFor('the speech checkpoint to load', (d) => d.speechModel !== null && d.phase === 'ready');
    assert.match(s.model, /^seanet \+ simvq \(K=16, d=8\)$/);
    assert.deepEqual(s.speechModel, { sampleRate: 8000, windowSamples: 1600, codesPerWindow: 10, tokensPerSecond: 50 });
    for (const id of ['#record', '#audio-file']) assert.ok(await page.locator(id).isEnabled(), `${id} should be enabled`);
    for (const id of ['#image', '#stop-recording', '#play']) assert.ok(await page.locator(id).isDisabled(), `${id} should be disabled`);
    assert.equal(await page.locator('#pad').getAttribute('aria-disabled'), 'true');
    assert.match((await page.locator('#speech-rate').textContent())!, /50 tokens\/s × log₂ 16 = 200 bit\/s/);
  });

  it('codes an opened Ogg file as vqlab encode does, and decodes it as the Node tokenizer and vqlab decode do', async () => {
    const { page } = browser;
    await page.setInputFiles('#audio-file', speech);
    const s = await waitFor('the clip to be coded', (d) => d.speech !== null);
    const coded = s.speech!;
    const sequence = encoded.sequences[0]!;
    assert.equal(coded.source, 'speech.ogg');
    assert.deepEqual(coded.codes, sequence.indices, 'the page codes the clip as vqlab encode does');
    assert.ok(new Set(coded.codes).size > 1, 'the clip should use more than one code');
    assert.equal(coded.decoded.length, sequence.length, 'the reconstruction has the clip\'s length at the model\'s rate');
    assert.equal(coded.bitsPerSecond, 200);

    const tokenizer = await Tokenizer.load(run, { batch: SEQUENCE_BATCH, threads: 1 });
    let node: Float32Array;
    try {
      node = await decodeSequence(tokenizer, Int32Array.from(sequence.indices), sequence.length);
    } finally {
      await tokenizer.release();
    }
    const peak = node.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(peak > 0, 'the reconstruction should not be silence');
    const worst = coded.decoded.reduce((m, v, i) => Math.max(m, Math.abs(v - node[i]!)), 0);
    assert.ok(worst <= 1e-5 * Math.max(1, peak), `the page's samples differ from the Node tokenizer's by up to ${worst}`);

    const download = await page.locator('#download').getAttribute('download');
    assert.equal(download, 'speech.decoded.wav', 'named as vqlab decode names it');
    const wav = Uint8Array.from(await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch((document.getElementById('download') as HTMLAnchorElement).href)).arrayBuffer()))));
    assert.equal(wav.length, decodedWav.length);
    const pageSamples = decodeWav(wav, 'page.wav');
    const cliSamples = decodeWav(decodedWav, 'cli.wav');
    assert.equal(pageSamples.sampleRate, 8000);
    assert.equal(cliSamples.sampleRate, 8000);
    const steps = pageSamples.samples.reduce((m, v, i) => Math.max(m, Math.abs(v - cliSamples.samples[i]!) * 32768), 0);
    assert.ok(steps <= 1.0001, `the page's WAV differs from vqlab decode's by ${steps} 16-bit steps`);
    assert.ok(await page.locator('#play').isEnabled(), 'the reconstruction can be played');
    const lines = (await page.locator('#speech-codes').textContent())!.split('\n');
    assert.equal(lines.length, sequence.indices.length / encoded.codes_per_example, 'one line of codes per window');
  });

  it('refuses a file that is not audio in one line and keeps the model', async () => {
    const file = join(tempDir('not-audio'), 'notes.wav');
    writeFileSync(file, 'not a wave file at all');
    await browser.page.setInputFiles('#audio-file', file);
    const deadline = Date.now() + 20_000;
    let s = await demo();
    while (s.errors.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      s = await demo();
    }
    // Cleared before the checks, so that a failed check does not fail the tests after it too.
    await browser.page.evaluate(() => {
      (globalThis as unknown as { vqlabDemo: PageSpeech }).vqlabDemo.errors.length = 0;
    });
    assert.equal(s.errors.length, 1, s.errors.join('; '));
    assert.match(s.errors[0]!, /^Opening the audio failed: audio notes\.wav is neither WAV nor Ogg Vorbis .*; convert it/);
    assert.equal(await browser.page.locator('#status').textContent(), s.errors[0]);
    assert.ok(s.speechModel !== null);
  });

  it('records Chromium\'s test microphone and codes the recording as the Node tokenizer does', async () => {
    const { page } = browser;
    await page.click('#record');
    await waitFor('the recording to start', (d) => d.recording && d.phase === 'ready');
    assert.ok(await page.locator('#stop-recording').isEnabled());
    assert.ok(await page.locator('#record').isDisabled(), 'one recording at a time');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await page.click('#stop-recording');
    const s = await waitFor('the recording to be coded', (d) => !d.recording && d.speech?.source === 'recording.wav');
    const coded = s.speech!;
    // At least a second at 8 kHz (the recorder starts after getUserMedia, so a little of the 1.5 s may be missed).
    assert.ok(coded.samples.length >= 8000, `recorded ${coded.samples.length} samples`);
    assert.equal(coded.decoded.length, coded.samples.length);
    assert.ok(coded.samples.some((v) => Math.abs(v) > 0.01), 'the test microphone beeps');
    const tokenizer = await Tokenizer.load(run, { batch: SEQUENCE_BATCH, threads: 1 });
    try {
      assert.deepEqual(coded.codes, Array.from(await encodeSequence(tokenizer, Float32Array.from(coded.samples))));
    } finally {
      await tokenizer.release();
    }
    assert.ok(await page.locator('#record').isEnabled(), 'recording again is possible');
  });

  it('loads the shipped speech model from the menu and codes a clip as vqlab encode --model does', async () => {
    const { page } = browser;
    await page.selectOption('#pretrained', 'festvox-ru-simvq-4k');
    const s = await waitFor('the pretrained speech model to load', (d) => d.speechModel?.sampleRate === 16000 && d.phase === 'ready');
    assert.match(s.model, /^seanet \+ simvq \(K=4096, d=64\)$/);
    assert.deepEqual(s.speechModel, { sampleRate: 16000, windowSamples: 16000, codesPerWindow: 50, tokensPerSecond: 50 });
    const cli = await runCli(['encode', '--model', 'festvox-ru-simvq-4k', speech, '--threads', '1']);
    assert.equal(cli.code, 0, cli.stderr);
    const expected = (JSON.parse(cli.stdout) as typeof encoded).sequences[0]!;
    await page.setInputFiles('#audio-file', speech);
    const coded = (await waitFor('the clip to be coded by the pretrained model', (d) => d.speech !== null && d.speech.codes.length === expected.indices.length && d.speech.sampleRate === 16000)).speech!;
    assert.deepEqual(coded.codes, expected.indices, 'the page codes the clip as vqlab encode --model does');
    assert.equal(coded.decoded.length, expected.length);
    assert.equal(coded.bitsPerSecond, 600);
  });
});

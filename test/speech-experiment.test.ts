/**
 * `vqlab experiment codebook-size` on speech (SimVQ's Table 2 plumbing): a tiny grid of SEANet runs
 * on a few seconds of speech, short crops and one step an epoch, through the CLI, reports STOI,
 * SI-SNR and mel distance in results.json, results.csv, the report and its figures, and a second
 * invocation resumes nothing but reuses the completed runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentResults } from '../src/experiments/types.js';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { runCli } from './helpers/run-cli.js';

// dist/test/… → the repository's test/fixtures/audio.
const speech = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'audio', 'speech.ogg');

test('experiment codebook-size trains speech runs (--model seanet --loss l1+mel) and reports STOI, SI-SNR and mel distance', async () => {
  const data = tempDir('speech-experiment-data');
  for (let i = 0; i < 3; i++) {
    mkdirSync(join(data, `speaker${i}`), { recursive: true });
    copyFileSync(speech, join(data, `speaker${i}`, `utt${i}.ogg`));
  }
  const out = join(tempDir('speech-experiment'), 'table2');
  const args = ['experiment', 'codebook-size', '--data', data, '--model', 'seanet', '--loss', 'l1+mel', '--channels', '4', '--crop-samples', '3200',
    '--batch', '2', '--epochs', '2', '--dim', '8', '--sizes', '16,64', '--quantizers', 'simvq,vq', '--seeds', '0', '--threads', '1', '--out', out];
  const first = await runCli(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^4 runs \(0 already done\)/);
  assert.match(first.stderr, /simvq-K16-s0: utilization [\d.]+%, perplexity [\d.]+, dead \d+, STOI [\d.]+/);

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ExperimentResults;
  assert.equal(results.runs.length, 4);
  for (const r of results.runs) {
    assert.equal(r.spec.model, 'seanet');
    assert.equal(r.spec.loss, 'l1+mel');
    assert.equal(r.spec.cropSamples, 3200);
    const { stoi, si_snr: siSnr, mel_distance: mel } = r.metrics;
    assert.ok(stoi !== undefined && stoi >= -1 && stoi <= 1, `STOI ${stoi}`);
    assert.ok(Number.isFinite(siSnr) && Number.isFinite(mel) && mel! > 0, `SI-SNR ${siSnr}, mel ${mel}`);
    assert.ok(r.metrics.train_set !== undefined && r.metrics.train_set.latents > 0);
    assert.equal(r.timing.images_per_second, null, 'speech throughput is not images per second');
    assert.ok(r.timing.audio_seconds_per_second! > 0);
    assert.equal(r.recon, null, 'no PNG grid for speech');
    assert.equal(r.curves.length, 2);
  }
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  const header = csv[0]!.split(',');
  for (const column of ['stoi', 'si_snr', 'mel_distance', 'audio_seconds_per_second']) assert.ok(header.includes(column), column);
  const stoiColumn = header.indexOf('stoi');
  assert.ok(csv.slice(1).every((row) => Number.isFinite(Number(row.split(',')[stoiColumn]))));
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  for (const label of ['STOI', 'SI-SNR (dB)', 'mel distance', 's audio/s']) assert.ok(report.includes(label), label);
  for (const figure of ['stoi-vs-k', 'si-snr-vs-k', 'mel-distance-vs-k']) assert.ok(existsSync(join(out, 'figures', `${figure}.svg`)), figure);
  assert.ok(!existsSync(join(out, 'figures', 'psnr-vs-k.svg')), 'no PSNR figure for speech');

  // Resumable: the same command again trains nothing.
  const again = await runCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^4 runs \(4 already done\)/);
});

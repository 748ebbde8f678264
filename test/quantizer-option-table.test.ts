import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeQuantizers } from '../src/quantizers/index.js';
import { QUANTIZER_OPTIONS_MARKERS, quantizerOptionsMarkdown, withQuantizerOptions } from '../src/quantizers/option-table.js';
import { REPO_ROOT } from './helpers/readme-example.js';

test("the README's quantizer option tables are the ones the option schemas generate (npm run readme:options)", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(QUANTIZER_OPTIONS_MARKERS.start) && readme.includes(QUANTIZER_OPTIONS_MARKERS.end), 'README.md must hold the quantizer-options block');
  assert.equal(readme, withQuantizerOptions(readme), 'README.md is out of step with the option schemas: run `npm run readme:options`');
});

test('the generated tables and `train --help` show each default as the schema holds it', () => {
  const markdown = quantizerOptionsMarkdown();
  assert.match(markdown, /\| `beta` \| number \| 0\.25 \| ≥ 0 \|/);
  assert.match(markdown, /\| `levels` \| integers \| 8,5,5,5 \| ≥ 2 \|/);
  assert.match(markdown, /\| `initScale` \| number \| 1\/K \(uniform\), 1 \(normal, unit\) \| > 0 \|/);
  assert.match(markdown, /\| `preNorm` \| none \\\| latent \\\| batch \| none \|/);
  assert.match(markdown, /\| `decay` \| number \| 0\.99 \| ≥ 0, < 1 \|/);
  const help = describeQuantizers();
  assert.match(help, /initScale +s, the bound.*\(default 1\/K \(uniform\), 1 \(normal, unit\)\)/);
  assert.match(help, /kmeansSamples +k-means on this many encoder outputs .*\(default 0\)/);
  assert.match(help, /frozenW +with optimize 'C', the frozen W and b.*\(default identity\)/);
  assert.match(help, /levels +levels L_j .*\(default 8,5,5,5\)/);
  assert.doesNotMatch(help, /search/, 'the search blocking is set through the API, not on the command line');
});

test('withQuantizerOptions refuses a README without the block', () => {
  assert.throws(() => withQuantizerOptions('# no block\n'), /no <!-- quantizer-options:start --> … <!-- quantizer-options:end --> block/);
});

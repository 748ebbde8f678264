import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertXorOutput, readmeExample, REPO_ROOT } from './helpers/readme-example.js';

test('the README example builds, trains and evaluates a model through the public API', () => {
  const code = readmeExample();
  assert.ok(code.trim().split('\n').length <= 15, 'the example is promised to be 15 lines at most');
  // The file must sit inside the package so that `import 'vqlab'` resolves to this package itself.
  const dir = mkdtempSync(join(REPO_ROOT, 'dist', '.readme-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, code);
    assertXorOutput(execFileSync(process.execPath, [file], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

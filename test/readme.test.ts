import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/readme.test.js → the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README example builds, trains and evaluates a model through the public API', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /<!-- readme-example:start -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md must contain the marked example');
  const code = block[1]!;
  assert.ok(code.trim().split('\n').length <= 15, 'the example is promised to be 15 lines at most');
  // The file must sit inside the package so that `import 'vqlab'` resolves to this package itself.
  const dir = mkdtempSync(join(root, 'dist', '.readme-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    const match = /loss (\S+), XOR ≈ \[([^\]]+)\]/.exec(out);
    assert.ok(match, `unexpected output: ${out}`);
    assert.ok(Number(match[1]) < 1e-2, `loss ${match[1]}`);
    assert.deepEqual(match[2]!.split(',').map((v) => Math.abs(Math.round(Number(v)))), [0, 1, 1, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The README's library example (the code between the readme-example markers) and the check of
 * what it prints, shared by the test that runs it in this package and the one that runs it in a
 * project that installed the packed package.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/helpers/x.ts, or dist/test/helpers/x.js once compiled). */
export const REPO_ROOT = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  return import.meta.url.endsWith('.ts') ? join(here, '..', '..') : join(here, '..', '..', '..');
})();

export function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- readme-example:start -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md must contain the marked example');
  return block[1]!;
}

/** The example trains XOR: its loss ends small and its predictions round to 0, 1, 1, 0. */
export function assertXorOutput(out: string): void {
  const match = /loss (\S+), XOR ≈ \[([^\]]+)\]/.exec(out);
  assert.ok(match, `unexpected output: ${out}`);
  assert.ok(Number(match[1]) < 1e-2, `loss ${match[1]}`);
  assert.deepEqual(match[2]!.split(',').map((v) => Math.abs(Math.round(Number(v)))), [0, 1, 1, 0]);
}

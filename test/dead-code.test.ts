import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/dead-code.test.js → the repository root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('no unused files, dependencies or exports (knip, configured in knip.jsonc)', () => {
  const knip = join(root, 'node_modules', 'knip', 'bin', 'knip.js');
  const run = spawnSync(process.execPath, [knip, '--no-progress', '--no-config-hints'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.error, undefined, `knip did not run: ${String(run.error)}`);
  assert.equal(run.status, 0, `knip found dead code; remove it, or say in knip.jsonc why it is needed:\n${run.stdout}${run.stderr}`);
});

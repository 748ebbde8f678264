import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/checkpoint-fixture.js';
import { assertXorOutput, readmeExample, REPO_ROOT } from './helpers/readme-example.js';

/** The environment without the npm_* variables of an enclosing `npm test`, so npm sees only its own config. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

function run(command: string, args: readonly string[], cwd: string): { stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The package.json the README gives a project that depends on vqlab. */
function consumerPackageJson(): Record<string, unknown> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- consumer-package:start -->\s*```json\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md must show the package.json of a project that installs vqlab');
  return JSON.parse(block[1]!) as Record<string, unknown>;
}

test('a packed vqlab installs into an empty project from the npm registry alone, silently, its README example runs there, and a shipped model encodes an image', () => {
  const work = tempDir('pack');
  try {
    // dist/ is built by `npm test`; --ignore-scripts keeps pack from rebuilding it.
    const packed = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], REPO_ROOT).stdout.trim().split('\n').pop()!;
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-vqlab', version: '1.0.0', private: true, ...consumerPackageJson() }));
    // ONNX Runtime's postinstall would fetch CUDA files from outside the registry; the README's
    // allowScripts entry is what keeps it from running.
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, packed)], project);
    assert.doesNotMatch(install.stderr, /warn|error/i, install.stderr);

    writeFileSync(join(project, 'example.mjs'), readmeExample());
    assertXorOutput(run(process.execPath, ['example.mjs'], project).stdout);
    const version = run(join(project, 'node_modules', '.bin', 'vqlab'), ['--version'], project);
    assert.equal(version.stdout, `${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    assert.equal(version.stderr, '');

    // A fresh install tokenizes with a shipped model, with no training.
    const vqlab = join(project, 'node_modules', '.bin', 'vqlab');
    const png = run(vqlab, ['samples', '--out', 'digits', '--count', '1'], project).stdout.trim();
    const encoded = JSON.parse(run(vqlab, ['encode', '--model', 'fashion-mnist-simvq-1k', png], project).stdout) as { codebook_size: number; grid: number[]; images: { indices: number[][] }[] };
    assert.equal(encoded.codebook_size, 1024);
    assert.deepEqual(encoded.grid, [7, 7]);
    assert.equal(encoded.images[0]!.indices.flat().length, 49);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

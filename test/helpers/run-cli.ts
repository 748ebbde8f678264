/**
 * Run the `vqlab` CLI in a child process, from source under tsx (`npx tsx --test`) or from the
 * compiled dist/ (`npm test`): the entry point sits beside this file's tree with the same extension,
 * and the child inherits the parent's loader flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
export const CLI_MAIN = fileURLToPath(new URL(`../../src/cli/main.${ext}`, import.meta.url));

/** The parent's module loader flags (tsx), without test-runner flags the CLI must not see. */
export function loaderFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['--require', '-r', '--import', '--loader', '--experimental-loader'].includes(a) && i + 1 < argv.length) out.push(a, argv[++i]!);
    else if (/^--(require|import|loader|experimental-loader)=/.test(a)) out.push(a);
  }
  return out;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loaderFlags(), CLI_MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Exit code 1 and exactly one stderr line `vqlab: …` matching `pattern`, no stack trace, and
 * nothing on stdout unless the command reports there before it fails (`vqlab verify`).
 */
export function assertOneLineError(r: CliResult, pattern: RegExp, stdout: 'empty' | 'any' = 'empty'): void {
  assert.equal(r.code, 1, `exit code ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^vqlab: /);
  assert.match(lines[0]!, pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  if (stdout === 'empty') assert.equal(r.stdout, '');
}

#!/usr/bin/env node
/**
 * The `vqlab` command line. Dispatches to the subcommands in commands.ts. Every failure is printed
 * as one line, `vqlab: <message>`, with exit code 1; set VQLAB_DEBUG=1 to get the stack trace.
 *
 * Crash tests of the CLI, which must fail or kill a real process, set one of these (read here and
 * nowhere else; the commands receive the hook they make):
 *   VQLAB_TEST_KILL_AT_WRITE=N         SIGKILL the process at its N-th write point (1-based)
 *   VQLAB_TEST_FAIL_WRITE=CODE:TEXT    fail every write point whose path contains TEXT with errno CODE
 *                                      (e.g. ENOSPC:optimizer.safetensors)
 */
import { readFileSync } from 'node:fs';
import { failWritesTo, killAtWritePoint, NO_WRITE_FAULTS, type WriteHook } from '../persistence/write-hook.js';
import { commands } from './commands.js';
import { writeStdout } from './command.js';

/** This package's version, from the package.json above this file (src/cli or dist/src/cli). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vqlab' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: vqlab <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nRun 'vqlab <command> --help' for the options of one command, 'vqlab --version' for the version.\n`;
}

/** The write hook the crash-test variables ask for (see the top of this file). */
function writeHookFromEnvironment(env: NodeJS.ProcessEnv): WriteHook {
  const kill = env.VQLAB_TEST_KILL_AT_WRITE;
  const fail = env.VQLAB_TEST_FAIL_WRITE;
  if (kill !== undefined) {
    if (!/^[1-9]\d*$/.test(kill)) throw new Error(`VQLAB_TEST_KILL_AT_WRITE=${kill} is not a write point; give an integer >= 1`);
    return killAtWritePoint(Number(kill));
  }
  if (fail !== undefined) {
    const match = /^([A-Z]+):(.+)$/.exec(fail);
    if (match === null) throw new Error(`VQLAB_TEST_FAIL_WRITE=${fail} is not CODE:TEXT; give an errno and part of a path, e.g. ENOSPC:optimizer.safetensors`);
    return failWritesTo(match[2]!, match[1]!);
  }
  return NO_WRITE_FAULTS;
}

/** The message of an error as one line (ORT and Node errors can span several). */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ') || 'unknown error';
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await writeStdout(overview());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    await writeStdout(`${packageVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vqlab: unknown command '${name}'; choose one of ${Object.keys(commands).join(', ')} (see 'vqlab --help')\n`);
    return 1;
  }
  try {
    await (await command.load()).run(rest, { writeHook: writeHookFromEnvironment(process.env) });
    return 0;
  } catch (err) {
    if (process.env.VQLAB_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack ?? err.message}\n`);
    process.stderr.write(`vqlab: ${oneLine(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = process.exitCode || code;
  },
  (err: unknown) => {
    process.stderr.write(`vqlab: ${oneLine(err)}\n`);
    process.exitCode = 1;
  },
);

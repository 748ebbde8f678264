import type { WriteHook } from '../persistence/write-hook.js';

/** What the entry point (main.ts) hands every command besides its arguments. */
export interface CommandContext {
  /** Runs at each write point of the command's files; faults only where a crash test asks (main.ts). */
  readonly writeHook: WriteHook;
}

/** A `vqlab` subcommand: what its module exports. */
export interface Command {
  /** One line for `vqlab --help` (the table entry in commands.ts carries the one shown). */
  readonly summary?: string;
  /** Run with the arguments after the subcommand name (no context: no write faults). Errors propagate to main.ts. */
  run(argv: readonly string[], context?: CommandContext): Promise<void>;
}

/**
 * An entry of the command table (commands.ts): the one-line summary for `vqlab --help` and a
 * loader, so that `vqlab --help` or a usage error does not load ONNX Runtime and every command.
 */
export interface CommandEntry {
  readonly summary: string;
  load(): Promise<Command>;
}

/** Write to stdout and resolve when flushed (so piping into `head`/files loses nothing). */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** JSON with non-finite numbers (e.g. the PSNR of a perfect reconstruction) as null. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}

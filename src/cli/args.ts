/**
 * Argument parsing shared by the subcommands: `node:util` parseArgs in strict mode, with errors
 * rewritten to one line that names the command and lists its valid flags, help text generated
 * from the same option table, and typed number parsing.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Shown in --help, e.g. "K, the number of codes (default 1024)". */
  readonly description: string;
  /** Placeholder in --help, e.g. "N" or "DIR". */
  readonly value?: string;
  readonly short?: string;
  /** May be given several times; the values arrive as a string array. */
  readonly multiple?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A command-line mistake; printed as `vqlab: <message>` with exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

function flagList(table: OptionTable): string {
  return Object.keys(table).map((k) => `--${k}`).join(', ');
}

/**
 * `--beta -1` as `--beta=-1`: parseArgs reads a value that starts with a dash as a possible
 * option and refuses it as ambiguous, but a negative number after an option that takes a value
 * can only be that value, and it must reach the option's own check to get a useful message.
 */
function joinNegativeValues(argv: readonly string[], table: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && table[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseCommandArgs(command: string, argv: readonly string[], table: OptionTable, positionals: { min: number; max: number; names: string }): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries({ ...table, help: HELP })) {
    // node:util's parseArgs validates `short` and `multiple` whenever the key is present, so an
    // unset one is left out rather than passed as undefined.
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, table), options, strict: true, allowPositionals: positionals.max > 0 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const message = e.message.split('\n')[0] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UsageError(`unknown option '${flag}' for 'vqlab ${command}'; valid options: ${flagList(table)}, --help`);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`'vqlab ${command}' takes no positional arguments (${message}); see 'vqlab ${command} --help'`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`${message.replace(/\.$/, '')} for 'vqlab ${command}'; see 'vqlab ${command} --help'`);
    }
    throw new UsageError(`${message} (vqlab ${command})`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (!values.help) {
    const n = parsed.positionals.length;
    if (n < positionals.min) throw new UsageError(`'vqlab ${command}' needs ${positionals.names}; see 'vqlab ${command} --help'`);
    if (n > positionals.max) throw new UsageError(`'vqlab ${command}' takes ${positionals.names}, got ${n} arguments; see 'vqlab ${command} --help'`);
  }
  return { values, positionals: parsed.positionals };
}

export function helpText(usage: string, summary: string, table: OptionTable, extra = ''): string {
  const rows = Object.entries({ ...table, help: HELP }).map(([name, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return `${left.padEnd(30)} ${spec.description}`;
  });
  return `usage: ${usage}\n\n${summary}\n\noptions:\n${rows.join('\n')}\n${extra ? `\n${extra}\n` : ''}`;
}

export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** All values of a repeatable option (empty when not given). */
export function listOption(values: ParsedArgs['values'], name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function intOption(values: ParsedArgs['values'], name: string, min = 0): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function numberOption(values: ParsedArgs['values'], name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

export function choiceOption<T extends string>(values: ParsedArgs['values'], name: string, choices: readonly T[]): T | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

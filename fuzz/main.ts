/**
 * `npm run fuzz -- [--cases N] [--seed S] [--target NAME] [--case K]`: seeded mutations of valid
 * files against every parser of user files (targets.ts). Prints one JSON line per target (cases,
 * valid, refused, failures, slowest case, peak resident memory), each failure on stderr with the
 * command that replays it, and exits 1 when any case failed.
 */
import { parseArgs } from 'node:util';
import { MAX_CASES, runFuzz } from './run.js';
import { fuzzTargets } from './targets.js';

function integerFlag(values: Record<string, string | undefined>, name: string, fallback: number | undefined, max: number): number | undefined {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max) throw new Error(`--${name} must be an integer from 0 to ${max}, got '${text}'`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { cases: { type: 'string' }, seed: { type: 'string' }, target: { type: 'string' }, case: { type: 'string' } }, strict: true });
  const cases = integerFlag(values, 'cases', 2000, MAX_CASES)!;
  const seed = integerFlag(values, 'seed', 1, 2 ** 31)!;
  const only = integerFlag(values, 'case', undefined, MAX_CASES - 1);
  const targets = fuzzTargets().filter((t) => values.target === undefined || t.name === values.target);
  if (targets.length === 0) throw new Error(`--target must be one of ${fuzzTargets().map((t) => t.name).join(', ')}, got '${values.target}'`);
  let failed = 0;
  for (const target of targets) {
    const { report, failures } = await runFuzz(target, { cases, seed, only });
    process.stdout.write(`${JSON.stringify({ ...report, seed })}\n`);
    for (const f of failures) process.stderr.write(`FAIL ${f.target} case ${f.caseNumber}: ${f.reason} (replay: npm run fuzz -- --seed ${f.seed} --target ${f.target} --case ${f.caseNumber})\n`);
    failed += failures.length;
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);

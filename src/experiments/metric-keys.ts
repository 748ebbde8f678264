/**
 * The metric keys of results.json and each run's result.json are snake_case, as in metrics.jsonl
 * and `vqlab eval`. Files written before that named some in camelCase; `withSnakeCaseKeys` renames
 * those when a run is read, so older experiments still report, collect and resume unchanged.
 */
import type { RunResult } from './types.js';

const METRICS: Readonly<Record<string, string>> = { deadCodes: 'dead_codes', trainSet: 'train_set' };
const SET_USAGE: Readonly<Record<string, string>> = { usedCodes: 'used_codes' };
const TIMING: Readonly<Record<string, string>> = { trainSeconds: 'train_seconds', evalSeconds: 'eval_seconds', imagesPerSecond: 'images_per_second' };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `obj` with each key that `names` lists renamed, in the same order. */
function renamed(obj: Json, names: Readonly<Record<string, string>>): Json {
  return Object.fromEntries(Object.entries(obj).map(([key, value]) => [names[key] ?? key, value]));
}

/** A parsed run result with its metric keys in snake_case, whichever style it was written in. */
export function withSnakeCaseKeys(run: Json): RunResult {
  const metrics = isObject(run['metrics']) ? renamed(run['metrics'], METRICS) : run['metrics'];
  if (isObject(metrics) && isObject(metrics['train_set'])) metrics['train_set'] = renamed(metrics['train_set'], SET_USAGE);
  const timing = isObject(run['timing']) ? renamed(run['timing'], TIMING) : run['timing'];
  return { ...run, metrics, timing } as RunResult;
}

/**
 * Run specs as results.json and each run's result.json hold them. Files written before a run's
 * quantizer was one `QuantizerConfig` hold it as separate fields: `quantizer` (the registry name),
 * `quantizerOptions` (those given in its spec), `codebookSize`, `beta`, `simvqOptimize` and `dim`.
 * `upgradeRunSpec` turns them into the config the trainer was given for them, by the same
 * `quantizerAt` that plans runs today, so an older experiment still reports, collects and resumes
 * unchanged: its completed runs compare equal to the same runs planned now (runner.ts). A saved
 * config is resolved again, which checks it and fills in the defaults of options added since it
 * was written, so those do not make a completed run look like one of other settings.
 */
import { requireQuantizerName, resolveQuantizerConfig } from '../quantizers/registry.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { withSnakeCaseKeys } from './metric-keys.js';
import { quantizerAt } from './run-quantizer.js';
import type { RunResult, RunSpec } from './types.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields of an older spec that its quantizer's config replaces. */
const OLD_QUANTIZER_FIELDS: readonly string[] = ['quantizerOptions', 'codebookSize', 'beta', 'simvqOptimize', 'dim'];

/**
 * A parsed run spec in today's shape, whichever shape it was written in (keys keep their order;
 * the config stands where the quantizer's name stood). Throws when the quantizer's settings are
 * not valid.
 */
function upgradeRunSpec(spec: Json): RunSpec {
  const where = `run '${String(spec['id'])}'`;
  if (isObject(spec['quantizer'])) {
    const { kind, ...saved } = spec['quantizer'];
    return { ...spec, quantizer: resolveQuantizerConfig(kind, saved, where) } as unknown as RunSpec;
  }
  const { quantizer: name, quantizerOptions, codebookSize, beta, simvqOptimize, dim } = spec;
  const kind = requireQuantizerName(name, where);
  if (typeof codebookSize !== 'number' || typeof beta !== 'number') throw new Error(`${where}: an older spec needs numbers codebookSize and beta`);
  if (quantizerOptions !== undefined && !isObject(quantizerOptions)) throw new Error(`${where}: quantizerOptions must be an object`);
  // Options given in the spec won over the optimize mode; an undefined option counts as unset.
  const options = { optimize: simvqOptimize, ...quantizerOptions };
  const quantizer = quantizerAt(kind, options, { codebookSize, beta }, typeof dim === 'number' ? dim : TRAIN_DEFAULTS.dim);
  const upgraded: Json = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'quantizer') Object.assign(upgraded, quantizer);
    else if (!OLD_QUANTIZER_FIELDS.includes(key)) upgraded[key] = value;
  }
  return upgraded as unknown as RunSpec;
}

/** A parsed run result (results.json's runs, a run's result.json) with its spec and metric keys in today's shape. */
export function savedRunResult(run: Json): RunResult {
  const result = withSnakeCaseKeys(run);
  return isObject(run['spec']) ? { ...result, spec: upgradeRunSpec(run['spec']) } : result;
}

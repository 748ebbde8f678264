/**
 * The full and --quick settings of each experiment. The CLI resolves its options through
 * `resolveSettings`, and the tests check the quick preset here, so the two cannot drift apart.
 */
import { COMMON_OPTIONS } from '../quantizers/options.js';
import { SIMVQ_OPTIMIZE_MODES } from '../quantizers/simvq.js';
import { OPTIMIZER_PRESETS, TRAIN_DEFAULTS, type OptimizerPreset } from '../train/defaults.js';
import { checkPlateauRule, DEFAULT_PLATEAU_DELTA } from '../train/plateau.js';
import { checkSettleRule, DEFAULT_SETTLE_DELTA } from '../train/settle.js';
import type { ExperimentKind, ExperimentSettings } from './types.js';

export type PresetName = 'full' | 'quick';

/** The grid: K from 256 to 65,536, all three quantizers, three seeds, the whole of MNIST. */
const FULL: ExperimentSettings = {
  sizes: [256, 1024, 4096, 16384, 65536],
  size: 1024,
  quantizers: ['vq', 'ema', 'simvq'],
  seeds: [0, 1, 2],
  // The quantizers' own β where it is not swept.
  beta: COMMON_OPTIONS.beta.default,
  betas: [0.1, 0.25, 0.5, 1, 2],
  optimize: [...SIMVQ_OPTIMIZE_MODES],
  epochs: 5,
  // The trainer's reference settings, written out so results.json records what was used.
  lr: TRAIN_DEFAULTS.lr,
  batch: TRAIN_DEFAULTS.batch,
  dim: TRAIN_DEFAULTS.dim,
  threads: 2,
};

/**
 * Minutes, not hours: two codebook sizes far apart (so collapse can already show), one epoch on
 * 2,000 training and 500 test images, one seed. Meant to finish in under 3 minutes on 2 cores.
 */
const QUICK: ExperimentSettings = {
  ...FULL,
  sizes: [64, 1024],
  size: 256,
  seeds: [0],
  betas: [0.25, 1],
  epochs: 1,
  trainLimit: 2000,
  testLimit: 500,
};

/**
 * Per-experiment departures from the shared preset: the beta sweep compares VQ and SimVQ only, and
 * the optimization experiment's baseline is vanilla VQ (its SimVQ rows come from `optimize`).
 */
const PER_EXPERIMENT: Readonly<Record<ExperimentKind, Partial<ExperimentSettings>>> = {
  'codebook-size': {},
  optimization: { quantizers: ['vq'] },
  beta: { quantizers: ['vq', 'simvq'] },
};

export function presetSettings(kind: ExperimentKind, preset: PresetName): ExperimentSettings {
  return { ...(preset === 'quick' ? QUICK : FULL), ...PER_EXPERIMENT[kind] };
}

/** Preset values overridden by whichever options were given (undefined means "not given"). */
export function resolveSettings(kind: ExperimentKind, preset: PresetName, overrides: { readonly [K in keyof ExperimentSettings]?: ExperimentSettings[K] | undefined }): ExperimentSettings {
  const defined: Record<string, unknown> = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  // The reference optimizer is the default: leaving it unnamed keeps run specs (and so completed
  // runs) the same whether it was named or not. Another preset brings its lr unless --lr is given.
  if (defined.optimizer === 'reference') delete defined.optimizer;
  if (defined.cosine === false) delete defined.cosine;
  if (defined.warmupSteps === 0) delete defined.warmupSteps;
  if (typeof defined.optimizer === 'string' && defined.lr === undefined) defined.lr = OPTIMIZER_PRESETS[defined.optimizer as OptimizerPreset].lr;
  const s = { ...presetSettings(kind, preset), ...defined } as ExperimentSettings;
  validateSettings(s);
  return s;
}

function validateSettings(s: ExperimentSettings): void {
  const posInt = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`${name} must be an integer >= 1, got ${v}`);
  };
  for (const k of s.sizes) posInt('codebook size', k);
  posInt('--size', s.size);
  posInt('--epochs', s.epochs);
  posInt('--threads', s.threads);
  posInt('--train-limit', s.trainLimit);
  posInt('--test-limit', s.testLimit);
  posInt('--batch', s.batch);
  posInt('--dim', s.dim);
  posInt('--crop-samples', s.cropSamples);
  posInt('--channels', s.channels);
  if (s.warmupSteps !== undefined && !(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0)) throw new Error(`--warmup must be an integer >= 0, got ${s.warmupSteps}`);
  if (s.plateauPatience !== undefined) {
    const problem = checkPlateauRule({ patience: s.plateauPatience, minDelta: s.plateauDelta ?? DEFAULT_PLATEAU_DELTA });
    if (problem !== undefined) throw new Error(problem);
  }
  if (s.plateauDelta !== undefined && s.plateauPatience === undefined) throw new Error('--plateau-delta sets what --until-plateau counts as a rise; add --until-plateau');
  if (s.settlePatience !== undefined) {
    const problem = checkSettleRule({ patience: s.settlePatience, delta: s.settleDelta ?? DEFAULT_SETTLE_DELTA });
    if (problem !== undefined) throw new Error(problem);
  }
  if (s.settleDelta !== undefined && s.settlePatience === undefined) throw new Error('--settle-delta sets what --until-settled counts as no change; add --until-settled');
  posInt('--diagnose-every', s.diagnoseEvery);
  for (const k of s.replicateSizes ?? []) if (!s.sizes.includes(k)) throw new Error(`--replicate-sizes: ${k} is not one of the codebook sizes ${s.sizes.join(', ')}`);
  for (const seed of s.seeds) if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`seeds must be integers >= 0, got ${seed}`);
  for (const b of [s.beta, ...s.betas]) if (!(Number.isFinite(b) && b >= 0)) throw new Error(`β must be a finite number >= 0, got ${b}`);
  if (s.lr !== undefined && !(Number.isFinite(s.lr) && s.lr > 0)) throw new Error(`--lr must be > 0, got ${s.lr}`);
  if (s.sizes.length === 0 || s.quantizers.length === 0 || s.seeds.length === 0) throw new Error('need at least one size, quantizer and seed');
}

/**
 * Default hyperparameters of `vqlab train` with no arguments: the reference MNIST VQ-VAE with a
 * SimVQ codebook of K = 1024, d = 64 (the quantizer's other options at their schema defaults),
 * Adam at lr 3e-4 and batch 128 (the reference settings), on the bundled 9,000 / 1,000 MNIST
 * digits.
 */
import type { QuantizerName } from '../quantizers/quantizer.js';
import type { ModelKind } from '../models/config.js';

export const TRAIN_DEFAULTS = {
  quantizer: 'simvq' as QuantizerName,
  codebookSize: 1024,
  dim: 64,
  lr: 3e-4,
  batch: 128,
  /**
   * About 4 minutes on 2 idle cores (~190 img/s, 70 steps/epoch). Measured with SimVQ K=1024:
   * 3 epochs reach 19.2 dB test PSNR and 36% utilization, 5 epochs 20.4 dB and 39%.
   */
  epochs: 5,
  seed: 0,
  threads: 2,
  model: 'reference-mnist' as ModelKind,
} as const;

/**
 * Optimizer settings by name. 'reference' is vqlab's default (Adam, lr 3e-4, betas (0.9, 0.999));
 * 'simvq-paper' is what SimVQ's image experiments use (Zhu et al. 2024, §5.1 implementation
 * details, following their VQGAN code: Adam, lr 1e-4, betas (0.5, 0.9)). Explicit lr or betas
 * override the preset's.
 */
export const OPTIMIZER_PRESETS = {
  reference: { lr: TRAIN_DEFAULTS.lr, adamBetas: [0.9, 0.999] },
  'simvq-paper': { lr: 1e-4, adamBetas: [0.5, 0.9] },
} as const satisfies Readonly<Record<string, { lr: number; adamBetas: readonly [number, number] }>>;

export type OptimizerPreset = keyof typeof OPTIMIZER_PRESETS;
export const OPTIMIZER_PRESET_NAMES = Object.keys(OPTIMIZER_PRESETS) as OptimizerPreset[];

/** Adam's betas of a run that sets neither `adamBetas` nor a preset. */
export const DEFAULT_ADAM_BETAS = OPTIMIZER_PRESETS.reference.adamBetas;

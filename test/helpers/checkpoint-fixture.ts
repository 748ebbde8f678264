/**
 * Small trained checkpoints for tests: the reference model on a few bundled MNIST digits, trained
 * for one short epoch with a small codebook, so a test gets real files in a few seconds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveQuantizerConfig, type QuantizerConfig } from '../../src/quantizers/registry.js';
import type { TrainSummary } from '../../src/train/summary.js';
import { trainModel } from '../../src/train/train.js';
import type { TrainOptions } from '../../src/train/train-options.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vqlab-${prefix}-`));
}

/** A quantizer of the tiny checkpoints: K = 16 and d = 8 unless `options` say otherwise. */
export function tinyQuantizer(kind: string, options: Readonly<Record<string, unknown>> = {}): QuantizerConfig {
  return resolveQuantizerConfig(kind, { codebookSize: 16, dim: 8, ...options });
}

export const TINY: Omit<TrainOptions, 'out'> = {
  quantizer: tinyQuantizer('vq'),
  lr: 1e-3,
  batch: 16,
  epochs: 1,
  seed: 3,
  threads: 1,
  trainLimit: 64,
  testLimit: 32,
  evaluateEachEpoch: false,
};

/** Train a tiny checkpoint into a fresh temp directory (or `out`). */
export async function tinyCheckpoint(overrides: Partial<TrainOptions> = {}): Promise<TrainSummary> {
  return trainModel({ ...TINY, out: tempDir('ckpt'), ...overrides });
}

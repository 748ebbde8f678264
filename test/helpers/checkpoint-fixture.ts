/**
 * Small trained checkpoints for tests: the reference model on a few bundled MNIST digits, trained
 * for one short epoch with a small codebook, so a test gets real files in a few seconds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainSummary } from '../../src/train/summary.js';
import { trainModel } from '../../src/train/train.js';
import type { TrainOptions } from '../../src/train/train-options.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vqlab-${prefix}-`));
}

export const TINY: Omit<TrainOptions, 'out'> = {
  quantizer: 'vq',
  codebookSize: 16,
  dim: 8,
  beta: 0.25,
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

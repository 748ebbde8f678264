/**
 * The real backend: trains with `trainModel` and evaluates the final checkpoint with the project's
 * `Evaluator`.
 *
 * Evaluation does what `evaluateCheckpoint` does (same test set, same metrics, same PNG grid) but
 * with the lower-level Evaluator, because `evaluateCheckpoint` returns only the summary metrics and
 * the experiment also needs the per-code counts for its usage histograms.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Evaluator, pickImages, spreadIndices } from '../eval/evaluator.js';
import { reconstructionGrid } from '../eval/image-grid.js';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { CHECKPOINT_FILES, loadModelCheckpoint } from '../persistence/checkpoint.js';
import { loadTestSet } from '../data/selection.js';
import { TRAIN_DEFAULTS } from '../train/defaults.js';
import { trainModel } from '../train/train.js';
import type { Backend } from './backend.js';

/** Test images shown in each run's reconstruction grid. */
const GRID_IMAGES = 16;
const EVAL_BATCH = 200;

export function defaultBackend(): Backend {
  return {
    async train({ spec, settings, dir, log }) {
      // Resume only from a real checkpoint; a directory without one (killed during the first
      // epoch) starts that run over.
      const resume = existsSync(join(dir, CHECKPOINT_FILES.trainer));
      await trainModel({
        quantizer: spec.quantizer,
        codebookSize: spec.codebookSize,
        dim: spec.dim ?? TRAIN_DEFAULTS.dim,
        beta: spec.beta,
        lr: spec.lr ?? TRAIN_DEFAULTS.lr,
        batch: spec.batch ?? TRAIN_DEFAULTS.batch,
        epochs: spec.epochs,
        seed: spec.seed,
        threads: settings.threads,
        out: dir,
        resume,
        // The test set is evaluated once, after training, by \`evaluate\` (with per-code counts);
        // skipping the trainer's per-epoch evaluation saves a forward pass over it every epoch.
        evaluateEachEpoch: false,
        ...(settings.data !== undefined ? { data: settings.data } : {}),
        ...(spec.simvqOptimize !== undefined ? { simvqOptimize: spec.simvqOptimize } : {}),
        ...(spec.trainLimit !== undefined ? { trainLimit: spec.trainLimit } : {}),
        ...(spec.testLimit !== undefined ? { testLimit: spec.testLimit } : {}),
        log: (line) => log(`${spec.id}: ${line}`),
      });
    },

    async evaluate({ spec, settings, dir, grid }) {
      const { model, store } = await loadModelCheckpoint(dir);
      const test = loadTestSet(settings.data, model.input, spec.testLimit);
      // Spread the grid over the test set: the bundled MNIST split keeps the digits in label order,
      // so the first images would all be zeros.
      const keep = spreadIndices(test.count, GRID_IMAGES);
      const evaluator = await Evaluator.create(model, store, { batch: Math.min(EVAL_BATCH, test.count), threads: settings.threads });
      try {
        const r = await evaluator.evaluate(test, { ssim: true, keep });
        const originals = pickImages(test.images, model.input.channels * model.input.height * model.input.width, keep);
        await writeFileAtomic(grid, reconstructionGrid(originals, r.reconstructions, keep.length, model.input));
        const m = r.metrics;
        return {
          metrics: { utilization: m.utilization, perplexity: m.perplexity, deadCodes: m.dead_codes, mse: m.mse, psnr: m.psnr, ssim: Number.isFinite(m.ssim) ? m.ssim : null },
          counts: r.counts,
        };
      } finally {
        await evaluator.release();
      }
    },
  };
}

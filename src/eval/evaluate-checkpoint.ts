/**
 * `evaluateCheckpoint(dir)`: reconstruction quality and code usage of a trained checkpoint over its
 * test set (see evaluator.ts for the metric definitions), plus a PNG grid of originals above
 * reconstructions (`recon.png` in the checkpoint directory unless `grid` names another path).
 *
 * The test set defaults to the one the run trained with (path and test limit from
 * trainer-state.json), shaped to the model's input.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { checkOutputFile } from '../persistence/output-path.js';
import { loadModelCheckpoint, readTrainerState } from '../persistence/checkpoint.js';
import { hasTrainingCheckpoint } from '../persistence/run-directory.js';
import { loadTestSet } from '../data/selection.js';
import { Evaluator, pickImages, spreadIndices, type EvalMetrics } from './evaluator.js';
import { reconstructionGrid } from './image-grid.js';

export interface EvalResult {
  readonly metrics: EvalMetrics;
  /** How many test latents chose each code (length K), for usage histograms. */
  readonly counts: Float64Array;
}

export interface EvaluateCheckpointOptions {
  /** Dataset path (default: the one the checkpoint was trained on, else the bundled MNIST digits). */
  readonly data?: string;
  readonly threads?: number;
  /** Evaluate on N test images (a fixed seeded choice); default: the run's own limit, else all. */
  readonly testLimit?: number;
  /** Where to write the PNG grid (default `<dir>/recon.png`); '' to skip it. */
  readonly grid?: string;
  /** Images in the grid (default 16). */
  readonly gridImages?: number;
  readonly batch?: number;
}

export async function evaluateCheckpoint(dir: string, options: EvaluateCheckpointOptions = {}): Promise<EvalResult> {
  const { model, store } = await loadModelCheckpoint(dir);
  const gridFile = options.grid ?? join(dir, 'recon.png');
  if (options.grid !== '') await checkOutputFile(gridFile);
  const trainer = hasTrainingCheckpoint(dir) ? await readTrainerState(dir) : undefined;
  const path = options.data ?? trainer?.data.path ?? undefined;
  const limit = options.testLimit ?? (options.data === undefined ? trainer?.data.testLimit ?? undefined : undefined);
  const test = loadTestSet(path, model.input, limit);
  // Grid images spread over the test set: sources are often sorted by class.
  const keep = options.grid === '' ? [] : spreadIndices(test.count, options.gridImages ?? 16);
  const evaluator = await Evaluator.create(model, store, { batch: Math.min(options.batch ?? 200, test.count), ...(options.threads !== undefined ? { threads: options.threads } : {}) });
  try {
    const result = await evaluator.evaluate(test, { ssim: true, keep });
    if (keep.length > 0) {
      const { channels, height, width } = model.input;
      const originals = pickImages(test.images, channels * height * width, keep);
      const png = reconstructionGrid(originals, result.reconstructions, keep.length, model.input);
      await writeFileAtomic(gridFile, png);
    }
    return { metrics: result.metrics, counts: result.counts };
  } finally {
    await evaluator.release();
  }
}

/**
 * `evaluateCheckpoint(dir)`: reconstruction quality and code usage of a trained checkpoint over its
 * test set, or with `split: 'train'` its training set (see evaluator.ts for the metric
 * definitions), plus a PNG grid of originals above reconstructions (`recon.png` in the checkpoint
 * directory unless `grid` names another path).
 *
 * The set defaults to the one the run trained with (path and limits from trainer-state.json),
 * shaped to the model's input.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { checkOutputFile } from '../persistence/output-path.js';
import { loadModelCheckpoint, readTrainerState, type CheckpointReadOptions } from '../persistence/checkpoint.js';
import { hasTrainingCheckpoint } from '../persistence/run-directory.js';
import { loadEvalSet } from '../data/selection.js';
import { Evaluator, pickImages, spreadIndices, type EvalMetrics } from './evaluator.js';
import { reconstructionGrid } from './image-grid.js';

export interface EvalResult {
  readonly metrics: EvalMetrics;
  /** How many latents of the evaluated set chose each code (length K), for usage histograms. */
  readonly counts: Float64Array;
}

/** `checkpoint` picks a run's last or best checkpoint; `notice` hears that one carries no checksums. */
export interface EvaluateCheckpointOptions extends CheckpointReadOptions {
  /** Dataset path (default: the one the checkpoint was trained on, else the bundled MNIST digits). */
  readonly data?: string;
  readonly threads?: number;
  /** Which split to evaluate (default 'test'). */
  readonly split?: 'train' | 'test';
  /** Evaluate on N images of the split (a fixed seeded choice); default: the run's own limit for that split, else all. */
  readonly limit?: number;
  /** SSIM as well (default true; the training split skips it by default, it is the slowest metric there). */
  readonly ssim?: boolean;
  /** Where to write the PNG grid (default `<dir>/recon.png`, for the training split `recon-train.png`); '' to skip it. */
  readonly grid?: string;
  /** Images in the grid (default 16). */
  readonly gridImages?: number;
  readonly batch?: number;
}

export async function evaluateCheckpoint(dir: string, options: EvaluateCheckpointOptions = {}): Promise<EvalResult> {
  const { model, store, dir: folder } = await loadModelCheckpoint(dir, options);
  const split = options.split ?? 'test';
  const gridFile = options.grid ?? join(dir, split === 'test' ? 'recon.png' : 'recon-train.png');
  if (options.grid !== '') await checkOutputFile(gridFile);
  const trainer = hasTrainingCheckpoint(folder) ? await readTrainerState(folder, { limits: options.limits }) : undefined;
  const path = options.data ?? trainer?.data.path ?? undefined;
  const runLimit = split === 'test' ? trainer?.data.testLimit : trainer?.data.trainLimit;
  const limit = options.limit ?? (options.data === undefined ? runLimit ?? undefined : undefined);
  const test = loadEvalSet(path, model.input, split, limit, options.limits);
  // Grid images spread over the test set: sources are often sorted by class.
  const keep = options.grid === '' ? [] : spreadIndices(test.count, options.gridImages ?? 16);
  const evaluator = await Evaluator.create(model, store, { batch: Math.min(options.batch ?? 200, test.count), ...(options.threads !== undefined ? { threads: options.threads } : {}) });
  try {
    const result = await evaluator.evaluate(test, { ssim: options.ssim ?? split === 'test', keep });
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

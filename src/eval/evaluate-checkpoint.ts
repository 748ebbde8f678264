/**
 * `evaluateCheckpoint(dir)`: reconstruction quality and code usage of a trained checkpoint over its
 * test set, or with `split: 'train'` its training set (see evaluator.ts for the metric
 * definitions), plus the modality's preview of originals beside reconstructions (for images a PNG
 * grid, `recon.png` in the checkpoint directory unless `grid` names another path).
 *
 * The set defaults to the one the run trained with (path and limits from trainer-state.json),
 * shaped to the model's input.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../persistence/atomic-file.js';
import { checkOutputFile } from '../persistence/output-path.js';
import { loadModelCheckpoint, readTrainerState, type CheckpointReadOptions, type TrainerState } from '../persistence/checkpoint.js';
import type { ModelConfig } from '../models/config.js';
import type { ExampleSet, Modality } from '../modality/modality.js';
import { hasTrainingCheckpoint } from '../persistence/run-directory.js';
import { modalityOf } from '../modality/registry.js';
import { diagnose, type DiagnosticsRecord } from './diagnostics.js';
import { Evaluator, pickExamples, spreadIndices, type EvalMetrics } from './evaluator.js';

export interface EvalResult {
  readonly metrics: EvalMetrics;
  /** How many latents of the evaluated set chose each code (length K), for usage histograms. */
  readonly counts: Float64Array;
  /** The preview file written, if one was. */
  readonly preview: string | undefined;
}

/** `checkpoint` picks a run's last or best checkpoint; `notice` hears that one carries no checksums. */
export interface EvaluateCheckpointOptions extends CheckpointReadOptions {
  /** Dataset path (default: the one the checkpoint was trained on, else the bundled MNIST digits). */
  readonly data?: string | undefined;
  readonly threads?: number | undefined;
  /** Which split to evaluate (default 'test'). */
  readonly split?: 'train' | 'test' | undefined;
  /** Evaluate on N images of the split (a fixed seeded choice); default: the run's own limit for that split, else all. */
  readonly limit?: number | undefined;
  /** The modality's slow metrics as well (for images SSIM; default true, but the training split skips them by default). */
  readonly slowMetrics?: boolean | undefined;
  /** Where to write the preview (default: the modality's name for the split in `dir`, for images `recon.png` and `recon-train.png`); '' to skip it. */
  readonly grid?: string | undefined;
  /** Examples in the preview (default 16). */
  readonly gridImages?: number | undefined;
  readonly batch?: number | undefined;
}

/** The set of `split` that checkpoint folder `folder` (of a model of `config`) is evaluated on, by the options' rules above, and its trainer state. */
async function evaluationSet(folder: string, config: ModelConfig, modality: Modality, options: EvaluateCheckpointOptions, split: 'train' | 'test'): Promise<{ set: ExampleSet; trainer: TrainerState | undefined }> {
  const trainer = hasTrainingCheckpoint(folder) ? await readTrainerState(folder, { limits: options.limits }) : undefined;
  const path = options.data ?? trainer?.data.path ?? undefined;
  const runLimit = split === 'test' ? trainer?.data.testLimit : trainer?.data.trainLimit;
  const limit = options.limit ?? (options.data === undefined ? runLimit ?? undefined : undefined);
  return { set: await modality.loadEvalSet({ path, config, split, limit, limits: options.limits }), trainer };
}

export async function evaluateCheckpoint(dir: string, options: EvaluateCheckpointOptions = {}): Promise<EvalResult> {
  const { config, model, store, dir: folder } = await loadModelCheckpoint(dir, options);
  const modality = modalityOf(config);
  const split = options.split ?? 'test';
  const gridFile = options.grid ?? join(dir, modality.previewName(split));
  if (options.grid !== '') await checkOutputFile(gridFile);
  const { set: test } = await evaluationSet(folder, config, modality, options, split);
  // Preview examples spread over the test set: sources are often sorted by class.
  const keep = options.grid === '' ? [] : spreadIndices(test.count, options.gridImages ?? 16);
  const evaluator = await Evaluator.create(modality, config, model, store, { batch: Math.min(options.batch ?? 200, modality.maxEvalBatch(config), test.count), threads: options.threads });
  try {
    const result = await evaluator.evaluate(test, { slowMetrics: options.slowMetrics ?? split === 'test', keep });
    if (keep.length > 0) {
      const values = modality.valuesFor(test, config);
      const originals = pickExamples(values, values.length / test.count, keep);
      await writeFileAtomic(gridFile, modality.preview(originals, result.reconstructions, keep.length, config));
    }
    return { metrics: result.metrics, counts: result.counts, preview: keep.length > 0 ? gridFile : undefined };
  } finally {
    await evaluator.release();
  }
}

/**
 * The codebook diagnostics (diagnostics.ts) of checkpoint `dir` over its training set, or with
 * `split: 'test'` its test set: what a run writes to diagnostics.jsonl with `diagnoseEvery`, for
 * any checkpoint after the fact (a folder of checkpoints kept one per epoch, say).
 */
export async function diagnoseCheckpoint(dir: string, options: Omit<EvaluateCheckpointOptions, 'grid' | 'gridImages' | 'slowMetrics'> = {}): Promise<DiagnosticsRecord> {
  const split = options.split ?? 'train';
  const { config, model, store, dir: folder } = await loadModelCheckpoint(dir, options);
  const modality = modalityOf(config);
  const { set, trainer } = await evaluationSet(folder, config, modality, options, split);
  const evaluator = await Evaluator.create(modality, config, model, store, { batch: Math.min(options.batch ?? 200, set.count), threads: options.threads });
  try {
    return await diagnose(evaluator, model, store, set, { epoch: trainer?.epoch ?? 0, step: trainer?.step ?? 0, split });
  } finally {
    await evaluator.release();
  }
}

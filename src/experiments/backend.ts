/**
 * What an experiment needs from the rest of vqlab: train a run into a directory, then evaluate its
 * checkpoint on the test set (metrics, per-code counts, reconstruction grid) and count its code
 * usage over the whole training set. The runner talks only
 * to this interface, so the experiment/report pipeline can be tested without minutes of training.
 */
import type { ExperimentSettings, RunMetrics, RunSpec, SetUsage } from './types.js';

export interface TrainRequest {
  readonly spec: RunSpec;
  readonly settings: ExperimentSettings;
  /** Run directory: the trainer writes metrics.jsonl and checkpoints here. */
  readonly dir: string;
  /**
   * `dir` already holds an earlier, unfinished attempt (an interrupted run). The backend continues
   * from its checkpoint if it has one, and starts over otherwise.
   */
  readonly resume: boolean;
  readonly log: (line: string) => void;
  /** Called after each epoch's checkpoint is committed in `dir` (the run cache copies it). */
  readonly epochSaved?: ((epoch: number) => Promise<void>) | undefined;
}

export interface EvalRequest {
  readonly spec: RunSpec;
  readonly settings: ExperimentSettings;
  readonly dir: string;
  /** Where to write the reconstruction grid PNG. */
  readonly grid: string;
}

export interface EvalOutcome {
  readonly metrics: RunMetrics;
  /** How many test-set latent vectors chose each code, length K. */
  readonly counts: ArrayLike<number>;
}

export interface Backend {
  train(req: TrainRequest): Promise<void>;
  evaluate(req: EvalRequest): Promise<EvalOutcome>;
  /** Code usage of the trained model over every training image (no reconstruction grid). */
  trainSetUsage(req: Omit<EvalRequest, 'grid'>): Promise<SetUsage>;
}

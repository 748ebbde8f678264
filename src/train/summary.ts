import type { ModelConfig } from '../models/config.js';
import type { EpochRecord } from './metrics-log.js';

/** What `trainModel` returns: where the run is, how far it got, and the epochs this invocation trained. */
export interface TrainSummary {
  readonly out: string;
  readonly config: ModelConfig;
  /** Epochs completed in total (including those before a resume). */
  readonly completedEpochs: number;
  readonly steps: number;
  /** Epoch where this invocation started (0 unless resumed). */
  readonly startEpoch: number;
  /** Records of the epochs trained by this invocation. */
  readonly history: readonly EpochRecord[];
  readonly last: EpochRecord | undefined;
  readonly seconds: number;
  /** Folder of the checkpoint with the lowest test mse, when the run evaluates every epoch. */
  readonly best: string | undefined;
}

/**
 * The real backend: trains with `trainModel` and evaluates the final checkpoint with
 * `evaluateCheckpoint`, exactly as `vqlab train`, `vqlab eval` and `vqlab eval --split train` do
 * (same sets, metrics and reconstruction grid), keeping its per-code counts for the usage histograms.
 */
import { evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { modalityOfModelKind } from '../models/config.js';
import { hasTrainingCheckpoint } from '../persistence/run-directory.js';
import { OPTIMIZER_PRESETS, TRAIN_DEFAULTS } from '../train/defaults.js';
import { DEFAULT_PLATEAU_DELTA } from '../train/plateau.js';
import { DEFAULT_SETTLE_DELTA } from '../train/settle.js';
import { trainModel } from '../train/train.js';
import type { Backend } from './backend.js';
import type { RunSpec } from './types.js';

/** Test images shown in each run's reconstruction grid. */
const GRID_IMAGES = 16;
const EVAL_BATCH = 200;
/**
 * Mid-epoch checkpoints, so a grid stopped at a fixed time loses at most this many steps of the
 * run in progress (an epoch of Fashion-MNIST at K = 65,536 is 468 steps, about 7 minutes on 2
 * cores). Saving costs well under a second; resuming from a mid-epoch checkpoint is exact.
 */
const SAVE_EVERY_STEPS = 100;

/** Whether the run trains a speech model (its model family is the audio modality's): its preview is a WAV, not a PNG grid. */
function isSpeechRun(spec: RunSpec): boolean {
  return spec.model !== undefined && modalityOfModelKind(spec.model) === 'audio';
}

export function defaultBackend(): Backend {
  return {
    async train({ spec, settings, dir, log, epochSaved }) {
      // Resume only from a real checkpoint; a directory without one (killed during the first
      // epoch) starts that run over, replacing what the killed attempt left.
      const resume = hasTrainingCheckpoint(dir);
      await trainModel({
        quantizer: spec.quantizer,
        modality: spec.model === undefined ? undefined : modalityOfModelKind(spec.model),
        model: spec.model,
        loss: spec.loss,
        cropSamples: spec.cropSamples,
        seanet: spec.channels === undefined ? undefined : { channels: spec.channels },
        lr: spec.lr ?? TRAIN_DEFAULTS.lr,
        batch: spec.batch ?? TRAIN_DEFAULTS.batch,
        epochs: spec.epochs,
        seed: spec.seed,
        threads: settings.threads,
        out: dir,
        resume,
        force: !resume,
        // The test set is evaluated once, after training, by \`evaluate\` (with per-code counts);
        // skipping the trainer's per-epoch evaluation saves a forward pass over it every epoch.
        evaluateEachEpoch: false,
        saveEvery: SAVE_EVERY_STEPS,
        data: settings.data,
        trainLimit: spec.trainLimit,
        testLimit: spec.testLimit,
        stopOnPlateau: spec.plateauPatience === undefined ? undefined : { patience: spec.plateauPatience, minDelta: spec.plateauDelta ?? DEFAULT_PLATEAU_DELTA },
        stopOnSettle: spec.settlePatience === undefined ? undefined : { patience: spec.settlePatience, delta: spec.settleDelta ?? DEFAULT_SETTLE_DELTA },
        diagnoseEvery: settings.diagnoseEvery,
        adamBetas: OPTIMIZER_PRESETS[spec.optimizer ?? 'reference'].adamBetas,
        lrSchedule: spec.warmupSteps !== undefined || spec.cosine ? { warmupSteps: spec.warmupSteps ?? 0, cosine: spec.cosine === true, minLr: 0 } : undefined,
      }, { log: (line) => log(`${spec.id}: ${line}`), epochSaved });
    },

    async evaluate({ spec, settings, dir, grid }) {
      const speech = isSpeechRun(spec);
      const { metrics: m, counts } = await evaluateCheckpoint(dir, {
        threads: settings.threads,
        // The report shows PNG grids; a speech run's preview would be a WAV.
        grid: speech ? '' : grid,
        gridImages: GRID_IMAGES,
        batch: EVAL_BATCH,
        data: settings.data,
        limit: spec.testLimit,
      });
      return {
        metrics: {
          utilization: m.utilization, perplexity: m.perplexity, dead_codes: m.dead_codes, mse: m.mse, psnr: m.psnr ?? NaN, ssim: Number.isFinite(m.ssim) ? m.ssim : null,
          effective_bits: m.effective_bits, codes_covering_50: m.codes_covering_50, codes_covering_90: m.codes_covering_90,
          ...(speech ? { si_snr: m.si_snr, mel_distance: m.mel_distance, stoi: m.stoi } : {}),
        },
        counts,
      };
    },

    async trainSetUsage({ spec, settings, dir }) {
      const { metrics: m, counts } = await evaluateCheckpoint(dir, {
        split: 'train',
        threads: settings.threads,
        grid: '',
        batch: EVAL_BATCH,
        data: settings.data,
        limit: spec.trainLimit,
      });
      const latents = counts.reduce((a, b) => a + b, 0);
      return {
        latents, utilization: m.utilization, used_codes: counts.length - m.dead_codes, perplexity: m.perplexity,
        effective_bits: m.effective_bits, codes_covering_50: m.codes_covering_50, codes_covering_90: m.codes_covering_90,
      };
    },
  };
}

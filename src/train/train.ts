/**
 * `trainModel`: the training loop of vqlab.
 *
 * It runs in named steps, each in its own file: `prepareRun` (run-setup.ts: run directory, data,
 * model, programs, and on resume the checkpoint), then per epoch `trainEpoch` (epoch-loop.ts: the
 * training steps, the epoch's metrics line and its checkpoint). Resume reconciliation — what a
 * checkpoint was trained with, what a resume may change, whether anything is left to do — is in
 * resume.ts; what a run is asked to do (`TrainOptions`, `TrainHooks`) in train-options.ts.
 *
 * Each training step is one `TrainingProgram.step` — forward, backward, Adam update in one ONNX
 * graph and one `session.run` — on a batch from the seeded `BatchIterator` (the incomplete last
 * batch of an epoch is dropped, so every step has the same shape).
 *
 * Resume (`resume: true`, `out` = the run directory) reloads parameters, quantizer state, Adam
 * moments and the step counter, and restarts the data iterator at the saved position, so 1 + 1
 * epochs give bit-identical weights to 2 epochs in one go (same threads, same machine).
 *
 * A non-finite loss stops the run with a `TrainingDivergedError` before anything is written, so
 * the last good checkpoint stays as it was. Aborting `stopSignal` (Ctrl-C in the CLI) lets the
 * current step finish, saves a mid-epoch checkpoint with the epoch's running totals, and throws a
 * `TrainingStoppedError`; resuming it gives the same weights as a run that was never stopped.
 */
import { bestCheckpoint } from '../persistence/run-directory.js';
import { trainEpoch, TrainingStoppedError } from './epoch-loop.js';
import type { EpochRecord } from './metrics-log.js';
import { appendDiagnostics } from './diagnostics-log.js';
import { finishedRun, plateauReached, settleReached } from './resume.js';
import { prepareRun } from './run-setup.js';
import type { TrainSummary } from './summary.js';
import { validateTrainOptions, type TrainHooks, type TrainOptions } from './train-options.js';

/**
 * Trains the run `options` describe (or continues it, with `resume`) and returns its summary;
 * `hooks` receive its lines and progress, may stop it, and may hand it datasets directly.
 */
export async function trainModel(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainSummary> {
  validateTrainOptions(options);
  const started = performance.now();
  const finished = options.resume ? await finishedRun(options, hooks) : undefined;
  if (finished) return finished;
  const run = await prepareRun(options, hooks);
  try {
    const history: EpochRecord[] = [];
    for (let epoch = run.startEpoch; epoch < options.epochs; epoch++) {
      history.push(await trainEpoch(run, epoch, started));
      if (options.diagnoseEvery !== undefined && (epoch + 1) % options.diagnoseEvery === 0) await appendDiagnostics(run, epoch + 1);
      await hooks.epochSaved?.(epoch + 1);
      if (options.stopOnSettle !== undefined && epoch + 1 < options.epochs && await settleReached(run.out, options.stopOnSettle)) {
        run.log(`utilization has changed by less than ${100 * options.stopOnSettle.delta} points in each of the last ${options.stopOnSettle.patience} epochs; stopping after epoch ${epoch + 1} of at most ${options.epochs}`);
        break;
      }
      if (options.stopOnPlateau !== undefined && epoch + 1 < options.epochs && await plateauReached(run.out, options.stopOnPlateau)) {
        run.log(`utilization has not risen by more than ${100 * options.stopOnPlateau.minDelta} points in ${options.stopOnPlateau.patience} epochs; stopping after epoch ${epoch + 1} of at most ${options.epochs}`);
        break;
      }
      if (hooks.stopSignal?.aborted && epoch + 1 < options.epochs) {
        throw new TrainingStoppedError(`stopped after epoch ${epoch + 1} (step ${run.step}) with its checkpoint saved; continue with: vqlab train --resume ${options.out}`);
      }
    }
    run.iterator.close();
    return {
      out: run.out,
      config: run.config,
      completedEpochs: Math.max(run.startEpoch, run.startEpoch + history.length),
      steps: run.step,
      startEpoch: run.startEpoch,
      history,
      last: history[history.length - 1],
      seconds: (performance.now() - started) / 1000,
      best: bestCheckpoint(run.out),
    };
  } finally {
    await run.trainingStep.program.release();
    await run.evaluator?.release();
    if (run.diagnosticsEvaluator !== run.evaluator) await run.diagnosticsEvaluator?.release();
  }
}

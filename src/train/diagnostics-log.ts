/**
 * diagnostics.jsonl: the codebook diagnostics a run takes every `diagnoseEvery` epochs (code usage
 * over the whole training set, SimVQ's singular values of W; eval/diagnostics.ts), one JSON line
 * each, appended after the epoch's checkpoint is saved and flushed like metrics.jsonl's lines.
 */
import { join } from 'node:path';
import { diagnose, DIAGNOSTICS_FILE } from '../eval/diagnostics.js';
import { appendJsonLine } from './metrics-log.js';
import type { Run } from './run-setup.js';

/** Diagnoses the model after `epoch` epochs over the training set and appends the record. */
export async function appendDiagnostics(run: Run, epoch: number): Promise<void> {
  const evaluator = run.diagnosticsEvaluator;
  if (evaluator === undefined) throw new Error('appendDiagnostics: the run has no diagnostics evaluator (diagnoseEvery was not set when it was prepared)');
  const record = await diagnose(evaluator, run.model, run.store, run.data.train, { epoch, step: run.step, split: 'train' });
  await appendJsonLine(join(run.out, DIAGNOSTICS_FILE), record);
  const sigma = record.singular_values;
  const spectrum = sigma !== undefined ? `, W's singular values ${sigma[0]!.toPrecision(3)} … ${sigma[sigma.length - 1]!.toPrecision(3)}` : '';
  run.log(`diagnostics after epoch ${epoch}: training set utilization ${(100 * record.utilization).toFixed(2)}%, perplexity ${record.perplexity.toFixed(1)}, codes for 50 % / 90 % of latents ${record.codes_covering_50} / ${record.codes_covering_90}${spectrum}`);
}

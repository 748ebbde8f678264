/**
 * Running a whole experiment into an output directory: plan the runs, execute each resumably,
 * keep results.json / results.csv current after every run (so an interrupted experiment still has
 * its finished runs on disk), and finally draw the figures and report.html.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rebuildReport, type RebuildSummary } from './rebuild-report.js';
import { formatDuration } from '../report/format.js';
import type { Backend } from './backend.js';
import { machineInfo } from './machine.js';
import { readResults, writeResults } from './results.js';
import { plannedRuns } from './definition.js';
import { experimentDefinition } from './registry.js';
import type { RunCache } from './run-cache.js';
import { completedRun, executeRun } from './runner.js';
import type { ExperimentKind, ExperimentResults, ExperimentSettings, RunResult } from './types.js';

export interface RunExperimentOptions {
  readonly kind: ExperimentKind;
  readonly settings: ExperimentSettings;
  readonly out: string;
  readonly backend: Backend;
  /** Preset name recorded in results.json ("full", "quick" or "custom"). */
  readonly preset?: string;
  readonly log?: (line: string) => void;
  /**
   * Train nothing: write results.json, results.csv and the report from the runs already completed
   * (an experiment still running elsewhere, or stopped), and log the ones still missing.
   */
  readonly collectOnly?: boolean;
  /** Share end-of-epoch checkpoints between runs of the same training through this cache (run-cache.ts). */
  readonly cache?: RunCache | undefined;
}

export interface ExperimentOutcome {
  readonly results: ExperimentResults;
  readonly report: RebuildSummary;
  /** Runs skipped because a completed result was already on disk. */
  readonly reused: number;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}

export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentOutcome> {
  const log = o.log ?? (() => {});
  const def = experimentDefinition(o.kind);
  const plan = plannedRuns(def, o.settings);
  const ids = new Set(plan.map((r) => r.id));
  if (ids.size !== plan.length) throw new Error(`${o.kind}: duplicate run ids in the plan (repeated sizes, seeds or β values?)`);
  mkdirSync(o.out, { recursive: true });

  let startedAt = new Date().toISOString();
  if (existsSync(`${o.out}/results.json`)) {
    const previous = readResults(o.out);
    if (previous.experiment !== o.kind) throw new Error(`${o.out} holds a '${previous.experiment}' experiment; use another --out for '${o.kind}'`);
    startedAt = previous.startedAt;
  }
  const base = { version: 1 as const, experiment: o.kind, title: def.title, preset: o.preset ?? 'custom', settings: o.settings, machine: machineInfo(), startedAt };
  const runs: RunResult[] = [];
  let reused = 0;
  let freshSeconds = 0;
  let fresh = 0;
  // Runs still to train, for the ETA (completed ones are reused in seconds).
  let toTrain = plan.filter((spec) => completedRun(o.out, spec) === null).length;
  log(`${o.kind}: ${plan.length} runs into ${o.out} (${plan.length - toTrain} already done)`);
  const missing: string[] = [];
  for (const [i, spec] of plan.entries()) {
    let outcome: { result: RunResult; reused: boolean };
    if (o.collectOnly) {
      const done = completedRun(o.out, spec);
      if (done === null) {
        missing.push(spec.id);
        continue;
      }
      outcome = { result: done, reused: true };
    } else {
      outcome = await executeRun(spec, { out: o.out, settings: o.settings, backend: o.backend, log, cache: o.cache });
    }
    const { result, reused: wasDone } = outcome;
    runs.push(result);
    const m = result.metrics;
    const seconds = result.timing.train_seconds + result.timing.eval_seconds;
    if (wasDone) reused++;
    else { fresh++; freshSeconds += seconds; toTrain--; }
    // A rough ETA: the mean time of the runs trained in this process times the runs left to train.
    const eta = fresh ? ` — about ${formatDuration((freshSeconds / fresh) * toTrain)} left` : '';
    log(`[${i + 1}/${plan.length}] ${spec.id}${wasDone ? ' (already done)' : ''}: utilization ${pct(m.utilization)}, perplexity ${m.perplexity.toFixed(1)}, `
      + `dead ${m.dead_codes}, ${m.stoi !== undefined ? `STOI ${m.stoi.toFixed(3)}` : `PSNR ${m.psnr.toFixed(2)} dB`}, ${formatDuration(seconds)}${eta}`);
    if (!o.collectOnly) await writeResults(o.out, { ...base, finishedAt: null, runs });
  }
  if (missing.length > 0) log(`${o.kind}: ${missing.length} of ${plan.length} runs not completed yet: ${missing.join(', ')}`);
  // Finished when its last run completed, so collecting a finished experiment again changes nothing.
  const finishedAt = missing.length === 0 ? runs.map((r) => r.completedAt).reduce((a, b) => (b > a ? b : a), base.startedAt) : null;
  const results: ExperimentResults = { ...base, finishedAt, runs };
  await writeResults(o.out, results);
  const report = await rebuildReport(o.out, results);
  log(`${o.kind}: wrote ${o.out}/results.json, results.csv, ${report.figures.length} figures and ${report.report}`);
  return { results, report, reused };
}

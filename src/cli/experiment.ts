/**
 * `vqlab experiment NAME [options]` and `vqlab report DIR`.
 *
 * Options override the chosen preset (the full grid by default, `--quick` for a few-minute run).
 * Progress lines go to stderr, the closing summary to stdout.
 */
import { resolveSettings, type PresetName } from '../experiments/presets.js';
import { EXPERIMENTS, experimentDefinition } from '../experiments/registry.js';
import { runExperiment } from '../experiments/run-experiment.js';
import type { ExperimentKind, ExperimentSettings } from '../experiments/types.js';
import { parseQuantizerSpec } from '../quantizers/registry.js';
import { describeDefault } from '../quantizers/option-schema.js';
import { COMMON_OPTIONS } from '../quantizers/options.js';
import { SIMVQ_OPTIMIZE_MODES, type SimVQOptimize } from '../quantizers/simvq.js';
import { readResults } from '../experiments/results.js';
import { markdownSummary } from '../experiments/markdown-summary.js';
import { diagnosticsSummary } from '../experiments/diagnostics-summary.js';
import { metric, METRICS } from '../experiments/summary.js';
import { rebuildReport } from '../experiments/rebuild-report.js';
import { choiceOption, helpText, intOption, numberOption, parseCommandArgs, stringOption, UsageError, type OptionTable, type ParsedArgs } from './args.js';
import { describeOptimizerPresets } from './optimizer-options.js';
import { OPTIMIZER_PRESET_NAMES } from '../train/defaults.js';
import { plannedRuns } from '../experiments/definition.js';
import { runState, type RunState } from '../experiments/runner.js';
import { writeStdout, type Command } from './command.js';
import { DEVICE_OPTION, deviceChoiceOf, useDevice } from './device-option.js';
import type { DeviceChoice } from '../runtime/device-choice.js';

const OPTIONS: OptionTable = {
  quick: { type: 'boolean', description: 'small preset: K ∈ {64, 1024}, 1 epoch, 2,000 train / 500 test images, seed 0 (< 3 min)' },
  out: { type: 'string', value: 'DIR', description: 'output directory (default experiments/NAME, or experiments/NAME-quick)' },
  sizes: { type: 'string', value: 'K,K,…', description: 'codebook sizes (codebook-size; default 256,1024,4096,16384,65536)' },
  size: { type: 'string', value: 'K', description: 'the fixed codebook size (optimization, beta; default 1024)' },
  quantizers: { type: 'string', value: 'Q,…', description: "quantizers as NAME[:key=value…] (e.g. vq,ema:decay=0.95,fsq:levels=8x5x5x5; see 'vqlab train --help'); default vq,ema,simvq (beta: vq,simvq; optimization: the baselines beside the SimVQ variants, vq)" },
  optimize: { type: 'string', value: 'W,C,both', description: 'SimVQ variants (optimization; default W,C,both)' },
  betas: { type: 'string', value: 'B,…', description: 'β values (beta; default 0.1,0.25,0.5,1,2)' },
  beta: { type: 'string', value: 'B', description: `β where it is not swept (default ${describeDefault(COMMON_OPTIONS.beta)})` },
  seeds: { type: 'string', value: 'S,…', description: 'seeds; several give mean ± std (default 0,1,2)' },
  'replicate-sizes': { type: 'string', value: 'K,…', description: 'run the seeds after the first only at these codebook sizes (default: at all)' },
  'replicate-variants': { type: 'string', value: 'V,…', description: 'run the seeds after the first only for these variants, as --plan names them (default: all)' },
  epochs: { type: 'string', value: 'N', description: 'training epochs per run (default 5)' },
  'train-limit': { type: 'string', value: 'N', description: 'train on N images (a fixed seeded subset; default all)' },
  'test-limit': { type: 'string', value: 'N', description: 'evaluate on N test images (default all)' },
  lr: { type: 'string', value: 'X', description: 'Adam learning rate (default 3e-4, or the --optimizer-preset\'s)' },
  'optimizer-preset': { type: 'string', value: 'NAME', description: `${describeOptimizerPresets()}; --lr overrides its lr` },
  warmup: { type: 'string', value: 'N', description: 'linear learning-rate warm-up over the first N steps of each run (default 0)' },
  'until-plateau': { type: 'string', value: 'P', description: 'stop each run once its training utilization has not risen for P epochs (--epochs is the cap)' },
  'plateau-delta': { type: 'string', value: 'D', description: 'smallest utilization rise that counts for --until-plateau (default 0.005)' },
  'until-settled': { type: 'string', value: 'P', description: 'stop each run once its training utilization has changed by less than --settle-delta, up or down, in each of P epochs (--epochs is the cap)' },
  'settle-delta': { type: 'string', value: 'D', description: 'change that counts as none for --until-settled (default 0.005)' },
  'diagnose-every': { type: 'string', value: 'N', description: 'every N epochs, each run appends training-set code usage (and SimVQ\'s singular values of W) to diagnostics.jsonl in its directory' },
  cosine: { type: 'boolean', description: 'cosine decay of the learning rate to 0 at each run\'s last step' },
  batch: { type: 'string', value: 'N', description: 'batch size (default 128)' },
  dim: { type: 'string', value: 'D', description: 'code dimension (default 64)' },
  data: { type: 'string', value: 'PATH|NAME', description: `dataset, as for 'vqlab train --data' (e.g. fashion-mnist; default: the bundled MNIST digits, 9,000 train / 1,000 test)` },
  model: { type: 'string', value: 'NAME', description: "model family, as for 'vqlab train --model' (default: the reference MNIST model); seanet trains speech on a speech --data set (SimVQ's Table 2)" },
  loss: { type: 'string', value: 'NAME', description: "reconstruction loss, as for 'vqlab train --loss' (speech: l1 or l1+mel)" },
  'crop-samples': { type: 'string', value: 'N', description: 'speech: samples of a training crop and evaluation window (default 16000)' },
  channels: { type: 'string', value: 'C', description: 'seanet: channels of the first conv (default 32)' },
  threads: { type: 'string', value: 'N', description: 'ONNX Runtime threads per run (default 2)' },
  ...DEVICE_OPTION,
  plan: { type: 'boolean', description: 'print the planned runs, each as completed, interrupted or not started in --out, and the settings; then exit' },
  collect: { type: 'boolean', description: 'train nothing: write results.json and the report from the runs completed so far, and list the missing ones' },
  'run-cache': { type: 'string', value: 'DIR', description: 'keep each run\'s end-of-epoch checkpoints in DIR, keyed by everything that decides its weights, and start a run from the latest epoch of the same training found there (a larger --epochs, a stopping rule, the same run in another experiment); byte-identical to training it anew. Use a new DIR after changing vqlab\'s training code' },
};

const USAGE = `vqlab experiment <${Object.keys(EXPERIMENTS).join('|')}> [options]`;
const SUMMARY = `Train and evaluate a grid of runs and write results.json, results.csv, figures/*.svg and report.html.
  codebook-size  VQ, EMA-VQ and SimVQ for each K (utilization, perplexity, dead codes, MSE/PSNR, time;
                 with --model seanet on speech: STOI, SI-SNR and mel distance)
  optimization   SimVQ learning W, C or both, and vanilla VQ, at one K
  beta           VQ and SimVQ for each commitment weight β`;
const EXTRA = `Runs are resumable and seeded: rerunning the same command skips completed runs (runs/ID/result.json)
and resumes interrupted ones from their last epoch checkpoint. 'vqlab report DIR' redraws the report.`;

function list(values: ParsedArgs['values'], name: string): string[] | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list, got '${v}'`);
  return items;
}

function numbers(values: ParsedArgs['values'], name: string): number[] | undefined {
  return list(values, name)?.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new UsageError(`--${name}: '${s}' is not a number`);
    return n;
  });
}

function choices<T extends string>(values: ParsedArgs['values'], name: string, allowed: readonly T[]): T[] | undefined {
  const items = list(values, name);
  for (const i of items ?? []) if (!(allowed as readonly string[]).includes(i)) throw new UsageError(`--${name}: unknown '${i}'; choose from ${allowed.join(', ')}`);
  return items as T[] | undefined;
}

/** --quantizers: comma-separated `NAME[:key=value…]` specs, each checked against the registry. */
function quantizerSpecs(values: ParsedArgs['values']): string[] | undefined {
  const items = list(values, 'quantizers');
  for (const item of items ?? []) {
    try {
      parseQuantizerSpec(item);
    } catch (err) {
      throw new UsageError(`--quantizers: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return items;
}

export interface ParsedExperimentArgs {
  readonly kind: ExperimentKind;
  readonly preset: PresetName;
  readonly settings: ExperimentSettings;
  readonly out: string;
  readonly planOnly: boolean;
  readonly collectOnly: boolean;
  /** The run cache directory (--run-cache), if any. */
  readonly runCache: string | undefined;
  readonly help: boolean;
  /** Where the runs train (--device). */
  readonly device: DeviceChoice;
}

/** Parse `experiment` arguments into resolved settings (exported so tests check what the CLI runs). */
export function parseExperimentArgs(argv: readonly string[]): ParsedExperimentArgs {
  const { values, positionals } = parseCommandArgs('experiment', argv, OPTIONS, { min: 1, max: 1, names: `one experiment name (${Object.keys(EXPERIMENTS).join(', ')})` });
  if (values.help) return { kind: 'codebook-size', preset: 'full', settings: resolveSettings('codebook-size', 'full', {}), out: '', planOnly: false, collectOnly: false, runCache: undefined, help: true, device: 'cpu' };
  let kind: ExperimentKind;
  try {
    kind = experimentDefinition(positionals[0]!).kind;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const preset: PresetName = values.quick ? 'quick' : 'full';
  let settings: ExperimentSettings;
  try {
    settings = resolveSettings(kind, preset, {
      sizes: numbers(values, 'sizes'),
      size: intOption(values, 'size', 1),
      quantizers: quantizerSpecs(values),
      optimize: choices<SimVQOptimize>(values, 'optimize', SIMVQ_OPTIMIZE_MODES),
      betas: numbers(values, 'betas'),
      beta: numberOption(values, 'beta'),
      seeds: numbers(values, 'seeds'),
      epochs: intOption(values, 'epochs', 1),
      trainLimit: intOption(values, 'train-limit', 1),
      testLimit: intOption(values, 'test-limit', 1),
      lr: numberOption(values, 'lr'),
      batch: intOption(values, 'batch', 1),
      dim: intOption(values, 'dim', 1),
      data: stringOption(values, 'data'),
      model: stringOption(values, 'model'),
      loss: stringOption(values, 'loss'),
      cropSamples: intOption(values, 'crop-samples', 1),
      channels: intOption(values, 'channels', 1),
      threads: intOption(values, 'threads', 1),
      optimizer: choiceOption(values, 'optimizer-preset', OPTIMIZER_PRESET_NAMES),
      warmupSteps: intOption(values, 'warmup', 0),
      cosine: values.cosine === true ? true : undefined,
      replicateSizes: numbers(values, 'replicate-sizes'),
      plateauPatience: intOption(values, 'until-plateau', 1),
      plateauDelta: numberOption(values, 'plateau-delta'),
      settlePatience: intOption(values, 'until-settled', 1),
      settleDelta: numberOption(values, 'settle-delta'),
      diagnoseEvery: intOption(values, 'diagnose-every', 1),
      replicateVariants: list(values, 'replicate-variants'),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const out = stringOption(values, 'out') ?? `experiments/${kind}${preset === 'quick' ? '-quick' : ''}`;
  return { kind, preset, settings, out, planOnly: values.plan === true, collectOnly: values.collect === true, runCache: stringOption(values, 'run-cache'), help: false, device: deviceChoiceOf(values) };
}

export const experimentCommand: Command = {
  summary: 'run an experiment grid (codebook-size, optimization, beta) and write its report',
  async run(argv) {
    const parsed = parseExperimentArgs(argv);
    if (parsed.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const plan = plannedRuns(experimentDefinition(parsed.kind), parsed.settings);
    if (parsed.planOnly) {
      const states = plan.map((r) => runState(parsed.out, r));
      const width = Math.max(...plan.map((r) => r.id.length));
      const count = (s: RunState): number => states.filter((x) => x === s).length;
      const lines = [
        `${parsed.kind} (${parsed.preset} preset): ${plan.length} runs into ${parsed.out} (${count('completed')} completed, ${count('interrupted')} interrupted, ${count('not started')} not started)`,
        ...plan.map((r, i) => `  ${r.id.padEnd(width)}  ${states[i]}`),
        `settings: ${JSON.stringify(parsed.settings)}`,
      ];
      return writeStdout(`${lines.join('\n')}\n`);
    }
    // Loaded here so `--help`, `--plan` and `vqlab report` do not load ONNX Runtime.
    const { defaultBackend } = await import('../experiments/default-backend.js');
    const { RunCache } = await import('../experiments/run-cache.js');
    await useDevice(parsed.device);
    const { results, report, reused } = await runExperiment({
      kind: parsed.kind, settings: parsed.settings, out: parsed.out, preset: parsed.preset,
      backend: defaultBackend(), log: (line) => process.stderr.write(`${line}\n`), collectOnly: parsed.collectOnly,
      cache: parsed.runCache === undefined ? undefined : new RunCache(parsed.runCache),
    });
    if (parsed.collectOnly) return writeStdout(`${results.runs.length} of ${plan.length} runs completed → ${parsed.out}: results.json, results.csv, ${report.figures.length} SVG figures, report.html\n`);
    await writeStdout(`${results.runs.length} runs (${reused} already done) → ${parsed.out}: results.json, results.csv, ${report.figures.length} SVG figures, report.html\n`);
  },
};

const REPORT_USAGE = 'vqlab report DIR [--markdown [--metrics M,…] [--sort] | --diagnostics]';
const REPORT_SUMMARY = 'Rebuild DIR/figures/*.svg and DIR/report.html from DIR/results.json (no training); with --markdown, print the summary table instead and write nothing.';
const REPORT_OPTIONS: OptionTable = {
  markdown: { type: 'boolean', description: 'print the summary table (mean ± std) as Markdown on stdout, without rebuilding any file' },
  metrics: { type: 'string', value: 'M,…', description: `the table's columns (default all): ${METRICS.map((m) => m.key).join(', ')}` },
  sort: { type: 'boolean', description: 'order the table by variant, then by the swept value' },
  diagnostics: { type: 'boolean', description: 'print, as Markdown, each run\'s training-set diagnostics by epoch (runs trained with --diagnose-every), without rebuilding any file' },
};

export const reportCommand: Command = {
  summary: 'rebuild an experiment\'s figures and report.html from its results.json, or print its summary table',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('report', argv, REPORT_OPTIONS, { min: 1, max: 1, names: 'one experiment directory' });
    if (values.help) return writeStdout(helpText(REPORT_USAGE, REPORT_SUMMARY, REPORT_OPTIONS));
    const dir = positionals[0]!;
    const results = readResults(dir);
    let columns: string[] | undefined;
    try {
      columns = list(values, 'metrics')?.map((k) => metric(k).key);
    } catch (err) {
      throw new UsageError(`--metrics: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (columns !== undefined && !values.markdown) throw new UsageError('--metrics chooses the columns of the --markdown table; add --markdown');
    if (values.sort === true && !values.markdown) throw new UsageError('--sort orders the rows of the --markdown table; add --markdown');
    if (values.diagnostics === true) {
      if (values.markdown || columns !== undefined || values.sort === true) throw new UsageError('--diagnostics prints its own tables; drop --markdown, --metrics and --sort');
      const tables = diagnosticsSummary(results);
      if (tables === '') throw new UsageError(`no run in ${dir}/results.json took diagnostics; train with --diagnose-every N to record them`);
      return writeStdout(tables);
    }
    if (values.markdown) return writeStdout(markdownSummary(results, experimentDefinition(results.experiment), columns, values.sort === true));
    const summary = await rebuildReport(dir, results);
    await writeStdout(`wrote ${summary.figures.length} SVG figures and ${summary.report}\n`);
  },
};

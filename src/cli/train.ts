/** `vqlab train`: train a VQ-VAE, then evaluate it on the test set and print the result as JSON. */
import { resolve } from 'node:path';
import { evaluateCheckpoint } from '../eval/evaluate-checkpoint.js';
import { modalityOfModelKind, MODALITY_NAMES, type ModalityName } from '../models/config.js';
import type { Modality } from '../modality/modality.js';
import { modalityNamed } from '../modality/registry.js';
import {
  describeDefault,
  describeQuantizers,
  optionsOf,
  parseQuantizerOptions,
  parseQuantizerSpec,
  resolveQuantizerConfig,
  SIMVQ_OPTIMIZE_MODES,
  type QuantizerConfig,
} from '../quantizers/index.js';
import { COMMON_OPTIONS } from '../quantizers/options.js';
import { QUANTIZER_KINDS } from '../quantizers/quantizer.js';
import { SIMVQ_OPTIONS } from '../quantizers/simvq.js';
import { OPTIMIZER_PRESET_NAMES, OPTIMIZER_PRESETS, TRAIN_DEFAULTS } from '../train/defaults.js';
import { DEFAULT_PLATEAU_DELTA } from '../train/plateau.js';
import { DEFAULT_SETTLE_DELTA } from '../train/settle.js';
import { NO_WRITE_FAULTS } from '../persistence/write-hook.js';
import { TrainingStoppedError } from '../train/epoch-loop.js';
import { resumeOptions } from '../train/resume.js';
import { trainModel } from '../train/train.js';
import type { TrainOptions } from '../train/train-options.js';
import { choiceOption, helpText, intOption, listOption, numberOption, parseCommandArgs, stringOption, UsageError, type OptionTable } from './args.js';
import { toJson, writeStdout, type Command } from './command.js';
import { limitOptions, limitsFrom } from './limit-options.js';
import { betasOption, describeOptimizerPresets } from './optimizer-options.js';
import { DEVICE_OPTION, useDeviceOption } from './device-option.js';

const d = TRAIN_DEFAULTS;
/** The modality of a new run that neither its --model nor its --data selects. */
const defaultModality = modalityNamed();
const modalities: readonly Modality[] = MODALITY_NAMES.map((name) => modalityNamed(name));

const OPTIONS: OptionTable = {
  quantizer: { type: 'string', value: 'NAME', description: `${QUANTIZER_KINDS.join(' | ')} (default ${d.quantizer}); see "quantizers" below` },
  'quantizer-option': { type: 'string', value: 'KEY=VALUE', multiple: true, description: 'an option of the quantizer (repeatable), e.g. levels=8,5,5,5 or decay=0.9' },
  'codebook-size': { type: 'string', value: 'K', description: `number of codes (default ${d.codebookSize}; not for fsq)` },
  dim: { type: 'string', value: 'D', description: `code dimension (default ${d.dim})` },
  beta: { type: 'string', value: 'B', description: `commitment weight β (default ${describeDefault(COMMON_OPTIONS.beta)})` },
  lr: { type: 'string', value: 'LR', description: `Adam learning rate (default ${d.lr}, or the --optimizer-preset's)` },
  'adam-betas': { type: 'string', value: 'B1,B2', description: `Adam's β1,β2 (default ${OPTIMIZER_PRESETS.reference.adamBetas.join(',')}, or the --optimizer-preset's)` },
  'optimizer-preset': { type: 'string', value: 'NAME', description: `${describeOptimizerPresets()}; --lr and --adam-betas override it` },
  batch: { type: 'string', value: 'N', description: `images per step (default ${d.batch})` },
  epochs: { type: 'string', value: 'N', description: `epochs in total (default ${d.epochs})` },
  seed: { type: 'string', value: 'N', description: `seed of weights and data order (default ${d.seed})` },
  threads: { type: 'string', value: 'N', description: `ONNX Runtime threads (default ${d.threads})` },
  ...DEVICE_OPTION,
  data: { type: 'string', value: 'PATH|NAME', description: modalities.map((m) => `${m.dataHelp}`).join('; or ') },
  out: { type: 'string', value: 'DIR', description: 'run directory (default runs/<time>-<quantizer>)' },
  resume: { type: 'string', value: 'DIR', description: 'continue the run in DIR where it stopped' },
  'simvq-optimize': { type: 'string', value: 'W|C|both', description: `SimVQ: train the projection W, the codebook C, or both (default ${describeDefault(SIMVQ_OPTIONS.optimize)})` },
  model: { type: 'string', value: 'NAME', description: `images: ${defaultModality.modelKinds.join(' | ')} (default ${defaultModality.defaultModel}); speech: seanet (the default for speech --data)` },
  loss: { type: 'string', value: 'NAME', description: `reconstruction loss: ${modalities.map((m) => `${m.examples} ${Object.keys(m.losses).join(' | ')} (default ${m.defaultLoss})`).join('; ')}` },
  'sample-rate': { type: 'string', value: 'HZ', description: 'speech: the model\'s sample rate; files are resampled to it (default 16000)' },
  'crop-samples': { type: 'string', value: 'N', description: 'speech: samples of one training crop and evaluation window, a multiple of the hop (default 16000)' },
  channels: { type: 'string', value: 'C', description: 'seanet: channels of the first conv, doubled at each stride (default 32)' },
  strides: { type: 'string', value: 'S,S,…', description: 'seanet: downsampling strides, their product the hop (default 2,4,5,8 = 320)' },
  dilations: { type: 'string', value: 'D,D,…', description: 'seanet: dilations of the residual units at each resolution (default 1,3,9)' },
  'train-limit': { type: 'string', value: 'N', description: 'train on N images (speech: utterances) only (fixed choice), for quick runs' },
  'test-limit': { type: 'string', value: 'N', description: 'evaluate on N test images (speech: utterances) only' },
  'image-size': { type: 'string', value: 'N', description: 'resize images to N×N (needed for image folders)' },
  force: { type: 'boolean', description: 'replace the checkpoints, metrics and exports of an earlier run in --out' },
  'save-every': { type: 'string', value: 'N', description: 'also save a resumable checkpoint every N steps (default: after each epoch only)' },
  warmup: { type: 'string', value: 'N', description: 'warm the learning rate up linearly over the first N steps (default 0)' },
  cosine: { type: 'boolean', description: 'decay the learning rate along a cosine to --min-lr at the last step' },
  'min-lr': { type: 'string', value: 'LR', description: 'where --cosine ends (default 0)' },
  'until-plateau': { type: 'string', value: 'P', description: `stop before --epochs once the training utilization has not risen for P epochs (--epochs is then the cap)` },
  'plateau-delta': { type: 'string', value: 'D', description: `smallest utilization rise that counts for --until-plateau, as a fraction (default ${DEFAULT_PLATEAU_DELTA})` },
  'until-settled': { type: 'string', value: 'P', description: 'stop before --epochs once the training utilization has changed by less than --settle-delta, up or down, in each of P consecutive epochs (unlike --until-plateau, a falling run goes on)' },
  'settle-delta': { type: 'string', value: 'D', description: `change of the utilization fraction that counts as none for --until-settled (default ${DEFAULT_SETTLE_DELTA})` },
  'diagnose-every': { type: 'string', value: 'N', description: 'every N epochs, append code usage over the whole training set (utilization, perplexity, codes covering 50 %/90 % of latents) and, for SimVQ, the singular values of W to DIR/diagnostics.jsonl' },
  'clip-grad-norm': { type: 'string', value: 'C', description: 'scale gradients down to global norm C when larger (default: no clipping)' },
  quiet: { type: 'boolean', description: 'no progress bar or epoch lines on stderr' },
  ...limitOptions('maxPixels', 'maxAudioSamples', 'maxDataBytes', 'maxJsonBytes'),
};

const USAGE = 'vqlab train [options]';
const SUMMARY = 'Train a VQ-VAE and evaluate it on the test set. With no options: the reference MNIST model with SimVQ (K=1024) on the bundled 9,000/1,000 MNIST digits.';
const EXTRA = `After every epoch, appends to DIR/metrics.jsonl and commits a checkpoint (model.safetensors,
optimizer.safetensors, config.json, trainer-state.json, and checksums.json with the SHA-256 of each)
as one unit under DIR/checkpoints/, named in DIR/checkpoint.json; the checkpoint with the lowest test
mse is kept too (its folder is printed as "best"). Every command that takes DIR reads its last
checkpoint (--checkpoint best: its best), or any checkpoint folder given, and refuses one whose
files do not match their checksums; 'vqlab verify DIR' checks them all.
Then prints the test metrics as one JSON object on stdout.

quantizers (--quantizer NAME, each option with --quantizer-option KEY=VALUE; --codebook-size,
--dim and --beta set the options of those names; lists are written 8,5,5,5 or 8x5x5x5):
${describeQuantizers()}

speech (--data a folder of WAV/Ogg files or a named set; --model seanet): trains on random
--crop-samples crops of the training utterances with an L1 loss on the samples (--loss l1+mel:
0.1 × L1 + the multi-resolution log-mel loss, EnCodec's weights); evaluates whole
held-out utterances (SI-SNR, mel distance, STOI). The split is fixed: every 20th utterance in
sorted order (for fillets-*, every 20th level) is held out.

examples:
  vqlab train --data festvox-ru --model seanet --codebook-size 4096 --dim 64 --batch 8
  vqlab train --quantizer fsq --quantizer-option levels=8,5,5,5
  vqlab train --quantizer ema --quantizer-option decay=0.95 --quantizer-option initialCount=2
  vqlab train --quantizer residual --quantizer-option base=simvq --quantizer-option depth=4 --codebook-size 256
  vqlab train --quantizer vq --quantizer-option kmeansIters=10 --quantizer-option deadCodeThreshold=1

Ctrl-C (SIGINT) or SIGTERM lets the current step finish, saves a checkpoint of it and prints how to
resume; a second Ctrl-C quits at once. --resume continues exactly where a run stopped.

Reproducibility: the same options, seed and --threads give byte-identical weights and loss metrics,
and a stopped and resumed run gives the weights of one that never stopped (the tests check this at
--threads 1; at 2 threads VQ, EMA-VQ and SimVQ reruns were byte-identical too). Another --threads
sums in another order, so the last bits differ.`;

/**
 * A signal aborted by the first SIGINT or SIGTERM, so training stops after its current step with
 * a checkpoint; the handlers are removed then, so a second Ctrl-C ends the process at once.
 */
function stopOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const dispose = (): void => {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  };
  const stop = (signal: NodeJS.Signals): void => {
    dispose();
    process.stderr.write(`\n${signal}: stopping after this step and saving a checkpoint (press Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { signal: controller.signal, dispose };
}

function defaultOut(quantizer: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\dZ$/, '');
  return `runs/${stamp}-${quantizer}`;
}

/** The options of the quantizer's schema, without its kind. */
function optionsWithoutKind(config: QuantizerConfig): Record<string, unknown> {
  const { kind: _kind, ...options } = config;
  return options;
}

/**
 * The run's quantizer, made once from the flags: `--quantizer NAME[:key=value…]`, then each
 * `--quantizer-option`, with --codebook-size, --dim, --beta and --simvq-optimize as shorthands for
 * the options of those names. A resumed run starts from its checkpoint's options (when the
 * quantizer stays the same); a new one from the trainer's reference K and d, where the quantizer
 * has those options (FSQ's K is Π levels).
 */
function quantizerOf(values: Parameters<typeof stringOption>[0], saved: QuantizerConfig | undefined): QuantizerConfig {
  let kind = saved?.kind ?? d.quantizer;
  let assigned: Record<string, unknown> = {};
  try {
    const spec = stringOption(values, 'quantizer');
    if (spec !== undefined) {
      const parsed = parseQuantizerSpec(spec);
      kind = parsed.name;
      assigned = parsed.options;
    }
    const assignments = listOption(values, 'quantizer-option');
    if (assignments.length) {
      const base = assigned.base ?? (saved?.kind === 'residual' && kind === 'residual' ? saved.base : undefined);
      const withBase = typeof base === 'string' ? [`base=${base}`] : [];
      assigned = { ...assigned, ...parseQuantizerOptions(kind, [...withBase, ...assignments]) };
    }
  } catch (err) {
    throw new UsageError(`--quantizer: ${err instanceof Error ? err.message : String(err)}; see 'vqlab train --help'`);
  }
  const start: Record<string, unknown> = saved?.kind === kind ? optionsWithoutKind(saved) : { codebookSize: d.codebookSize, dim: d.dim };
  const accepted = optionsOf(kind, typeof (assigned.base ?? start.base) === 'string' ? String(assigned.base ?? start.base) : undefined);
  const shorthands: Record<string, unknown> = {};
  for (const [flag, key, value] of [
    ['codebook-size', 'codebookSize', intOption(values, 'codebook-size', 1)],
    ['dim', 'dim', intOption(values, 'dim', 1)],
    ['beta', 'beta', numberOption(values, 'beta')],
    ['simvq-optimize', 'optimize', choiceOption(values, 'simvq-optimize', SIMVQ_OPTIMIZE_MODES)],
  ] as const) {
    if (value === undefined) continue;
    if (!(key in accepted)) {
      throw new UsageError(`--${flag} does not apply to quantizer '${kind}' (it has no option '${key}'); its options: ${Object.keys(accepted).filter((k) => k !== 'search').join(', ')}`);
    }
    shorthands[key] = value;
  }
  const reference = Object.fromEntries(Object.entries(start).filter(([key]) => key in accepted));
  return resolveQuantizerConfig(kind, { ...reference, ...shorthands, ...assigned });
}

/**
 * The modality of a new run: its --model's, else the one whose data --data names (a speech set or
 * a folder of audio files), else the default (images).
 */
function modalityOfRunFlags(model: string | undefined, data: string | undefined): ModalityName | undefined {
  if (model !== undefined) {
    const owner = modalityOfModelKind(model);
    if (owner === undefined) throw new UsageError(`--model must be one of ${modalities.flatMap((m) => m.modelKinds).join(', ')}, got '${model}'`);
    return owner;
  }
  return data !== undefined ? modalities.find((m) => m.recognizesData(data))?.name : undefined;
}

/** A list of positive integers, `2,4,5,8` or `2x4x5x8`. */
function intList(values: Parameters<typeof stringOption>[0], name: string): number[] | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const parts = v.split(/[,x]/).map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1)) throw new UsageError(`--${name} must be a list of positive integers like 2,4,5,8, got '${v}'`);
  return parts.map(Number);
}

/** The SEANet overrides among the flags, or undefined when none is given. */
function seanetOverrides(values: Parameters<typeof stringOption>[0]): TrainOptions['seanet'] {
  const channels = intOption(values, 'channels', 1);
  const strides = intList(values, 'strides');
  const dilations = intList(values, 'dilations');
  if (channels === undefined && strides === undefined && dilations === undefined) return undefined;
  return { ...(channels !== undefined ? { channels } : {}), ...(strides !== undefined ? { strides } : {}), ...(dilations !== undefined ? { dilations } : {}) };
}

export const trainCommand: Command = {
  async run(argv, context) {
    const { values } = parseCommandArgs('train', argv, OPTIONS, { min: 0, max: 0, names: 'no arguments' });
    if (values.help) return writeStdout(helpText(USAGE, SUMMARY, OPTIONS, EXTRA));
    const resumeDir = stringOption(values, 'resume');
    const out = stringOption(values, 'out');
    if (resumeDir !== undefined && out !== undefined && resolve(out) !== resolve(resumeDir)) {
      throw new UsageError(`--out ${out} and --resume ${resumeDir} name different directories; a resumed run continues in its own directory, so drop --out`);
    }
    const limits = limitsFrom(values);
    const base = resumeDir !== undefined ? await resumeOptions(resumeDir, limits) : undefined;
    const runModality = modalityNamed(base?.modality ?? modalityOfRunFlags(stringOption(values, 'model'), stringOption(values, 'data')));
    const quantizer = quantizerOf(values, base?.quantizer);
    const pick = <T>(v: T | undefined, fallback: T): T => (v === undefined ? fallback : v);
    const limitOf = (name: string, fallback: number | undefined): number | undefined => intOption(values, name, 1) ?? fallback;
    const trainLimit = limitOf('train-limit', base?.trainLimit);
    const testLimit = limitOf('test-limit', base?.testLimit);
    const data = stringOption(values, 'data') ?? base?.data;
    const imageSize = intOption(values, 'image-size', 1);
    const dataProblem = runModality.requestProblem({ imageSize });
    if (dataProblem !== undefined) throw new UsageError(dataProblem);
    const warmup = intOption(values, 'warmup', 0);
    const minLr = numberOption(values, 'min-lr');
    const cosine = values.cosine === true;
    if (minLr !== undefined && !cosine) throw new UsageError(`--min-lr sets where --cosine ends; add --cosine, or drop --min-lr`);
    const lrSchedule = warmup !== undefined || cosine ? { warmupSteps: warmup ?? 0, cosine, minLr: minLr ?? 0 } : base?.lrSchedule;
    const clipGradNorm = numberOption(values, 'clip-grad-norm') ?? base?.clipGradNorm;
    const saveEvery = intOption(values, 'save-every', 1);
    const patience = intOption(values, 'until-plateau', 1);
    const plateauDelta = numberOption(values, 'plateau-delta');
    if (plateauDelta !== undefined && patience === undefined) throw new UsageError('--plateau-delta sets what --until-plateau counts as a rise; add --until-plateau, or drop --plateau-delta');
    const stopOnPlateau = patience !== undefined ? { patience, minDelta: plateauDelta ?? DEFAULT_PLATEAU_DELTA } : base?.stopOnPlateau;
    const settlePatience = intOption(values, 'until-settled', 1);
    const settleDelta = numberOption(values, 'settle-delta');
    if (settleDelta !== undefined && settlePatience === undefined) throw new UsageError('--settle-delta sets what --until-settled counts as no change; add --until-settled, or drop --settle-delta');
    const stopOnSettle = settlePatience !== undefined ? { patience: settlePatience, delta: settleDelta ?? DEFAULT_SETTLE_DELTA } : base?.stopOnSettle;
    const presetName = choiceOption(values, 'optimizer-preset', OPTIMIZER_PRESET_NAMES);
    const preset = presetName === undefined ? undefined : OPTIMIZER_PRESETS[presetName];
    const adamBetas = betasOption(values) ?? preset?.adamBetas ?? base?.adamBetas;
    const quiet = values.quiet === true;
    const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const options: TrainOptions = {
      quantizer,
      lr: pick(numberOption(values, 'lr'), preset?.lr ?? base?.lr ?? d.lr),
      batch: pick(intOption(values, 'batch', 1), base?.batch ?? d.batch),
      epochs: pick(intOption(values, 'epochs', 1), base?.epochs ?? d.epochs),
      seed: pick(intOption(values, 'seed', 0), base?.seed ?? d.seed),
      threads: pick(intOption(values, 'threads', 0), base?.threads ?? d.threads),
      out: resumeDir ?? out ?? defaultOut(quantizer.kind),
      resume: resumeDir !== undefined,
      modality: runModality.name,
      model: choiceOption(values, 'model', runModality.modelKinds) ?? base?.model ?? runModality.defaultModel,
      loss: choiceOption(values, 'loss', Object.keys(runModality.losses)) ?? base?.loss,
      sampleRate: intOption(values, 'sample-rate', 1),
      cropSamples: intOption(values, 'crop-samples', 1),
      seanet: seanetOverrides(values),
      progress: !quiet,
      data,
      trainLimit,
      testLimit,
      imageSize,
      lrSchedule,
      clipGradNorm,
      adamBetas,
      stopOnPlateau,
      stopOnSettle,
      diagnoseEvery: intOption(values, 'diagnose-every', 1),
      saveEvery,
      force: values.force === true,
      limits,
    };
    await useDeviceOption(values);
    const stop = stopOnSignals();
    let summary;
    try {
      summary = await trainModel(options, { log, stopSignal: stop.signal, writeHook: context?.writeHook ?? NO_WRITE_FAULTS });
    } catch (err) {
      if (!(err instanceof TrainingStoppedError)) throw err;
      process.stderr.write(`vqlab: ${err.message}\n`);
      process.exitCode = 130;
      return;
    } finally {
      stop.dispose();
    }
    const { metrics, preview } = await evaluateCheckpoint(summary.out, { threads: options.threads, limits });
    if (!quiet) process.stderr.write(`test set: ${toJson(metrics)}; reconstructions in ${preview}\n`);
    await writeStdout(`${toJson({ out: summary.out, epochs: summary.completedEpochs, steps: summary.steps, train_seconds: summary.seconds, best: summary.best, ...metrics })}\n`);
  },
};

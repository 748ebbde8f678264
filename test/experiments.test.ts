import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { parseExperimentArgs, reportCommand } from '../src/cli/experiment.js';
import type { Backend, TrainRequest } from '../src/experiments/backend.js';
import type { EpochRecord } from '../src/train/metrics-log.js';
import { presetSettings, resolveSettings } from '../src/experiments/presets.js';
import { experimentDefinition } from '../src/experiments/registry.js';
import { plannedRuns } from '../src/experiments/definition.js';
import { runState } from '../src/experiments/runner.js';
import { betaOf, codebookSizeOf, gridPointOf, simvqOptimizeOf } from '../src/experiments/run-quantizer.js';
import { readTrainerState } from '../src/persistence/checkpoint.js';
import { checkResults, describeRunThreads, readResults } from '../src/experiments/results.js';
import { markdownSummary } from '../src/experiments/markdown-summary.js';
import { metricsOf } from '../src/experiments/summary.js';
import { diagnosticsSummary } from '../src/experiments/diagnostics-summary.js';
import { runExperiment } from '../src/experiments/run-experiment.js';
import { summarize } from '../src/experiments/stats.js';
import { codesCoveringRuns, sortedRuns } from '../src/experiments/count-runs.js';
import { Rng } from '../src/init/rng.js';
import { CodeUsage } from '../src/quantizers/usage.js';
import type { ExperimentKind, RunResult, RunSpec } from '../src/experiments/types.js';

function assertSvg(svg: string, where: string): void {
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `${where} is not well-formed XML: ${JSON.stringify(valid)}`);
  assert.ok(svg.startsWith('<svg'), `${where} starts with <svg>`);
}

/** Files an experiment must leave behind, checked for existence and parseability. */
function checkOutputs(dir: string, expectedRuns: number): void {
  const results = checkResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), 'results.json');
  assert.equal(results.runs.length, expectedRuns);
  const csv = readFileSync(join(dir, 'results.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv.length, expectedRuns + 1, 'CSV: header plus one row per run');
  const cols = csv[0]!.split(',').length;
  for (const row of csv.slice(1)) assert.equal(row.split(',').length, cols, `CSV row has ${cols} cells: ${row}`);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  const figures = readdirSync(join(dir, 'figures')).filter((f) => f.endsWith('.svg'));
  assert.ok(figures.length >= 3, `summary figures written, got ${figures.join(', ')}`);
  for (const f of [...figures, ...readdirSync(join(dir, 'figures', 'runs'))]) assert.match(f, /^[A-Za-z0-9._-]+$/, 'a file name valid on every file system');
  for (const f of figures) {
    const svg = readFileSync(join(dir, 'figures', f), 'utf8').trim();
    assertSvg(svg, f);
    assert.ok(html.includes(svg), `report.html inlines ${f}`);
  }
  const runFigures = readdirSync(join(dir, 'figures', 'runs'));
  assert.equal(runFigures.length, 2 * expectedRuns, 'a loss-curve and a usage SVG per run');
  for (const f of runFigures) assertSvg(readFileSync(join(dir, 'figures', 'runs', f), 'utf8').trim(), f);
  // Self-contained: no external references, reconstruction grids as data URIs.
  assert.ok(!/(src|href)="(?!data:)/.test(html), 'report.html references no external files');
  for (const r of results.runs) if (r.recon) assert.ok(html.includes('data:image/png;base64,'), 'recon grids are inlined');
}

// A deterministic stand-in for training: writes a metrics.jsonl and a tiny PNG, and reports counts
// that collapse with K for VQ but not for SimVQ. It lets the pipeline be tested in milliseconds.
const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgAB4iG8MwAAAABJRU5ErkJggg==', 'base64');

function fakeBackend(trained: TrainRequest[]): Backend {
  return {
    async train(req) {
      trained.push(req);
      for (let e = 1; e <= req.spec.epochs; e++) {
        const record: EpochRecord = {
          epoch: e, step: 10 * e, loss: { reconstruction: 0.1 / e, codebook: 0.01 / e, commitment: 0.01 / e, quantizer: 0.0125 / e, total: 0.1125 / e },
          utilization: 0.5, perplexity: 4, dead_codes: 2, img_per_s: 100, epoch_seconds: 1.5, wall_seconds: 1.5 * e, lr: 1e-3, test: null,
        };
        appendFileSync(join(req.dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
      }
    },
    async evaluate(req) {
      const k = codebookSizeOf(req.spec.quantizer);
      const used = req.spec.quantizer.kind === 'simvq' ? k : Math.min(k, 20 + req.spec.seed);
      const counts = new Float64Array(k);
      for (let i = 0; i < used; i++) counts[i] = 1 + (i % 5);
      writeFileSync(req.grid, PNG_1x1);
      return { metrics: { utilization: used / k, perplexity: used / 2, dead_codes: k - used, mse: 0.01 + req.spec.seed / 1000, psnr: 20 - req.spec.seed, ssim: 0.9 }, counts };
    },
    async trainSetUsage(req) {
      const k = codebookSizeOf(req.spec.quantizer);
      const used = req.spec.quantizer.kind === 'simvq' ? k : Math.min(k, 30 + req.spec.seed);
      return { latents: 49 * 1000, utilization: used / k, used_codes: used, perplexity: used / 2 };
    },
  };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'vqlab-exp-'));
}

test('the CLI --quick flag resolves to exactly the quick preset', () => {
  for (const kind of ['codebook-size', 'optimization', 'beta'] as ExperimentKind[]) {
    const parsed = parseExperimentArgs([kind, '--quick']);
    assert.deepEqual(parsed.settings, presetSettings(kind, 'quick'));
    assert.equal(parsed.out, `experiments/${kind}-quick`);
  }
  const q = presetSettings('codebook-size', 'quick');
  assert.deepEqual(q.sizes, [64, 1024]);
  assert.deepEqual(q.quantizers, ['vq', 'ema', 'simvq']);
  assert.deepEqual(q.seeds, [0]);
  assert.equal(q.epochs, 1);
  assert.equal(q.trainLimit, 2000);
  assert.equal(q.testLimit, 500);
  const full = parseExperimentArgs(['codebook-size']).settings;
  assert.deepEqual(full.sizes, [256, 1024, 4096, 16384, 65536]);
  assert.deepEqual(full.seeds, [0, 1, 2]);
  assert.equal(experimentDefinition('codebook-size').plan(full).length, 45);
  assert.deepEqual(parseExperimentArgs(['beta']).settings.quantizers, ['vq', 'simvq']);
  assert.deepEqual(parseExperimentArgs(['beta']).settings.betas, [0.1, 0.25, 0.5, 1, 2]);
  assert.equal(parseExperimentArgs(['optimization']).settings.size, 1024);
});

test('CLI options override the preset and bad values are rejected', () => {
  const p = parseExperimentArgs(['codebook-size', '--quick', '--sizes', '256,1024', '--seeds', '0,1', '--quantizers', 'vq,simvq', '--epochs', '2', '--beta', '0.5', '--threads', '1', '--train-limit', '300', '--out', 'x']);
  assert.deepEqual(p.settings.sizes, [256, 1024]);
  assert.deepEqual(p.settings.seeds, [0, 1]);
  assert.deepEqual(p.settings.quantizers, ['vq', 'simvq']);
  assert.equal(p.settings.epochs, 2);
  assert.equal(p.settings.beta, 0.5);
  assert.equal(p.settings.threads, 1);
  assert.equal(p.settings.trainLimit, 300);
  assert.equal(p.settings.testLimit, 500, 'not overridden: stays at the preset');
  assert.equal(p.out, 'x');
  assert.throws(() => parseExperimentArgs(['codebook-size', '--sizes', '256,abc']), /'abc' is not a number/);
  assert.throws(() => parseExperimentArgs(['codebook-size', '--quantizers', 'vq,foo']), /unknown quantizer 'foo'; valid names: vq, ema, simvq, fsq, lfq, residual/);
  assert.throws(() => parseExperimentArgs(['codebook-size', '--quantizers', 'ema:decai=0.9']), /ema: unknown option 'decai'; valid options: .*decay/);
  const specs = parseExperimentArgs(['codebook-size', '--quick', '--quantizers', 'vq,ema:decay=0.95,lfq,residual:base=simvq:depth=2']).settings;
  assert.deepEqual(specs.quantizers, ['vq', 'ema:decay=0.95', 'lfq', 'residual:base=simvq:depth=2']);
  const planned = experimentDefinition('codebook-size').plan(specs);
  // Each run carries its quantizer resolved once, every option filled in, K, β and d among them.
  assert.deepEqual(planned.slice(0, 4).map((r) => [r.id, r.quantizer.kind, codebookSizeOf(r.quantizer), r.quantizer.dim, betaOf(r.quantizer), r.nominal]), [
    ['vq-K64-s0', 'vq', 64, 64, 0.25, undefined],
    ['ema-decay-0.95-K64-s0', 'ema', 64, 64, 0.25, undefined],
    ['lfq-K64-s0', 'lfq', 64, 64, 0.25, undefined],
    ['residual-base-simvq-depth-2-K64-s0', 'residual', 64, 64, 0.25, undefined],
  ]);
  assert.equal(planned[1]!.quantizer.kind === 'ema' && planned[1]!.quantizer.decay, 0.95);
  const residual = planned[3]!.quantizer;
  assert.deepEqual(residual.kind === 'residual' && [residual.base, residual.depth, residual['optimize']], ['simvq', 2, 'W']);
  assert.throws(() => experimentDefinition('codebook-size').plan({ ...specs, quantizers: ['lfq'], sizes: [100] }), /LFQ: codebookSize must be a power of two/, 'a quantizer is validated when the run is planned');
  const fsq = parseExperimentArgs(['codebook-size', '--quick', '--quantizers', 'fsq:levels=8x5x5x5']).settings;
  assert.throws(() => experimentDefinition('codebook-size').plan(fsq), /quantizer 'fsq:levels=8x5x5x5' has no option 'codebookSize', which this experiment varies/);
  // FSQ without levels stands in at the paper's levels for about K codes, where the paper gives some.
  const fsqAtK = parseExperimentArgs(['codebook-size', '--sizes', '1024,65536', '--quantizers', 'fsq', '--seeds', '0']).settings;
  // Its own K is Π levels and it has no β: the run records the grid point it stands at.
  assert.deepEqual(experimentDefinition('codebook-size').plan(fsqAtK).map((r) => [r.id, r.quantizer, r.nominal]), [
    ['fsq-K1024-s0', { kind: 'fsq', dim: 64, levels: [8, 5, 5, 5], preNorm: 'none' }, { codebookSize: 1024, beta: 0.25 }],
    ['fsq-K65536-s0', { kind: 'fsq', dim: 64, levels: [8, 8, 8, 5, 5, 5], preNorm: 'none' }, { codebookSize: 65536, beta: 0.25 }],
  ]);
  assert.throws(() => experimentDefinition('codebook-size').plan({ ...fsqAtK, sizes: [64] }), /recommended levels only for K = 256, 1024, 4096, 16384, 65536, not 64/);
  // The paper's optimizer brings its lr unless --lr is given; naming the reference one changes nothing.
  const paper = parseExperimentArgs(['codebook-size', '--optimizer-preset', 'simvq-paper', '--warmup', '100', '--cosine']).settings;
  assert.deepEqual([paper.optimizer, paper.lr, paper.warmupSteps, paper.cosine], ['simvq-paper', 1e-4, 100, true]);
  assert.equal(parseExperimentArgs(['codebook-size', '--optimizer-preset', 'simvq-paper', '--lr', '2e-4']).settings.lr, 2e-4);
  assert.deepEqual(parseExperimentArgs(['codebook-size', '--optimizer-preset', 'reference', '--warmup', '0']).settings, parseExperimentArgs(['codebook-size']).settings);
  const [paperRun] = experimentDefinition('codebook-size').plan(paper);
  assert.deepEqual([paperRun!.optimizer, paperRun!.lr, paperRun!.warmupSteps, paperRun!.cosine], ['simvq-paper', 1e-4, 100, true], 'part of every run spec');
  const long = parseExperimentArgs(['codebook-size', '--until-plateau', '3', '--plateau-delta', '0.01', '--epochs', '60']).settings;
  assert.deepEqual(experimentDefinition('codebook-size').plan(long).map((r) => [r.plateauPatience, r.plateauDelta, r.epochs])[0], [3, 0.01, 60]);
  assert.throws(() => parseExperimentArgs(['codebook-size', '--plateau-delta', '0.01']), /--plateau-delta sets what --until-plateau counts as a rise/);
  const settled = parseExperimentArgs(['codebook-size', '--until-settled', '4', '--settle-delta', '0.002', '--diagnose-every', '5', '--epochs', '60']).settings;
  assert.deepEqual(experimentDefinition('codebook-size').plan(settled).map((r) => [r.settlePatience, r.settleDelta, r.epochs])[0], [4, 0.002, 60]);
  assert.equal(settled.diagnoseEvery, 5);
  assert.ok(!('diagnoseEvery' in experimentDefinition('codebook-size').plan(settled)[0]!), 'diagnosing changes no weight, so it is not part of a run\'s spec');
  assert.throws(() => parseExperimentArgs(['codebook-size', '--settle-delta', '0.01']), /--settle-delta sets what --until-settled counts as no change/);
  assert.throws(() => parseExperimentArgs(['codebook-size', '--until-settled', '2', '--settle-delta', '0']), /settle delta must be a utilization fraction in \(0, 1\), got 0/);
  assert.throws(() => parseExperimentArgs(['codebook-size', '--optimizer-preset', 'sgd']), /--optimizer-preset must be one of reference, simvq-paper/);
  assert.throws(() => parseExperimentArgs(['nope']), /unknown experiment/);
  assert.throws(() => parseExperimentArgs(['beta', '--epochs', '0']), /epochs/);
  assert.throws(() => parseExperimentArgs(['beta', '--bogus']), /unknown option '--bogus'/);
  assert.throws(() => parseExperimentArgs(['beta', '--sizes', '0']), /codebook size must be an integer >= 1/);
});

test('replicates only where asked: seeds after the first at the given sizes and variants', () => {
  const p = parseExperimentArgs(['codebook-size', '--sizes', '1024,4096,65536', '--quantizers', 'simvq,vq,ema', '--seeds', '0,1,2', '--replicate-sizes', '1024,65536', '--replicate-variants', 'simvq,vq']);
  const ids = plannedRuns(experimentDefinition('codebook-size'), p.settings).map((r) => r.id);
  assert.equal(ids.length, 9 + 2 * 2 * 2);
  for (const id of ids.filter((i) => !i.endsWith('-s0'))) assert.match(id, /^(simvq|vq)-K(1024|65536)-s[12]$/);
  assert.ok(ids.includes('ema-K4096-s0') && ids.includes('vq-K65536-s2') && !ids.includes('ema-K1024-s1') && !ids.includes('vq-K4096-s1'));
  assert.throws(() => parseExperimentArgs(['codebook-size', '--sizes', '1024', '--replicate-sizes', '4096']), /--replicate-sizes: 4096 is not one of the codebook sizes 1024/);
});

test('--collect writes results and a report from the completed runs only, training nothing', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16, 32], quantizers: ['vq:init=normal', 'simvq'] });
    await runExperiment({ kind: 'codebook-size', settings: { ...settings, sizes: [16] }, out: dir, backend: fakeBackend([]) });
    const trained: TrainRequest[] = [];
    const lines: string[] = [];
    const { results } = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(trained), collectOnly: true, log: (l) => lines.push(l) });
    assert.equal(trained.length, 0);
    assert.deepEqual(results.runs.map((r) => r.spec.id), ['vq-init-normal-K16-s0', 'simvq-K16-s0']);
    assert.equal(results.finishedAt, null, 'not finished while runs are missing');
    assert.ok(lines.some((l) => l.includes('2 of 4 runs not completed yet: vq-init-normal-K32-s0, simvq-K32-s0')), lines.join('\n'));
    assert.deepEqual(readResults(dir).runs.length, 2);
    checkOutputs(dir, 2);
    // What --plan shows of each run: done, begun (a run directory with files), or not begun.
    mkdirSync(join(dir, 'runs', 'simvq-K32-s0'));
    writeFileSync(join(dir, 'runs', 'simvq-K32-s0', 'spec.json'), '{}');
    const plan = plannedRuns(experimentDefinition('codebook-size'), settings);
    assert.deepEqual(plan.map((r) => [r.id, runState(dir, r)]), [
      ['vq-init-normal-K16-s0', 'completed'], ['simvq-K16-s0', 'completed'], ['vq-init-normal-K32-s0', 'not started'], ['simvq-K32-s0', 'interrupted'],
    ]);
    assert.throws(() => runState(dir, { ...plan[0]!, epochs: 7 }), /was produced with different settings/);
    // A complete view finished when its last run completed: collecting it again changes no byte.
    const complete = { ...settings, sizes: [16] };
    const first = await runExperiment({ kind: 'codebook-size', settings: complete, out: dir, backend: fakeBackend([]), collectOnly: true });
    assert.equal(first.results.finishedAt, first.results.runs.map((r) => r.completedAt).sort().at(-1));
    const bytes = readFileSync(join(dir, 'results.json'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await runExperiment({ kind: 'codebook-size', settings: complete, out: dir, backend: fakeBackend([]), collectOnly: true });
    assert.ok(readFileSync(join(dir, 'results.json')).equals(bytes), 'results.json changed on a second collect');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run\'s training-set diagnostics (--diagnose-every) reach results.json and `vqlab report --diagnostics`, one row per epoch', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq', 'simvq'] });
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]) });
    assert.ok(readResults(dir).runs.every((r) => r.diagnostics === undefined), 'no diagnostics taken, none reported');
    await assert.rejects(reportCommand.run([dir, '--diagnostics']), /no run in .*results\.json took diagnostics; train with --diagnose-every N/);
    // What the trainer appends after epochs 1 and 2; epoch 2 diagnosed again after a resume (the
    // later line wins), and a line torn by a stop mid-append.
    const record = (epoch: number, utilization: number, sigma?: number[]): string => `${JSON.stringify({
      epoch, step: 10 * epoch, split: 'train', latents: 49000, utilization, used_codes: Math.round(16 * utilization), perplexity: 9.5, effective_bits: Math.log2(9.5),
      codes_covering_50: 4, codes_covering_90: 12, mse: 0.0123, ...(sigma ? { singular_values: sigma } : {}),
    })}\n`;
    writeFileSync(join(dir, 'runs', 'simvq-K16-s0', 'diagnostics.jsonl'),
      record(1, 0.5, [4, 2, 0.05, 0.01]) + record(2, 0.6, [4, 2, 1, 0.5]) + record(2, 0.75, [4, 3, 1, 0.5]) + '{"epoch":3,"ste');
    const { results } = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]), collectOnly: true });
    const simvq = results.runs.find((r) => r.spec.id === 'simvq-K16-s0')!;
    assert.deepEqual(simvq.diagnostics!.map((d) => [d.epoch, d.utilization, d.singular_values]), [[1, 0.5, [4, 2, 0.05, 0.01]], [2, 0.75, [4, 3, 1, 0.5]]]);
    assert.equal(results.runs.find((r) => r.spec.id === 'vq-K16-s0')!.diagnostics, undefined);
    assert.deepEqual(readResults(dir).runs.find((r) => r.spec.id === 'simvq-K16-s0')!.diagnostics, simvq.diagnostics, 'written to results.json');
    const md = diagnosticsSummary(readResults(dir)).trimEnd().split('\n');
    assert.equal(md[0], 'simvq-K16-s0, over the training set (49,000 latents):');
    assert.equal(md[2], "| epoch | step | utilization | codes used | perplexity | effective bits | codes for 50 % | codes for 90 % | MSE | W's σ, largest … smallest | σ ≥ 1 % of largest |");
    assert.equal(md[4], '| 1 | 10 | 50.00 % | 8 | 9.5 | 3.25 | 4 | 12 | 0.01230 | 4.00 … 0.0100 | 3 of 4 |');
    assert.equal(md[5], '| 2 | 20 | 75.00 % | 12 | 9.5 | 3.25 | 4 | 12 | 0.01230 | 4.00 … 0.500 | 4 of 4 |');
    assert.equal(md.length, 6);
    await assert.rejects(reportCommand.run([dir, '--diagnostics', '--markdown']), /--diagnostics prints its own tables; drop --markdown/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a codebook-size view at one K draws every quantizer on one per-epoch chart', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq', 'simvq'] });
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]) });
    checkOutputs(dir, 2);
    const figures = readdirSync(join(dir, 'figures'));
    for (const name of ['train-utilization.svg', 'train-recon-loss.svg']) {
      const svg = readFileSync(join(dir, 'figures', name), 'utf8');
      for (const q of ['vq', 'simvq']) assert.ok(svg.includes(`>${q}<`), `${name}: the legend names ${q}`);
    }
    for (const q of ['vq', 'simvq']) assert.ok(!figures.includes(`train-utilization-${q}.svg`), `one chart instead of one per quantizer: ${figures.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the report names the thread counts the runs trained with, unrecorded ones included', () => {
  const withThreads = (threads?: number): RunResult => ({ timing: { train_seconds: 1, eval_seconds: 1, images_per_second: 1, threads } }) as RunResult;
  assert.equal(describeRunThreads([withThreads(2), withThreads(2)]), '2');
  assert.equal(describeRunThreads([withThreads(2), withThreads(1), withThreads(2)]), '1 or 2');
  assert.equal(describeRunThreads([withThreads(1), withThreads(), withThreads(2)]), '1, 2 or unrecorded');
  assert.equal(describeRunThreads([withThreads()]), 'unrecorded');
});

test('mean ± std uses the sample standard deviation', () => {
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std! - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(summarize([7]), { n: 1, mean: 7, std: null });
  assert.deepEqual(summarize([null, Number.NaN]), { n: 0, mean: null, std: null });
});

test('each experiment writes results.json, results.csv, valid SVG figures and a self-contained report', async () => {
  for (const kind of ['codebook-size', 'optimization', 'beta'] as ExperimentKind[]) {
    const dir = tmp();
    try {
      const settings = resolveSettings(kind, 'quick', { seeds: [0, 1], sizes: [16, 64], size: 32 });
      const trained: TrainRequest[] = [];
      const { results } = await runExperiment({ kind, settings, out: dir, backend: fakeBackend(trained) });
      const expected = experimentDefinition(kind).plan(settings).length;
      assert.equal(trained.length, expected);
      checkOutputs(dir, expected);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      assert.match(html, /± /, 'two seeds give mean ± std in the summary');
      if (kind === 'codebook-size') {
        assert.ok(existsSync(join(dir, 'figures', 'utilization-vs-k.svg')));
        assert.ok(existsSync(join(dir, 'figures', 'psnr-vs-k.svg')));
        const vq64 = results.runs.find((r) => r.spec.id === 'vq-K64-s0')!;
        assert.deepEqual(vq64.usage, [[5, 4], [4, 4], [3, 4], [2, 4], [1, 4], [0, 44]], 'sorted, run-length encoded usage');
        assert.equal(vq64.recon, 'runs/vq-K64-s0/recon.png');
        assert.equal(vq64.timing.train_seconds, 1.5, 'training time comes from metrics.jsonl');
        assert.equal(vq64.curves.length, 1);
        const perEpoch = readFileSync(join(dir, 'figures', 'train-utilization-simvq.svg'), 'utf8');
        for (const k of [16, 64]) assert.ok(perEpoch.includes(`>K = ${k}<`), `the per-epoch legend names K = ${k}`);
      }
      if (kind === 'beta') {
        const perEpoch = readFileSync(join(dir, 'figures', 'train-utilization-simvq.svg'), 'utf8');
        for (const b of settings.betas) assert.ok(perEpoch.includes(`>β = ${b}<`), `the per-epoch legend names β = ${b}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('runs are resumable: completed runs are reused, interrupted ones resumed, other settings refused', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq', 'simvq'], seeds: [0, 1] });
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]) });
    const again: TrainRequest[] = [];
    const second = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(again) });
    assert.equal(again.length, 0, 'nothing retrained');
    assert.equal(second.reused, 4);
    // Simulate an interruption after training: the completion marker is missing.
    unlinkSync(join(dir, 'runs', 'simvq-K16-s1', 'result.json'));
    const resumed: TrainRequest[] = [];
    const third = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(resumed) });
    assert.deepEqual(resumed.map((r) => [r.spec.id, r.resume]), [['simvq-K16-s1', true]]);
    assert.equal(third.reused, 3);
    checkOutputs(dir, 4);
    // A result from before training-set usage was measured gets it added, without retraining.
    const marker = join(dir, 'runs', 'vq-K16-s0', 'result.json');
    const { train_set: trainSet, ...older } = (JSON.parse(readFileSync(marker, 'utf8')) as RunResult).metrics;
    assert.deepEqual(trainSet, { latents: 49000, utilization: 16 / 16, used_codes: 16, perplexity: 8 });
    writeFileSync(marker, JSON.stringify({ ...JSON.parse(readFileSync(marker, 'utf8')), metrics: older }));
    const backfilled: TrainRequest[] = [];
    const fourth = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(backfilled) });
    assert.equal(backfilled.length, 0, 'nothing retrained');
    assert.deepEqual(fourth.results.runs.find((r) => r.spec.id === 'vq-K16-s0')!.metrics.train_set, trainSet);
    assert.deepEqual((JSON.parse(readFileSync(marker, 'utf8')) as RunResult).metrics.train_set, trainSet, 'result.json rewritten');
    // Same directory, different epochs: refuse rather than mix results.
    const other = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq', 'simvq'], seeds: [0, 1], epochs: 2 });
    await assert.rejects(runExperiment({ kind: 'codebook-size', settings: other, out: dir, backend: fakeBackend([]) }), /different settings/);
    await assert.rejects(runExperiment({ kind: 'beta', settings, out: dir, backend: fakeBackend([]) }), /holds a 'codebook-size' experiment/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run another process is training is refused, not trained twice', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq'], seeds: [0] });
    const run = join(dir, 'runs', 'vq-K16-s0');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, '.lock'), `${process.pid}\n`); // a live owner: this test's own process
    const trained: TrainRequest[] = [];
    await assert.rejects(runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(trained) }), /vq-K16-s0: process \d+ is already working in/);
    assert.equal(trained.length, 0);
    unlinkSync(join(run, '.lock'));
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend(trained) });
    assert.equal(trained.length, 1);
    assert.ok(!existsSync(join(run, '.lock')), 'released after the run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`vqlab report DIR` rebuilds the figures and report from results.json', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('optimization', 'quick', { size: 16 });
    await runExperiment({ kind: 'optimization', settings, out: dir, backend: fakeBackend([]) });
    const before = readFileSync(join(dir, 'report.html'), 'utf8');
    rmSync(join(dir, 'figures'), { recursive: true });
    unlinkSync(join(dir, 'report.html'));
    await reportCommand.run([dir]);
    assert.equal(readFileSync(join(dir, 'report.html'), 'utf8'), before);
    checkOutputs(dir, 4);
    await assert.rejects(reportCommand.run([join(dir, 'missing')]), /cannot read .*results\.json.*run an experiment into this directory first/);
    await assert.rejects(reportCommand.run([]), /needs one experiment directory/);
    // The Markdown summary quoted in EXPERIMENTS.md: a header, a separator and one row per variant.
    const md = markdownSummary(readResults(dir), experimentDefinition('optimization')).trimEnd().split('\n');
    assert.equal(md.length, 2 + 4);
    assert.match(md[0]!, /^\| variant \| K \| seeds \| test utilization \(%\) \| test used codes \| train-set utilization \(%\) \|/);
    assert.match(md[2]!, /^\| vq \| 16 \| 1 \| /);
    // Chosen columns, in the order given; rows grouped by variant.
    const chosen = markdownSummary(readResults(dir), experimentDefinition('optimization'), ['psnr', 'utilization'], true).trimEnd().split('\n');
    assert.equal(chosen[0], '| variant | K | seeds | PSNR (dB) | test utilization (%) |');
    assert.match(chosen[2]!, /^\| vq \| 16 \| 1 \| 20\.00 \| /);
    // How long each run trained: the last epoch in its training log.
    const epochs = markdownSummary(readResults(dir), experimentDefinition('optimization'), ['epochs']).trimEnd().split('\n');
    assert.equal(epochs[0], '| variant | K | seeds | epochs trained |');
    assert.match(epochs[2]!, /^\| vq \| 16 \| 1 \| 1 \|$/);
    await assert.rejects(reportCommand.run([dir, '--markdown', '--metrics', 'psnr,speed']), /--metrics: unknown metric 'speed'; choose from codes, utilization, usedCodes/);
    await assert.rejects(reportCommand.run([dir, '--metrics', 'psnr']), /--metrics chooses the columns of the --markdown table; add --markdown/);
    // --markdown only prints: no figure or report is rewritten.
    rmSync(join(dir, 'figures'), { recursive: true });
    unlinkSync(join(dir, 'report.html'));
    await reportCommand.run([dir, '--markdown']);
    assert.ok(!existsSync(join(dir, 'figures')) && !existsSync(join(dir, 'report.html')), '--markdown wrote files');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`vqlab report DIR` renders a results.json written with the older camelCase metric keys the same', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16, 32], seeds: [0] });
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]) });
    const current = readFileSync(join(dir, 'results.json'), 'utf8');
    const camelCase = { dead_codes: 'deadCodes', train_set: 'trainSet', used_codes: 'usedCodes', train_seconds: 'trainSeconds', eval_seconds: 'evalSeconds', images_per_second: 'imagesPerSecond' };
    for (const [snake, camel] of Object.entries(camelCase)) {
      assert.ok(current.includes(`"${snake}"`) && !current.includes(`"${camel}"`), `results.json names ${snake} in snake_case`);
    }
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    const table = markdownSummary(readResults(dir), experimentDefinition('codebook-size'), ['deadCodes', 'trainUsedCodes', 'trainSeconds']);
    // The same results as vqlab wrote them before the keys of metrics and timing were snake_case
    // (the epoch curves, copied from metrics.jsonl, always were).
    const renamed = (o: object): object => Object.fromEntries(Object.entries(o).map(([k, v]) => [camelCase[k as keyof typeof camelCase] ?? k, v]));
    const results = JSON.parse(current) as { runs: { metrics: { train_set: object }; timing: object }[] };
    const runs = results.runs.map((r) => ({ ...r, metrics: renamed({ ...r.metrics, train_set: renamed(r.metrics.train_set) }), timing: renamed(r.timing) }));
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...results, runs }, null, 1));
    rmSync(join(dir, 'figures'), { recursive: true });
    unlinkSync(join(dir, 'report.html'));
    await reportCommand.run([dir]);
    assert.equal(readFileSync(join(dir, 'report.html'), 'utf8'), report);
    assert.equal(markdownSummary(readResults(dir), experimentDefinition('codebook-size'), ['deadCodes', 'trainUsedCodes', 'trainSeconds']), table);
    assert.deepEqual(readResults(dir), JSON.parse(current));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the coverage counts of a results file are the ones its sorted usage gives', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    // Heavy-tailed counts with many ties and dead codes, as a skewed codebook gives.
    const counts = Array.from({ length: 300 }, () => Math.floor(Math.exp(6 * rng.uniform()) - 1));
    const usage = new CodeUsage(counts.length).add(counts);
    for (let q = 1; q <= 100; q++) assert.equal(codesCoveringRuns(sortedRuns(counts), q), usage.codesCovering(q), `trial ${trial}, ${q} %`);
  }
  assert.equal(codesCoveringRuns([], 50), 0);
  assert.equal(codesCoveringRuns([[0, 5]], 90), 0);
  assert.throws(() => codesCoveringRuns([[1, 1]], 101), /percent must be an integer in \[1, 100\]/);
});

test('results without the spread metrics report them where the file allows: test set from its counts, training set as missing', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16, 32], seeds: [0] });
    await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: fakeBackend([]) });
    const keys = ['effectiveBits', 'codes50', 'codes90', 'trainPerplexity', 'trainEffectiveBits', 'trainCodes50', 'trainCodes90'];
    const def = experimentDefinition('codebook-size');
    const older = markdownSummary(readResults(dir), def, keys).trimEnd().split('\n');
    // The fake backend records none of the new keys: test-set ones come from the usage counts, the
    // training set's coverage is unknown.
    const run = readResults(dir).runs[0]!;
    const counts = run.usage.flatMap(([count, repeat]) => Array<number>(repeat).fill(count));
    const usage = new CodeUsage(counts.length).add(counts);
    const row = older[2]!.split(' | ');
    assert.equal(row[3], Math.log2(run.metrics.perplexity).toFixed(2));
    assert.deepEqual(row.slice(4, 6), [String(usage.codesCovering(50)), String(usage.codesCovering(90))]);
    assert.equal(row[6], run.metrics.train_set!.perplexity.toFixed(1));
    assert.deepEqual(row.slice(8, 10), ['–', '– |'], 'no training-set counts, no coverage');
    const csv = readFileSync(join(dir, 'results.csv'), 'utf8').split('\n');
    assert.match(csv[0]!, /,threads,effective_bits,codes_covering_50,codes_covering_90,train_set_effective_bits,train_set_codes_covering_50,train_set_codes_covering_90$/);
    assert.match(csv[1]!, new RegExp(`,${usage.codesCovering(50)},${usage.codesCovering(90)},[0-9.]+,,$`));
    // Recorded values take precedence (here equal to the recomputed test ones).
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { runs: RunResult[] };
    const recorded = results.runs.map((r) => ({ ...r, metrics: { ...r.metrics, codes_covering_50: testCoverage(r, 50), codes_covering_90: testCoverage(r, 90), train_set: { ...r.metrics.train_set!, codes_covering_50: 3, codes_covering_90: 9 } } }));
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...results, runs: recorded }));
    const now = markdownSummary(readResults(dir), def, keys).trimEnd().split('\n');
    assert.deepEqual(now[2]!.split(' | ').slice(0, 8), row.slice(0, 8));
    assert.deepEqual(now[2]!.split(' | ').slice(8), ['3', '9 |']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function testCoverage(r: RunResult, percent: number): number {
  const counts = r.usage.flatMap(([count, repeat]) => Array<number>(repeat).fill(count));
  return new CodeUsage(counts.length).add(counts).codesCovering(percent);
}

// ---------------------------------------------------------------------------------------------
// The real trainer and evaluator, with settings far below the quick preset (a few steps per run)
// so the whole pipeline — training, resumable runs, per-code counts, figures, report — runs in CI.

/**
 * A run spec as vqlab wrote it before a run's quantizer was one config: the registry name, the
 * options given in its spec, and K, β, SimVQ's optimize mode and d as fields of their own.
 */
function olderSpec(spec: RunSpec, quantizerOptions: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const { id, experiment, variant, quantizer, nominal: _nominal, seed, ...training } = spec;
  const { codebookSize, beta } = gridPointOf(spec);
  const optimize = spec.variant.startsWith('simvq (') ? { simvqOptimize: simvqOptimizeOf(quantizer) } : {};
  return { id, experiment, variant, quantizer: quantizer.kind, quantizerOptions, codebookSize, beta, seed, ...optimize, ...training, dim: quantizer.dim };
}

test('results written with the quantizer as separate fields still report, and their runs are reused', async () => {
  for (const [kind, quantizers] of [['codebook-size', ['vq', 'vq:init=normal:initScale=0.125', 'fsq', 'simvq']], ['optimization', ['vq']]] as const) {
    const dir = tmp();
    try {
      const settings = resolveSettings(kind, 'quick', { sizes: [256, 1024], size: 256, quantizers: [...quantizers], seeds: [0] });
      await runExperiment({ kind, settings, out: dir, backend: fakeBackend([]) });
      const current = readFileSync(join(dir, 'results.json'), 'utf8');
      const report = readFileSync(join(dir, 'report.html'), 'utf8');
      const table = markdownSummary(readResults(dir), experimentDefinition(kind));
      const optionsOf = (spec: RunSpec): Readonly<Record<string, unknown>> | undefined =>
        spec.quantizer.kind === 'fsq' ? { levels: spec.quantizer.levels } : spec.variant === 'vq:init=normal:initScale=0.125' ? { init: 'normal', initScale: 0.125 } : undefined;
      const results = JSON.parse(current) as { runs: RunResult[] };
      const older = results.runs.map((r) => ({ ...r, spec: olderSpec(r.spec, optionsOf(r.spec)) }));
      assert.ok(older.some((r) => r.spec['simvqOptimize'] !== undefined || r.spec['quantizerOptions'] !== undefined), 'the older fields are exercised');
      writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...results, runs: older }, null, 1));
      for (const r of older) writeFileSync(join(dir, 'runs', String(r.spec['id']), 'result.json'), JSON.stringify(r));
      rmSync(join(dir, 'figures'), { recursive: true });
      unlinkSync(join(dir, 'report.html'));
      await reportCommand.run([dir]);
      assert.equal(readFileSync(join(dir, 'report.html'), 'utf8'), report);
      assert.equal(markdownSummary(readResults(dir), experimentDefinition(kind)), table);
      assert.deepEqual(readResults(dir), JSON.parse(current));
      // Each older result.json is recognised as the same run planned now: nothing retrains.
      const trained: TrainRequest[] = [];
      const again = await runExperiment({ kind, settings, out: dir, backend: fakeBackend(trained) });
      assert.equal(trained.length, 0, 'nothing retrained');
      assert.equal(again.reused, results.runs.length);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).runs.map((r: RunResult) => r.spec), results.runs.map((r) => r.spec), 'rewritten in the current shape');
      // A saved config without an option added since (here the loss weight) takes its default: still the same run.
      const vq = results.runs.find((r) => r.spec.id === 'vq-K256-s0')!;
      const { weight, ...withoutWeight } = vq.spec.quantizer as Record<string, unknown>;
      assert.equal(weight, 1);
      writeFileSync(join(dir, 'runs', vq.spec.id, 'result.json'), JSON.stringify({ ...vq, spec: { ...vq.spec, quantizer: withoutWeight } }));
      assert.equal((await runExperiment({ kind, settings, out: dir, backend: fakeBackend(trained) })).reused, results.runs.length);
      assert.equal(trained.length, 0, 'nothing retrained');
      // An older result of other settings is still refused.
      const other = resolveSettings(kind, 'quick', { sizes: [256, 1024], size: 256, quantizers: [...quantizers], seeds: [0], beta: 0.5 });
      await assert.rejects(runExperiment({ kind, settings: other, out: dir, backend: fakeBackend([]) }), /different settings/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('every committed results.json reads with its runs as planned now, FSQ at the K it stands in for and with the codes it has', () => {
  // dist/test/… → the repository's docs/
  const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');
  const committed = ['experiments', 'figures'].flatMap((root) => readdirSync(join(docs, root)).map((d) => join(docs, root, d)).filter((d) => existsSync(join(d, 'results.json'))));
  assert.ok(committed.length >= 9, `found ${committed.length} committed experiments`);
  for (const dir of committed) {
    const results = readResults(dir);
    const planned = new Map(plannedRuns(experimentDefinition(results.experiment), results.settings).map((r) => [r.id, r]));
    // As saved: the planned spec's unset settings are undefined.
    for (const r of results.runs) assert.deepEqual(r.spec, JSON.parse(JSON.stringify(planned.get(r.spec.id))), `${dir}: ${r.spec.id} is the run its settings plan`);
  }
  const fsq = readResults(join(docs, 'experiments', 'fashion-table1')).runs.find((r) => r.spec.id === 'fsq-K1024-s0')!.spec;
  // Read with the options added since filled in at their defaults.
  assert.deepEqual([fsq.quantizer, fsq.nominal, codebookSizeOf(fsq.quantizer)], [{ kind: 'fsq', dim: 64, levels: [8, 5, 5, 5], preNorm: 'none' }, { codebookSize: 1024, beta: 0.25 }, 1000]);
  // Tables print the codes the quantizer has beside the K it stands in for, and utilization is a share of them.
  const table = markdownSummary(readResults(join(docs, 'experiments', 'speech-table2')), experimentDefinition('codebook-size'), ['codes', 'trainUsedCodes', 'trainUtilization']);
  const fsq4k = table.split('\n').find((row) => row.startsWith('| fsq | 4096 |'));
  assert.equal(fsq4k, '| fsq | 4096 | 1 | 4375 | 1843 | 42.13 |');
  // The full table and the HTML report show the column only where it says more than K.
  const shown = (view: string): boolean => metricsOf(readResults(join(docs, 'experiments', view)).runs).some((m) => m.key === 'codes');
  assert.deepEqual([shown('speech-table2'), shown('fashion-budget-lr')], [true, false]);
});

test('a tiny real codebook-size experiment: all three quantizers train, evaluate and report', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [32], epochs: 1, trainLimit: 256, testLimit: 100, threads: 1 });
    const { defaultBackend } = await import('../src/experiments/default-backend.js');
    const { results } = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: defaultBackend() });
    checkOutputs(dir, 3);
    for (const r of results.runs) {
      assert.equal(r.usage.reduce((s, [, n]) => s + n, 0), 32, `${r.spec.id}: a count for each of the K codes`);
      // 100 test images × 7×7 latents, each choosing one code.
      assert.equal(r.usage.reduce((s, [c, n]) => s + c * n, 0), 100 * 49, `${r.spec.id}: counts cover every test latent`);
      const used = r.usage.filter(([c]) => c > 0).reduce((s, [, n]) => s + n, 0);
      assert.equal(r.metrics.utilization, used / 32, 'utilization agrees with the counts');
      assert.equal(r.metrics.dead_codes, 32 - used);
      assert.ok(Number.isFinite(r.metrics.psnr) && r.metrics.psnr > 0);
      assert.ok(existsSync(join(dir, r.recon!)), 'reconstruction grid written');
      assert.equal(r.curves.length, 1, 'one epoch in metrics.jsonl');
      // Timing comes from the trainer's log: the sum of its epoch times, the mean of its rates.
      const log = readFileSync(join(dir, 'runs', r.spec.id, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
      assert.equal(r.timing.train_seconds, log.reduce((s, e) => s + e.epoch_seconds, 0));
      assert.equal(r.timing.images_per_second, log.reduce((s, e) => s + e.img_per_s!, 0) / log.length);
      assert.equal(r.timing.threads, 1, 'the ORT threads it trained with');
      // Training-set usage: every one of the 256 training images' 7×7 latents counted once.
      const train = r.metrics.train_set!;
      assert.equal(train.latents, 256 * 49);
      assert.equal(train.utilization, train.used_codes / 32);
      assert.ok(train.used_codes >= 1 && train.perplexity >= 1 && train.perplexity <= train.used_codes + 1e-9);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a real run with a test limit trains and evaluates on exactly that many test images', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq'], epochs: 1, trainLimit: 64, testLimit: 20, batch: 32, threads: 1 });
    const { defaultBackend } = await import('../src/experiments/default-backend.js');
    const backend = defaultBackend();
    const [spec] = experimentDefinition('codebook-size').plan(settings);
    const runDir = join(dir, 'runs', spec!.id);
    await backend.train({ spec: spec!, settings, dir: runDir, resume: false, log: () => {} });
    const { data } = await readTrainerState(runDir);
    assert.deepEqual([data.testLimit, data.testCount, data.trainLimit, data.trainCount], [20, 20, 64, 64], 'the trainer loaded the limited sets');
    const { counts } = await backend.evaluate({ spec: spec!, settings, dir: runDir, grid: '' });
    // 20 test images × 7×7 latents, each choosing one code.
    assert.equal(Array.from(counts).reduce((a, b) => a + b, 0), 20 * 49);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted real run resumes from its last epoch checkpoint', async () => {
  const dir = tmp();
  try {
    const settings = resolveSettings('codebook-size', 'quick', { sizes: [16], quantizers: ['vq'], epochs: 2, trainLimit: 256, testLimit: 50, threads: 1 });
    const { defaultBackend } = await import('../src/experiments/default-backend.js');
    const backend = defaultBackend();
    const [spec] = experimentDefinition('codebook-size').plan(settings);
    // "Interrupted" after epoch 1 of 2: the checkpoint exists, result.json does not.
    await backend.train({ spec: { ...spec!, epochs: 1 }, settings, dir: join(dir, 'runs', spec!.id), resume: false, log: () => {} });
    const trained: TrainRequest[] = [];
    const spy: Backend = { ...backend, train: (req) => { trained.push(req); return backend.train(req); } };
    const { results } = await runExperiment({ kind: 'codebook-size', settings, out: dir, backend: spy });
    assert.deepEqual(trained.map((t) => t.resume), [true]);
    assert.deepEqual(results.runs[0]!.curves.map((c) => c.epoch), [1, 2], 'epoch 1 from before the interruption, epoch 2 after');
    checkOutputs(dir, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

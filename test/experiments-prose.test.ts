/**
 * The numbers EXPERIMENTS.md's prose quotes, recomputed from the committed results files (and the
 * bundled MNIST digits): each expected fragment is built from the files and must appear in the
 * text as it stands, so a rerun that changes a result, or an edit that changes a quoted number,
 * fails here until the two agree again. The tables are printed by `vqlab report --markdown`, each
 * under the command that prints it, and the first test here prints each again and compares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledMnist } from '../src/data/index.js';
import { readResults } from '../src/experiments/results.js';
import { codebookSizeOf, gridPointOf } from '../src/experiments/run-quantizer.js';
import { testCodesCovering } from '../src/experiments/spread-metrics.js';
import { diagnosticsSummary } from '../src/experiments/diagnostics-summary.js';
import type { ExperimentResults, RunResult } from '../src/experiments/types.js';
import { markdownSummary } from '../src/experiments/markdown-summary.js';
import { experimentDefinition } from '../src/experiments/registry.js';

// dist/test/… → the repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MARKDOWN = readFileSync(join(ROOT, 'EXPERIMENTS.md'), 'utf8');
const TEXT = MARKDOWN.replace(/\s+/g, ' ');

function results(name: string): ExperimentResults {
  return readResults(join(ROOT, 'docs', 'experiments', name));
}

const usedCodes = (r: RunResult): number => r.usage.reduce((n, [count, repeat]) => n + (count > 0 ? repeat : 0), 0);
const latents = (r: RunResult): number => r.usage.reduce((n, [count, repeat]) => n + count * repeat, 0);
/** Share of the test latents that the most used code takes, in %. */
const topShare = (r: RunResult): number => (100 * r.usage[0]![0]) / latents(r);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Integers as the prose writes them: 26,195. */
const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const fixed = (v: number, digits: number): string => v.toFixed(digits);
const range = (xs: readonly number[], show: (v: number) => string): string => `${show(Math.min(...xs))}–${show(Math.max(...xs))}`;

function runsOf(res: ExperimentResults, variant: string, k: number): RunResult[] {
  const rs = res.runs.filter((r) => r.spec.variant === variant && gridPointOf(r.spec).codebookSize === k);
  assert.ok(rs.length > 0, `${variant} at K = ${k}`);
  return rs;
}

function run(res: ExperimentResults, id: string): RunResult {
  const r = res.runs.find((x) => x.spec.id === id);
  assert.ok(r, id);
  return r;
}

/** Each fragment must be in EXPERIMENTS.md (whitespace collapsed, so line breaks do not matter). */
function assertQuoted(fragments: readonly string[]): void {
  const missing = fragments.filter((f) => !TEXT.includes(f));
  assert.deepEqual(missing, [], `EXPERIMENTS.md does not quote these numbers as the committed files give them:\n${missing.join('\n')}`);
}

test('every table under a `vqlab report DIR --markdown` command is what that command prints from the committed results', () => {
  const command = /^vqlab report (docs\/experiments\/[\w-]+) --markdown( --sort)?(?: \\\n\s*)?(?: --metrics ([\w,]+))?\n/gm;
  const checked: string[] = [];
  for (const m of MARKDOWN.matchAll(command)) {
    const [, dir, sort, metrics] = m;
    const rest = MARKDOWN.slice(m.index! + m[0].length);
    const lines = rest.slice(rest.indexOf('\n| ') + 1).split('\n');
    const table = lines.slice(0, lines.findIndex((l) => !l.startsWith('|'))).join('\n');
    const res = readResults(join(ROOT, dir!));
    const printed = markdownSummary(res, experimentDefinition(res.experiment), metrics?.split(','), sort !== undefined).trimEnd();
    assert.equal(table, printed, `the table under 'vqlab report ${dir} --markdown' differs from what it prints`);
    checked.push(dir!.slice('docs/experiments/'.length));
  }
  // Every published view that has a table in EXPERIMENTS.md.
  assert.deepEqual(checked.sort(), [
    'fashion-budget-beta', 'fashion-budget-lr', 'fashion-budget-paper', 'fashion-codebook-size', 'fashion-long', 'fashion-table1', 'fashion-table1-fair',
    'mnist-beta', 'mnist-long', 'mnist-optimization', 'speech-table2',
  ]);
});

const SIZES = [1024, 4096, 16384, 65536];

test('the codebook-size grid: the criteria table and the prose quote the committed results', () => {
  const grid = results('fashion-codebook-size');
  const simvq = SIZES.map((k) => runsOf(grid, 'simvq', k));
  const vq = SIZES.map((k) => runsOf(grid, 'vq', k));
  const vqNormal = SIZES.map((k) => runsOf(grid, 'vq:init=normal:initScale=0.125', k));
  const ema = SIZES.map((k) => runsOf(grid, 'ema', k));
  const [small, large] = [simvq[0]!, simvq[3]!];
  const ratios = (baseline: RunResult[][]): string[] => simvq.map((rs, i) => `${Math.round(Math.min(...rs.map(usedCodes)) / Math.max(...baseline[i]!.map(usedCodes)))}×`);
  const bySeed = [...large].sort((a, b) => a.spec.seed - b.spec.seed);
  assertQuoted([
    `test, mean: ${simvq.map((rs) => int(mean(rs.map(usedCodes)))).join(' → ')}`,
    `each seed at 65,536 (${range(large.map(usedCodes), int)}) far above each at 1,024 (${range(small.map(usedCodes), int)})`,
    `training set ${simvq.map((rs) => int(mean(rs.map((r) => r.metrics.train_set!.used_codes)))).join(' → ')}`,
    `each seed at 65,536 (${range(large.map((r) => r.metrics.psnr), (v) => fixed(v, 2))}) above each at 1,024 (${range(small.map((r) => r.metrics.psnr), (v) => fixed(v, 2))})`,
    `every seed at either end within ${range([...vq[0]!, ...vq[3]!].map(usedCodes), int)} codes and ${range([...vq[0]!, ...vq[3]!].map((r) => r.metrics.psnr), (v) => fixed(v, 2))} dB`,
    `least SimVQ seed over most VQ seed: ${ratios(vq)[0]} (${int(Math.min(...small.map(usedCodes)))} / ${int(Math.max(...vq[0]!.map(usedCodes)))}) at 1,024, ${ratios(vq)[1]} at 4,096, ${ratios(vq)[2]} at 16,384, ${ratios(vq)[3]} (${int(Math.min(...large.map(usedCodes)))} / ${int(Math.max(...vq[3]!.map(usedCodes)))}) at 65,536`,
    `against VQ from N(0, 1/d) (${vqNormal.map((rs) => int(usedCodes(rs[0]!))).join(', ')} codes): ${ratios(vqNormal).join(', ')}`,
    `| SimVQ's test utilization ≥ 50 % at K = 16,384 | ${fixed(100 * simvq[2]![0]!.metrics.utilization, 1)} %`,
    `${bySeed.map((r) => `${fixed(100 * r.metrics.utilization, 1)} %`).join(', ')} (seeds 0, 1, 2); ${bySeed.map((r) => int(usedCodes(r))).join(', ')} codes`,
    `EMA-VQ, the grid's fourth quantizer, collapses like VQ: ${ema.slice(0, 3).map((rs) => int(usedCodes(rs[0]!))).join(', ')} and ${int(usedCodes(ema[3]![0]!))} test codes`,
    `${ema.slice(0, 3).map((rs) => fixed(rs[0]!.metrics.psnr, 2)).join(', ')} and ${fixed(ema[3]![0]!.metrics.psnr, 2)} dB; SimVQ uses ${range(simvq.map((rs, i) => mean(rs.map(usedCodes)) / usedCodes(ema[i]![0]!)), (v) => `${Math.round(v)}×`).replace('×–', '× to ')} its codes`,
    // The training batches' utilization per epoch of seed 0, still climbing at the end.
    `K = 65,536: ${large.find((r) => r.spec.seed === 0)!.curves.map((c) => fixed(100 * c.values['utilization']!, 1)).join(' → ')} %; K = 16,384: ${simvq[2]![0]!.curves.map((c) => fixed(100 * c.values['utilization']!, 1)).join(' → ')} %`,
    `make SimVQ's most used code take ${range(simvq.flat().map(topShare), (v) => fixed(v, 0))} % of all test latents`,
  ]);
});

test('Table 1 at K ≈ 1,024: dead-code replacement with SimVQ', () => {
  const t1 = results('fashion-table1');
  const simvq = run(t1, 'simvq-K1024-s0');
  const simvqDead = run(t1, 'simvq-deadCodeShare-0.16-K1024-s0');
  assertQuoted([
    `with fewer codes in use than SimVQ without it (${fixed(100 * simvqDead.metrics.utilization, 0)} % against ${fixed(100 * simvq.metrics.utilization, 0)} %) but ${fixed(simvqDead.metrics.psnr - simvq.metrics.psnr, 1)} dB better, and puts 90 % of the test latents on ${int(testCodesCovering(simvqDead, 90))} codes against ${int(testCodesCovering(simvq, 90))}`,
  ]);
});

test('Table 1 at K ≈ 65,536: the shares, perplexities, coverage, re-seeded codes and speeds the prose quotes', () => {
  const t1 = results('fashion-table1');
  const simvq = run(t1, 'simvq-K65536-s0');
  const vqDead = run(t1, 'vq-deadCodeShare-0.16-K65536-s0');
  const simvqDead = run(t1, 'simvq-deadCodeShare-0.16-K65536-s0');
  const reseeded = (r: RunResult): string[] => r.curves.map((c) => int(c.values['reseeded_codes']!));
  const speed = (id: string): string => fixed(run(t1, id).timing.images_per_second!, 0);
  const [v1, v2, v3] = reseeded(vqDead);
  assertQuoted([
    `SimVQ sends to one code (${fixed(topShare(simvq), 1)} % of all test latents)`,
    `The most used code takes ${fixed(topShare(vqDead), 1)} % of the test latents with VQ and dead-code replacement, ${fixed(topShare(simvqDead), 1)} % with SimVQ and it`,
    `perplexity is ${int(vqDead.metrics.perplexity)} and ${int(simvqDead.metrics.perplexity)} against SimVQ's ${int(simvq.metrics.perplexity)}`,
    `Half of the test latents fall on ${int(testCodesCovering(vqDead, 50))} codes with VQ and dead-code replacement and on ${int(testCodesCovering(simvqDead, 50))} with SimVQ and it, but on ${int(testCodesCovering(simvq, 50))} with SimVQ alone; 90 % on ${[vqDead, simvqDead].map((r) => int(testCodesCovering(r, 90))).join(', ')} and ${int(testCodesCovering(simvq, 90))}`,
    `VQ's re-seeded codes fell from ${v1} in the first epoch to ${v2} and ${v3}`,
    `SimVQ's stayed high, ${reseeded(simvqDead).slice(0, 2).join(', ')} and ${reseeded(simvqDead)[2]}`,
    `In SimVQ's third epoch ${fixed(100 * simvqDead.curves[2]!.values['utilization']!, 1)} % of the codes were chosen`,
    `VQ with it trained at ${speed('vq-deadCodeShare-0.16-K65536-s0')} images/s on one thread, as fast as VQ with k-means initialization or the rotation trick (${speed('vq-kmeansIters-10-K65536-s0')} and ${speed('vq-rotationTrick-true-K65536-s0')})`,
  ]);
});

test('the share of the bundled MNIST digits\' 4×4 blocks that are entirely black', () => {
  const { images, count } = loadBundledMnist();
  let black = 0;
  for (let i = 0; i < count; i++) {
    for (let by = 0; by < 7; by++) {
      for (let bx = 0; bx < 7; bx++) {
        let lit = false;
        for (let y = 0; y < 4 && !lit; y++) for (let x = 0; x < 4 && !lit; x++) lit = images[i * 784 + (4 * by + y) * 28 + 4 * bx + x]! > 0;
        if (!lit) black++;
      }
    }
  }
  const share = fixed((100 * black) / (count * 49), 0);
  assertQuoted([`Unlike the bundled MNIST digits (${share} % of whose 4×4 blocks are black)`, `${share} % of the digits' 4×4 blocks are entirely black`]);
});

test('SimVQ at K = 65,536 until settled: the verdict, the epochs and the spectrum the prose quotes', () => {
  const long = run(results('fashion-long'), 'simvq-K65536-s0');
  const grid = run(results('fashion-codebook-size'), 'simvq-K65536-s0');
  const deadVq = run(results('fashion-table1'), 'vq-deadCodeShare-0.16-K65536-s0');
  const trainSet = long.metrics.train_set!;
  const diagnostics = long.diagnostics!;
  const last = diagnostics.at(-1)!;
  const first = diagnostics[0]!;
  const spanned = (sigma: readonly number[]): number => sigma.filter((v) => v >= 0.01 * sigma[0]!).length;
  const epochUtil = long.curves.map((c) => fixed(100 * c.values['utilization']!, 1));
  assert.equal(last.utilization, trainSet.utilization, 'the last diagnostics are the final model\'s');
  assertQuoted([
    `went ${epochUtil.slice(0, -1).join(', ')} and ${epochUtil.at(-1)} %`,
    `settled after epoch ${long.curves.length} (${int(long.curves.at(-1)!.values['step']!)} steps): ${fixed(100 * trainSet.utilization, 2)} % of the codes`,
    `against ${fixed(100 * grid.metrics.train_set!.utilization, 1)} % for the same seed after the grid's 3 epochs`,
    `${fixed(long.metrics.psnr, 2)} dB PSNR on the test set, against ${fixed(grid.metrics.psnr, 2)} dB after 3 epochs and ${fixed(deadVq.metrics.psnr, 2)} dB for VQ with dead-code replacement`,
    `The test set sees ${fixed(100 * long.metrics.utilization, 2)} % of the codes`,
    `perplexity over the training set is ${fixed(last.perplexity, 1)}, ${fixed((100 * last.perplexity) / 65536, 1)} % of K; ${last.codes_covering_50} codes carry half of the training latents and ${last.codes_covering_90} carry 90 %`,
    `test perplexity of ${int(deadVq.metrics.perplexity)}`,
    `(${first.singular_values![0]!.toFixed(2)} → ${last.singular_values![0]!.toFixed(2)}), and the singular values within 1 % of it fall from ${spanned(first.singular_values!)} of 64 to ${spanned(last.singular_values!)} of 64`,
    `close to a ${spanned(last.singular_values!)}-dimensional subspace`,
    `(${fixed(100 * long.curves[0]!.values['utilization']!, 2)} % against ${fixed(100 * grid.curves[0]!.values['utilization']!, 2)} % training utilization)`,
    `SimVQ at K = 65,536 uses ${fixed(100 * trainSet.utilization, 2)} % of its codes over the training set after ${long.curves.length} epochs`,
  ]);
  // The diagnostics table is `vqlab report --diagnostics`'s, row for row.
  assertQuoted(diagnosticsSummary(results('fashion-long')).split('\n').filter((l) => l.startsWith('| ')).map((l) => l.replace(/\s+/g, ' ')));
  // W's largest singular value grows every diagnosed epoch.
  const tops = diagnostics.map((d) => d.singular_values![0]!);
  assert.ok(tops.every((v, i) => i === 0 || v > tops[i - 1]!), tops.join(', '));
});

test('VQ with dead-code replacement at K = 65,536 until settled, beside SimVQ, as the prose quotes it', () => {
  const view = results('fashion-long');
  const vq = run(view, 'vq-deadCodeShare-0.16-K65536-s0');
  const simvq = run(view, 'simvq-K65536-s0');
  const d = vq.diagnostics!;
  const last = d.at(-1)!;
  const epochUtil = vq.curves.map((c) => fixed(100 * c.values['utilization']!, 1));
  const mseDrop = 100 * (1 - last.mse! / d.at(-2)!.mse!);
  assertQuoted([
    `went ${epochUtil.slice(0, -1).join(', ')} and ${epochUtil.at(-1)} %, and the rule stopped it after epoch ${vq.curves.length} (${int(vq.curves.at(-1)!.values['step']!)} steps)`,
    `${fixed(100 * vq.metrics.train_set!.utilization, 2)} % of the codes over the training set and ${fixed(100 * vq.metrics.utilization, 2)} % on the test set`,
    `(training perplexity ${last.perplexity.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })}, ${int(last.codes_covering_50)} codes for half of the latents)`,
    `Its test PSNR, ${fixed(vq.metrics.psnr, 2)} dB, is ${fixed(simvq.metrics.psnr - vq.metrics.psnr, 2)} dB below settled SimVQ's`,
    `its training MSE still fell by ${fixed(mseDrop, 0)} % in the last epoch (${d.at(-2)!.mse!.toFixed(5)} → ${last.mse!.toFixed(5)})`,
  ]);
  assert.ok(vq.curves.length * 2 < simvq.curves.length + 1, 'less than half of SimVQ\'s steps');
});

test('FSQ at K = 65,536 until settled, beside SimVQ and VQ with dead-code replacement, as the prose quotes it', () => {
  const view = results('fashion-long');
  const fsq = run(view, 'fsq-K65536-s0');
  const simvq = run(view, 'simvq-K65536-s0');
  const table1 = run(results('fashion-table1'), 'fsq-K65536-s0');
  const d = fsq.diagnostics!;
  const last = d.at(-1)!;
  const epochUtil = fsq.curves.map((c) => fixed(100 * c.values['utilization']!, 1));
  const simvqSettled = simvq.curves.length;
  const fsqAtSimvq = d.find((r) => r.epoch === simvqSettled)!;
  const simvqAtSettled = simvq.diagnostics!.find((r) => r.epoch === simvqSettled)!;
  assert.deepEqual((fsq.spec.quantizer as unknown as { levels: number[] }).levels, [8, 8, 8, 5, 5, 5]);
  assert.equal(last.utilization, fsq.metrics.train_set!.utilization, 'the last diagnostics are the final model\'s');
  assertQuoted([
    `went ${epochUtil.slice(0, -1).join(', ')} and ${epochUtil.at(-1)} %, and the rule stopped it after epoch ${fsq.curves.length} (${int(fsq.curves.at(-1)!.values['step']!)} steps)`,
    `${fixed(100 * fsq.metrics.train_set!.utilization, 2)} % of the codes over the training set and ${fixed(100 * fsq.metrics.utilization, 2)} % on the test set, with a training perplexity of ${last.perplexity.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} (${int(last.codes_covering_50)} codes for half of the latents)`,
    `Its test PSNR, ${fixed(fsq.metrics.psnr, 2)} dB, is ${fixed(fsq.metrics.psnr - simvq.metrics.psnr, 2)} dB above settled SimVQ's and ${fixed(fsq.metrics.psnr - table1.metrics.psnr, 2)} dB above its own after Table 1's 3 epochs (${fixed(table1.metrics.psnr, 2)} dB, ${fixed(100 * table1.metrics.utilization, 2)} % of the codes on the test set)`,
    `at SimVQ's stopping point, epoch ${simvqSettled}, FSQ's training MSE was ${fsqAtSimvq.mse!.toFixed(5)} against SimVQ's ${simvqAtSettled.mse!.toFixed(5)}, and it passed below only in the ${fsq.curves.length - simvqSettled} epochs that followed (${last.mse!.toFixed(5)} at the end)`,
    `FSQ settles last, after ${fsq.curves.length} epochs, at ${fixed(100 * fsq.metrics.train_set!.utilization, 2)} % of its codes and ${fixed(fsq.metrics.psnr, 2)} dB`,
  ]);
  assert.ok(fsqAtSimvq.mse! > simvqAtSettled.mse! && last.mse! < simvqAtSettled.mse!);
  assert.ok(fsq.curves.length > 2 * simvqSettled, 'more than twice SimVQ\'s steps');
});

test('budget or ceiling: SimVQ at K = 65,536 in 1,404 steps at lr 1e-3, as the prose quotes it', () => {
  const lr = run(results('fashion-budget-lr'), 'simvq-K65536-s0');
  const grid = run(results('fashion-codebook-size'), 'simvq-K65536-s0');
  const long = run(results('fashion-long'), 'simvq-K65536-s0');
  assert.equal(lr.spec.lr, 0.001);
  assert.equal(lr.curves.at(-1)!.values['step'], 1404);
  assertQuoted([
    `At lr 10⁻³ SimVQ uses ${fixed(100 * lr.metrics.train_set!.utilization, 2)} % of the codes over the training set after the grid's ${int(lr.curves.at(-1)!.values['step']!)} steps, against ${fixed(100 * grid.metrics.train_set!.utilization, 1)} % at the reference 3·10⁻⁴`,
    `in a third of the steps the settled run needed for ${fixed(100 * long.metrics.train_set!.utilization, 2)} %`,
    `(test perplexity ${fixed(lr.metrics.perplexity, 1)} against the settled run's ${fixed(long.metrics.perplexity, 1)})`,
    `reconstructions (${fixed(lr.metrics.psnr, 2)} dB) stay below the settled run's ${fixed(long.metrics.psnr, 2)} dB`,
    `with lr 10⁻³ it reaches ${fixed(100 * lr.metrics.train_set!.utilization, 2)} % within the grid's 1,404 steps`,
  ]);
  assert.ok(lr.metrics.train_set!.utilization >= 0.85, 'past the issue\'s 85 % mark');
  assert.ok(Math.abs(lr.curves.at(-1)!.values['step']! * 3 - long.curves.at(-1)!.values['step']!) < 1, 'a third of the settled run\'s steps');
});

test('budget or ceiling: SimVQ at K = 65,536 in 1,404 steps at beta 0.1, as the prose quotes it', () => {
  const beta = run(results('fashion-budget-beta'), 'simvq-K65536-s0');
  const grid = run(results('fashion-codebook-size'), 'simvq-K65536-s0');
  assert.equal(gridPointOf(beta.spec).beta, 0.1);
  assert.equal(beta.curves.at(-1)!.values['step'], 1404);
  assertQuoted([
    `${fixed(100 * beta.metrics.train_set!.utilization, 2)} % of the codes over the training set and ${fixed(beta.metrics.psnr, 2)} dB, below the reference run's ${fixed(100 * grid.metrics.train_set!.utilization, 1)} % and ${fixed(grid.metrics.psnr, 2)} dB in the same steps`,
  ]);
  assert.ok(beta.metrics.train_set!.utilization < grid.metrics.train_set!.utilization && beta.metrics.psnr < grid.metrics.psnr);
});

test('budget or ceiling: SimVQ at K = 65,536 in 1,404 steps with the paper\'s optimizer, as the prose quotes it', () => {
  const paper = run(results('fashion-budget-paper'), 'simvq-K65536-s0');
  const lr = run(results('fashion-budget-lr'), 'simvq-K65536-s0');
  assert.deepEqual([paper.spec.optimizer, paper.spec.warmupSteps, paper.spec.cosine, paper.spec.lr], ['simvq-paper', 140, true, 1e-4]);
  assert.equal(paper.curves.at(-1)!.values['step'], 1404);
  assertQuoted([
    `${fixed(100 * paper.metrics.train_set!.utilization, 2)} % of the codes over the training set and ${fixed(paper.metrics.psnr, 2)} dB after 1,404 steps`,
    `three times the reference learning rate brings SimVQ to ${fixed(100 * lr.metrics.train_set!.utilization, 2)} %; the paper's third of it, with its betas and schedule, leaves it at ${fixed(100 * paper.metrics.train_set!.utilization, 2)} %`,
  ]);
});

/**
 * Table 1's fair set-ups beside their untuned rows (fashion-table1-fair against fashion-table1):
 * each row of the comparison table, as EXPERIMENTS.md prints it, from the two committed files.
 */
test("Table 1's fair set-ups: each beside its untuned row, as the comparison table and the prose quote them", () => {
  const untuned = results('fashion-table1');
  const fair = results('fashion-table1-fair');
  const cells = (r: RunResult): string => [
    fixed(100 * r.metrics.utilization, 2), fixed(100 * r.metrics.train_set!.utilization, 2), fixed(r.metrics.perplexity, 1),
    int(testCodesCovering(r, 90)), fixed(r.metrics.psnr, 2),
  ].join(' | ');
  const pairs: [label: string, before: string, after: string][] = [
    ['LFQ, τ = 0.01 → behind `preNorm=batch`', 'lfq', 'lfq:preNorm=batch'],
    ['LFQ → behind `preNorm=batch`, τ = 0.1', 'lfq', 'lfq:preNorm=batch:temperature=0.1'],
    ['LFQ → behind `preNorm=batch`, τ = 1', 'lfq', 'lfq:preNorm=batch:temperature=1'],
    ['FSQ → behind `preNorm=batch`', 'fsq', 'fsq:preNorm=batch'],
    ['factorized cosine codes, U(±1/K) → unit norm (`init=unit`)', 'vq:codebookDim=8:cosine=true', 'vq:codebookDim=8:cosine=true:init=unit'],
    ['k-means from the first batch → from 65,536 samples', 'vq:kmeansIters=10', 'vq:kmeansIters=10:kmeansSamples=65536'],
    ['"C only": W = I (VQ from N(0, 1/d)) → W frozen random', 'vq:init=normal:initScale=0.125', 'simvq:optimize=C:frozenW=random'],
  ];
  const at = (res: ExperimentResults, variant: string, k: number): RunResult => runsOf(res, variant, k)[0]!;
  const rows = [1024, 65536].flatMap((k) => pairs.map(([label, before, after]) =>
    `| ${label} | ${int(k)} | ${cells(at(untuned, before, k))} | ${cells(at(fair, after, k))} |`));
  assertQuoted(rows);
  // The prose under the table.
  const epochUtil = (r: RunResult): string => {
    const u = r.curves.map((c) => fixed(100 * c.values['utilization']!, 1));
    return `${u.slice(0, -1).join(', ')} and ${u.at(-1)} %`;
  };
  const lfq = at(fair, 'lfq:preNorm=batch', 65536);
  const fsq = at(fair, 'fsq:preNorm=batch', 65536);
  const simvq = at(untuned, 'simvq', 65536);
  assertQuoted([
    `uses every code at K = 1,024 (from ${usedCodes(at(untuned, 'lfq', 1024))}) and ${fixed(100 * lfq.metrics.train_set!.utilization, 2)} % over the training set at 65,536 (from ${fixed(100 * at(untuned, 'lfq', 65536).metrics.train_set!.utilization, 2)} %)`,
    `and ${fixed(fsq.metrics.psnr - simvq.metrics.psnr, 1)} dB above SimVQ (${fixed(simvq.metrics.psnr, 2)} dB)`,
    `(perplexity ${fixed(fsq.metrics.perplexity, 1)} against SimVQ's ${fixed(simvq.metrics.perplexity, 1)})`,
    `rose in each epoch (${epochUtil(at(fair, 'vq:codebookDim=8:cosine=true:init=unit', 65536)).replace(' %', ' % of the codes chosen in the training batches)')}`,
    `where from U(±1/K) it fell (${epochUtil(at(untuned, 'vq:codebookDim=8:cosine=true', 65536)).replace(' and ', ', ').replace(' %', ' %)')}`,
    `against SimVQ's ${fixed(100 * at(untuned, 'simvq', 1024).metrics.utilization, 2)} and ${fixed(100 * simvq.metrics.utilization, 2)} % when W is trained`,
  ]);
});

/** The speech tokenizer of issue 23: its evaluation over the whole held-out split and its training log. */
test('the best speech tokenizer so far: STOI, SI-SNR, mel distance, codes and steps as the prose quotes them', () => {
  const dir = join(ROOT, 'docs', 'experiments', 'speech-simvq-dead-4096');
  const evaluation = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, number>;
  const state = JSON.parse(readFileSync(join(dir, 'trainer-state.json'), 'utf8')) as { epoch: number; step: number };
  const log = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; step: number });
  assert.equal(log.at(-1)!.epoch, state.epoch, 'the log ends with the checkpoint\'s last full epoch');
  assert.ok(evaluation.stoi! >= 0.7, `the prose says the STOI target of 0.70 is met; the file has ${evaluation.stoi}`);
  assertQuoted([
    `STOI ${evaluation.stoi!.toFixed(3)}, SI-SNR ${evaluation.si_snr!.toFixed(1)} dB and mel distance ${evaluation.mel_distance!.toFixed(3)}`,
    `Stopped after ${int(state.step)} steps (${state.epoch} epochs of 73 and part of the next)`,
    `using ${fixed(100 * evaluation.utilization!, 1)} % of the 4,096 codes on the held-out utterances (perplexity ${fixed(evaluation.perplexity!, 1)})`,
    `at ${evaluation.tokens_per_second} tokens/s, ${evaluation.bitrate} bit/s`,
  ]);
});

/**
 * The speech probes before Table 2 (docs/experiments/speech-probes/): each probe's training log,
 * its first four epochs as the table prints them (the share of the codes the epoch's training
 * batches chose / their perplexity) and STOI on the held-out utterances after its last epoch of
 * those four; the table must stand in EXPERIMENTS.md as printed here, and the prose's ranges with it.
 */
test('the speech probes: the table of their first four epochs and the ranges the prose quotes', () => {
  interface ProbeEpoch { readonly epoch: number; readonly utilization: number; readonly perplexity: number; readonly test: { readonly stoi: number } }
  const probes = [
    ['simvq-d64', 'simvq', 64],
    ['simvq-d64-weight20', 'simvq:weight=20', 64],
    ['simvq-d64-prenorm-batch', 'simvq:preNorm=batch', 64],
    ['simvq-d64-prenorm-batch-initscale1', 'simvq:preNorm=batch:initScale=1', 64],
    ['simvq-d8', 'simvq', 8],
    ['vq-d64', 'vq', 64],
    ['vq-d8', 'vq', 8],
  ] as const;
  const logs = new Map<string, ProbeEpoch[]>(probes.map(([name]) => {
    const lines = readFileSync(join(ROOT, 'docs', 'experiments', 'speech-probes', name, 'metrics.jsonl'), 'utf8').trim().split('\n');
    return [name, lines.map((l) => JSON.parse(l) as ProbeEpoch).filter((e) => e.epoch <= 4)] as const;
  }));
  for (const [name, , d] of probes) {
    const config = JSON.parse(readFileSync(join(ROOT, 'docs', 'experiments', 'speech-probes', name, 'config.json'), 'utf8')) as { quantizer: { dim: number; codebookSize: number }; architecture: { channels: number } };
    assert.deepEqual([config.quantizer.dim, config.quantizer.codebookSize, config.architecture.channels], [d, 4096, 16], name);
  }
  const cell = (e: ProbeEpoch | undefined): string => (e === undefined ? '–' : `${fixed(100 * e.utilization, 1)} / ${fixed(e.perplexity, 1)}`);
  const rows = probes.map(([name, quantizer, d]) => {
    const log = logs.get(name)!;
    return `| \`${name}\` | \`${quantizer}\` | ${d} | ${[1, 2, 3, 4].map((n) => cell(log.find((e) => e.epoch === n))).join(' | ')} | ${fixed(log.at(-1)!.test.stoi, 3)} |`;
  });
  const table = ['| probe | quantizer | d | epoch 1 | epoch 2 | epoch 3 | epoch 4 | STOI |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |', ...rows].join('\n');
  assert.ok(MARKDOWN.includes(table), `EXPERIMENTS.md should hold the probes' table:\n${table}`);
  const epochs = (names: readonly string[], from = 1): ProbeEpoch[] => names.flatMap((n) => logs.get(n)!.filter((e) => e.epoch >= from));
  const simvq64 = epochs(['simvq-d64', 'simvq-d64-weight20', 'simvq-d64-prenorm-batch', 'simvq-d64-prenorm-batch-initscale1'], 2);
  const simvq8 = epochs(['simvq-d8'], 2);
  const vq = epochs(['vq-d64', 'vq-d8']);
  assertQuoted([
    `After the first epoch it chose at most ${fixed(100 * Math.max(...simvq64.map((e) => e.utilization)), 1)} % of the codes in an epoch, at perplexity ${fixed(Math.max(...simvq64.map((e) => e.perplexity)), 1)} at most.`,
    `${range(simvq8.map((e) => 100 * e.utilization), (v) => fixed(v, 1))} % of the codes in epochs 2–4 at perplexity ${range(simvq8.map((e) => e.perplexity), (v) => fixed(v, 1))}`,
    `VQ chose under ${fixed(Math.ceil(1000 * Math.max(...vq.map((e) => e.utilization))) / 10, 1)} % of the codes in every epoch (perplexity ${fixed(Math.max(...vq.map((e) => e.perplexity)), 1)} at most)`,
  ]);
});

/** SimVQ's Table 2 on speech, as far as it has run: the five quantizers at K = 4,096 as the prose compares them. */
test('speech Table 2: issue 23\'s criteria at every K, and SimVQ against the other four at each, as the prose quotes it', () => {
  const view = results('speech-table2');
  const simvq = run(view, 'simvq-K4096-s0');
  const vq = run(view, 'vq-K4096-s0');
  const [ema, dead, fsq] = ['ema-K4096-s0', 'vq-deadCodeShare-0.16-K4096-s0', 'fsq-K4096-s0'].map((id) => run(view, id)) as [RunResult, RunResult, RunResult];
  const used = (r: RunResult): number => r.metrics.train_set!.used_codes;
  for (const r of [simvq, vq]) assert.deepEqual([(r.spec.quantizer as { dim?: number }).dim, r.curves.at(-1)!.values['step']], [8, 1460]);
  assertQuoted([
    `uses ${int(used(simvq))} of the codes over the training set (${fixed(100 * simvq.metrics.train_set!.utilization, 2)} %) where VQ uses ${int(used(vq))}, ${Math.round(used(simvq) / used(vq))} times as many`,
    `its held-out STOI is ${fixed(simvq.metrics['stoi']!, 3)} against VQ's ${fixed(vq.metrics['stoi']!, 3)}`,
    `In ${int(simvq.curves.at(-1)!.values['step']!)} steps`,
    `VQ with dead-code replacement uses more of its codes (${fixed(100 * dead.metrics.train_set!.utilization, 2)} %) at the same STOI (${fixed(dead.metrics['stoi']!, 3)})`,
    `FSQ, with ${fixed(100 * fsq.metrics.train_set!.utilization, 2)} % of its codes, has the best STOI (${fixed(fsq.metrics['stoi']!, 3)}), EMA-VQ the next (${fixed(ema.metrics['stoi']!, 3)}, ${fixed(100 * ema.metrics.train_set!.utilization, 2)} % of its codes)`,
  ]);
  assertQuoted([`(${(fsq.spec.quantizer.kind === 'fsq' ? fsq.spec.quantizer.levels : []).join('·')} = ${int(codebookSizeOf(fsq.spec.quantizer))} codes at K = 4,096)`]);
  const stoiOrder = [fsq, ema, simvq, dead, vq].map((r) => r.metrics['stoi']!);
  assert.deepEqual([...stoiOrder].sort((a, b) => b - a), stoiOrder, 'the STOI order the prose gives');
  assert.ok(dead.metrics.train_set!.utilization > simvq.metrics.train_set!.utilization && Math.abs(dead.metrics['stoi']! - simvq.metrics['stoi']!) < 0.005);
  assert.ok(used(simvq) >= 10 * used(vq) && simvq.metrics['stoi']! > vq.metrics['stoi']!, 'issue 23\'s criteria at K = 4,096');
  const [simvq1k, vq1k, ema1k, dead1k, fsq1k] = ['simvq', 'vq', 'ema', 'vq-deadCodeShare-0.16', 'fsq'].map((q) => run(view, `${q}-K1024-s0`)) as [RunResult, RunResult, RunResult, RunResult, RunResult];
  const share = (r: RunResult): string => fixed(100 * r.metrics.train_set!.utilization, 2);
  const stoi = (r: RunResult): string => fixed(r.metrics['stoi']!, 3);
  const mel = (r: RunResult): string => fixed(r.metrics['mel_distance']!, 3);
  assertQuoted([
    `At K = 1,024 SimVQ uses ${share(simvq1k)} % of the codes over the training set against VQ's ${share(vq1k)} %, at STOI ${stoi(simvq1k)} against ${stoi(vq1k)}`,
    `FSQ again has the best STOI (${stoi(fsq1k)}, ${share(fsq1k)} % of its ${int(codebookSizeOf(fsq1k.spec.quantizer))} codes), then VQ with dead-code replacement (${stoi(dead1k)}, ${share(dead1k)} %) and EMA-VQ (${stoi(ema1k)}, ${share(ema1k)} %), with SimVQ fourth`,
    `EMA-VQ is closest (${mel(ema1k)}) and FSQ (${mel(fsq1k)}) fourth, behind SimVQ (${mel(simvq1k)})`,
  ]);
  const stoi1k = [fsq1k, dead1k, ema1k, simvq1k, vq1k].map((r) => r.metrics['stoi']!);
  assert.deepEqual([...stoi1k].sort((a, b) => b - a), stoi1k, 'the STOI order at K = 1,024 the prose gives');
  const [simvq16k, vq16k, ema16k, dead16k, fsq16k] = ['simvq', 'vq', 'ema', 'vq-deadCodeShare-0.16', 'fsq'].map((q) => run(view, `${q}-K16384-s0`)) as [RunResult, RunResult, RunResult, RunResult, RunResult];
  assertQuoted([
    `SimVQ uses ${int(used(simvq16k))} codes over the training set (${share(simvq16k)} %) where VQ uses ${int(used(vq16k))}, at STOI ${stoi(simvq16k)} against ${stoi(vq16k)}`,
    `VQ with dead-code replacement ${share(dead16k)} %, FSQ ${share(fsq16k)} % of its ${int(codebookSizeOf(fsq16k.spec.quantizer))}, EMA-VQ ${share(ema16k)} %`,
    `FSQ has the best STOI there too (${stoi(fsq16k)}) and the lowest mel distance (${mel(fsq16k)}), then VQ with dead-code replacement (${stoi(dead16k)}), SimVQ and EMA-VQ (${stoi(ema16k)})`,
  ]);
  const at16k = [simvq16k, dead16k, fsq16k, ema16k, vq16k];
  assert.deepEqual([...at16k].sort((a, b) => b.metrics.train_set!.utilization - a.metrics.train_set!.utilization), at16k, 'the utilization order at K = 16,384 the prose gives');
  const stoi16k = [fsq16k, dead16k, simvq16k, ema16k, vq16k].map((r) => r.metrics['stoi']!);
  assert.deepEqual([...stoi16k].sort((a, b) => b - a), stoi16k, 'the STOI order at K = 16,384 the prose gives');
  assert.equal(Math.min(...at16k.map((r) => r.metrics['mel_distance']!)), fsq16k.metrics['mel_distance']);
  assert.ok(used(simvq16k) >= 10 * used(vq16k) && simvq16k.metrics['stoi']! > vq16k.metrics['stoi']!, 'issue 23\'s criteria at K = 16,384');
  // Issue 23's criteria over the whole table: ten times VQ's codes from K = 4,096 up, better STOI at every K.
  const sizes = [1024, 4096, 16384, 65536];
  const [simvqs, vqs] = ['simvq', 'vq'].map((q) => sizes.map((k) => run(view, `${q}-K${k}-s0`)));
  const list = (values: string[]): string => `${values.slice(0, -1).join(', ')} and ${values.at(-1)!}`;
  assertQuoted([
    `SimVQ uses ${list(sizes.map((_, i) => String(Math.round(used(simvqs![i]!) / used(vqs![i]!)))))} times VQ's codes at K = 1,024, 4,096, 16,384 and 65,536`,
    `its held-out STOI is above VQ's at each (${list(simvqs!.map(stoi))} against ${list(vqs!.map(stoi))})`,
    `VQ collapses as the image runs did: ${Math.min(...vqs!.map(used))} to ${Math.max(...vqs!.map(used))} codes at every K`,
    `SimVQ's share of its codes falls as K grows, ${list(simvqs!.map(share))} %`,
    `the number of codes it uses still grows with K (${simvqs!.map((r) => int(used(r))).join('; ')}), and so does its STOI`,
    `SimVQ uses ${int(used(simvqs![3]!))} codes over the training set (${share(simvqs![3]!)} %) where VQ uses ${int(used(vqs![3]!))}, at STOI ${stoi(simvqs![3]!)} against ${stoi(vqs![3]!)}`,
  ]);
  const ratios = sizes.map((_, i) => Math.round(used(simvqs![i]!) / used(vqs![i]!)));
  assertQuoted([`SimVQ uses ${Math.min(...ratios)} to ${Math.max(...ratios)} times VQ's codes and has the better STOI at every K from 1,024 to 65,536`]);
  sizes.forEach((k, i) => {
    if (k >= 4096) assert.ok(used(simvqs![i]!) >= 10 * used(vqs![i]!), `ten times VQ's codes at K = ${k}`);
    assert.ok(simvqs![i]!.metrics['stoi']! > vqs![i]!.metrics['stoi']!, `better STOI than VQ at K = ${k}`);
    if (i > 0) assert.ok(used(simvqs![i]!) > used(simvqs![i - 1]!) && simvqs![i]!.metrics['stoi']! > simvqs![i - 1]!.metrics['stoi']! && simvqs![i]!.metrics.train_set!.utilization < simvqs![i - 1]!.metrics.train_set!.utilization, `SimVQ's codes and STOI grow and its share falls up to K = ${k}`);
  });
  const [ema64k, dead64k] = ['ema', 'vq-deadCodeShare-0.16'].map((q) => run(view, `${q}-K65536-s0`)) as [RunResult, RunResult];
  assertQuoted([
    `VQ with dead-code replacement, which kept ${share(dead)} % at K = 4,096, falls to ${share(dead64k)} % here (STOI ${stoi(dead64k)}), and EMA-VQ uses ${share(ema64k)} %`,
    `EMA-VQ has the best STOI and mel distance of the three (${stoi(ema64k)} and ${mel(ema64k)}), with the fewest codes`,
  ]);
  const at64k = [simvqs![3]!, dead64k, ema64k];
  assert.deepEqual([...at64k].sort((a, b) => b.metrics.train_set!.utilization - a.metrics.train_set!.utilization), at64k, 'the utilization order at K = 65,536 the prose gives');
  assert.ok(at64k.every((r) => r === ema64k || (r.metrics['stoi']! < ema64k.metrics['stoi']! && r.metrics['mel_distance']! > ema64k.metrics['mel_distance']!)), 'EMA-VQ best of the three at K = 65,536');
  const fsq64k = run(view, 'fsq-K65536-s0');
  assertQuoted([
    `FSQ, with ${share(fsq64k)} % of its ${int(codebookSizeOf(fsq64k.spec.quantizer))} codes, has the best STOI of the five (${stoi(fsq64k)}), as at every K, and EMA-VQ keeps the lowest mel distance`,
    'FSQ, with fewer of its codes in use, has the best STOI at every K.',
  ]);
  for (const k of sizes) {
    const atK = view.runs.filter((r) => gridPointOf(r.spec).codebookSize === k);
    assert.equal(atK.length, 5, `five quantizers at K = ${k}`);
    const best = atK.reduce((a, b) => (b.metrics['stoi']! > a.metrics['stoi']! ? b : a));
    assert.equal(best.spec.quantizer.kind, 'fsq', `FSQ has the best STOI at K = ${k}`);
    assert.ok(used(best) < used(simvqs![sizes.indexOf(k)]!), `with fewer codes in use than SimVQ at K = ${k}`);
  }
  assert.ok(ema64k.metrics['mel_distance']! < fsq64k.metrics['mel_distance']!);
  const mel1k = [ema1k, dead1k, simvq1k, fsq1k, vq1k].map((r) => r.metrics['mel_distance']!);
  assert.deepEqual([...mel1k].sort((a, b) => a - b), mel1k, 'the mel-distance order at K = 1,024 the prose gives');
});

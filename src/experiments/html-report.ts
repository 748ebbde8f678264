/**
 * The experiment's report.html: settings, the mean ± std summary table, the summary figures
 * (inline SVG), reconstruction grids side by side (PNG as base64 data URIs), and per run its loss
 * curves, code-usage chart and reconstructions, laid out on the self-contained page of
 * `report/html-page.ts`.
 */
import { formatDuration, formatFixed, formatMeanStd } from '../report/format.js';
import { htmlPage, htmlTable, pngImage } from '../report/html-page.js';
import { escapeXml as esc } from '../report/svg.js';
import type { ExperimentDefinition, Figure } from './definition.js';
import { runLabel } from './run-figures.js';
import { gridPointOf } from './run-quantizer.js';
import { unique } from './stats.js';
import { describeRunThreads } from './results.js';
import { aggregate, metricsOf } from './summary.js';
import type { ExperimentResults, RunResult } from './types.js';

export interface RunFigures {
  readonly loss: string;
  readonly usage: string;
}

export interface HtmlReportInput {
  readonly results: ExperimentResults;
  readonly def: ExperimentDefinition;
  readonly figures: readonly Figure[];
  /** Per-run SVGs by run id. */
  readonly runFigures: ReadonlyMap<string, RunFigures>;
  /** PNG bytes by the run's `recon` path; missing grids are shown as such. */
  readonly images: ReadonlyMap<string, Uint8Array>;
}

function img(input: HtmlReportInput, r: RunResult, alt: string): string {
  const bytes = r.recon ? input.images.get(r.recon) : undefined;
  if (!bytes) return `<p class="note">no reconstruction grid</p>`;
  return pngImage(bytes, alt);
}

function settingsTable(results: ExperimentResults): string {
  const s = results.settings;
  const m = results.machine;
  const total = results.runs.reduce((t, r) => t + r.timing.train_seconds + r.timing.eval_seconds, 0);
  const rows: [string, string][] = [
    ['preset', results.preset],
    ['epochs', String(s.epochs)],
    ['training images', s.trainLimit === undefined ? 'all' : String(s.trainLimit)],
    ['test images', s.testLimit === undefined ? 'all' : String(s.testLimit)],
    ['seeds', s.seeds.join(', ')],
    ['β (unless swept)', String(s.beta)],
    ['learning rate / batch / code dim', [s.lr, s.batch, s.dim].map((v) => (v === undefined ? 'default' : String(v))).join(' / ')],
    ['ORT threads per run', describeRunThreads(results.runs)],
    ['machine', `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB.toFixed(0)} GiB, Node ${m.node} (${m.platform})`],
    ['runs', `${results.runs.length} completed`],
    ['total train + eval time', formatDuration(total)],
    ['started / finished', `${results.startedAt} / ${results.finishedAt ?? 'not finished'}`],
  ];
  return htmlTable(['setting', 'value'], rows, 2);
}

function summaryTable(input: HtmlReportInput): string {
  const { def, results } = input;
  const cells = aggregate(results.runs, (r) => def.xOf(r));
  const metrics = metricsOf(results.runs);
  const head = ['variant', def.xLabel, 'seeds', ...metrics.map((m) => m.label)];
  const rows = cells.map((c) => [
    c.variant, def.formatX(c.x), String(c.runs.length),
    ...metrics.map((m) => { const s = c.stats[m.key]!; return formatMeanStd(s.mean, s.std, s.n, m.digits); }),
  ]);
  return htmlTable(head, rows, 2);
}

function runsTable(input: HtmlReportInput): string {
  const { runs } = input.results;
  const metrics = metricsOf(runs);
  const speech = runs.some((r) => r.timing.audio_seconds_per_second !== undefined);
  const head = ['run', 'variant', 'K', 'β', 'seed', ...metrics.map((m) => m.label), ...(speech ? ['s audio/s'] : ['img/s'])];
  const rows = runs.map((r) => [
    r.spec.id, r.spec.variant, String(gridPointOf(r.spec).codebookSize), String(gridPointOf(r.spec).beta), String(r.spec.seed),
    ...metrics.map((m) => formatFixed(m.get(r), m.digits)),
    speech ? formatFixed(r.timing.audio_seconds_per_second, 1) : formatFixed(r.timing.images_per_second, 0),
  ]);
  return htmlTable(head, rows, 2);
}

/** Reconstruction grids of the first seed: one row per swept value, one column per variant. */
function reconGrid(input: HtmlReportInput): string {
  const { def, results } = input;
  const seed = results.runs[0]?.spec.seed;
  const runs = results.runs.filter((r) => r.spec.seed === seed);
  const variants = unique(runs.map((r) => r.spec.variant));
  const xs = unique(runs.map((r) => def.xOf(r)));
  const head = `<tr><th class="l">${esc(def.xLabel)}</th>${variants.map((v) => `<th>${esc(v)}</th>`).join('')}</tr>`;
  const rows = xs.map((x) => {
    const cells = variants.map((v) => {
      const r = runs.find((q) => q.spec.variant === v && def.xOf(q) === x);
      if (!r) return '<td></td>';
      return `<td>${img(input, r, runLabel(r))}<br><small>PSNR ${formatFixed(r.metrics.psnr, 2)} dB, utilization ${formatFixed(100 * r.metrics.utilization, 2)}%</small></td>`;
    });
    return `<tr><td class="l">${esc(def.formatX(x))}</td>${cells.join('')}</tr>`;
  });
  return `<p class="note">Seed ${esc(String(seed))}. Each grid shows test images and their reconstructions as laid out by the evaluator.</p>
<table class="recon-grid"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function runSections(input: HtmlReportInput): string {
  return input.results.runs.map((r) => {
    const f = input.runFigures.get(r.spec.id);
    return `<div class="run" id="run-${esc(r.spec.id)}"><h3>${esc(r.spec.id)} — ${esc(runLabel(r))}</h3>
<div class="row">${f ? `<figure class="loss">${f.loss}</figure><figure class="usage">${f.usage}</figure>` : ''}<figure>${img(input, r, runLabel(r))}</figure></div></div>`;
  }).join('\n');
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const { results, def } = input;
  const nSeeds = results.settings.seeds.length;
  const figures = input.figures.map((f) => `<figure class="summary-figure" id="fig-${esc(f.name)}">${f.svg}<figcaption>${esc(f.caption)}</figcaption></figure>`).join('\n');
  return htmlPage(results.title, `<p>${esc(def.description)}</p>
<h2>Settings</h2>
${settingsTable(results)}
<h2>Summary (mean ± std over ${nSeeds} seed${nSeeds === 1 ? '' : 's'})</h2>
${summaryTable(input)}
<h2>Figures</h2>
<div class="grid">
${figures}
</div>
<h2>Reconstructions</h2>
${reconGrid(input)}
<h2>Runs</h2>
${runsTable(input)}
${runSections(input)}`);
}

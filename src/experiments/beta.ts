/**
 * Experiment 3 — commitment weight β. β scales ‖z_e − sg(e)‖², pulling encoder outputs towards their
 * codes; the sweep shows how sensitive each quantizer's utilization and reconstruction are to it.
 */
import type { ExperimentDefinition } from './definition.js';
import { betaTag, codeDimension, commonSpec, fileTag, quantizerSpecFields } from './definition.js';
import { curveFigure, metricLineFigure, UTILIZATION_CURVE } from './figure-helpers.js';
import { gridPointOf } from './run-quantizer.js';
import { unique } from './stats.js';
import type { ExperimentSettings, RunSpec } from './types.js';

export const beta: ExperimentDefinition = {
  kind: 'beta',
  title: 'Commitment weight β: VQ vs SimVQ',
  description:
    'The commitment loss β·‖z_e − sg(e_k)‖² keeps encoder outputs close to their chosen codes. '
    + 'Vanilla VQ and SimVQ are trained at a fixed K for each β to see how utilization and reconstruction depend on it.',
  xLabel: 'β',
  xOf: (r) => gridPointOf(r.spec).beta,
  formatX: (x) => String(x),
  plan(s: ExperimentSettings): RunSpec[] {
    const runs: RunSpec[] = [];
    const k = s.size;
    for (const q of s.quantizers) {
      for (const b of s.betas) {
        for (const seed of s.seeds) {
          const { tag, ...quantizer } = quantizerSpecFields(q, 'beta', { codebookSize: k, beta: b }, codeDimension(s));
          runs.push({ id: `${tag}-K${k}-b${betaTag(b)}-s${seed}`, experiment: 'beta', variant: q, ...quantizer, seed, ...commonSpec(s) });
        }
      }
    }
    return runs;
  },
  figures(results) {
    const betas = unique(results.runs.map((r) => gridPointOf(r.spec).beta)).sort((a, b) => a - b);
    const x = { label: 'commitment weight β (log2 scale)', scale: 'log2' as const, ticks: betas };
    const figs = [
      metricLineFigure(beta, results, { name: 'utilization-vs-beta', metricKey: 'utilization', title: 'Test-set codebook utilization vs β', caption: 'Share of codes used on the test set (mean ± std across seeds).', x, y: { domain: [0, 100] } }),
      metricLineFigure(beta, results, { name: 'psnr-vs-beta', metricKey: 'psnr', title: 'Reconstruction PSNR vs β', caption: 'Test-set PSNR in dB.', x }),
      metricLineFigure(beta, results, { name: 'perplexity-vs-beta', metricKey: 'perplexity', title: 'Code perplexity vs β', caption: 'exp(entropy) of test-set code usage (at most K).', x }),
    ];
    for (const q of unique(results.runs.map((r) => r.spec.variant))) {
      figs.push(curveFigure(beta, results, { name: `train-utilization-${fileTag(q)}`, title: `Training-set utilization per epoch: ${q}`, caption: `${q}: utilization on the training batches per epoch, one line per β.`, ...UTILIZATION_CURVE, filter: (r) => r.spec.variant === q }));
    }
    return figs;
  },
};

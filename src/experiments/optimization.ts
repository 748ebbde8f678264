/**
 * Experiment 2 — what SimVQ should optimize. With codebook C·W the paper learns only W (the linear
 * layer) and keeps C frozen; learning C alone reduces to vanilla VQ in a rotated space (only chosen
 * rows of C move), and learning both lets C drift code by code again. Vanilla VQ is the baseline.
 */
import type { ExperimentDefinition } from './definition.js';
import { commonSpec } from './definition.js';
import { curveFigure, metricBarFigure } from './figure-helpers.js';
import { RECONSTRUCTION_LOSS_KEY, TRAIN_UTILIZATION_KEY } from './metrics-log.js';
import type { ExperimentSettings, RunSpec } from './types.js';

export const optimization: ExperimentDefinition = {
  kind: 'optimization',
  title: 'SimVQ: optimizing W, C or both (vs vanilla VQ) at fixed K',
  description:
    'SimVQ\'s codebook is C·W. The paper freezes the random C and learns only W, so every code moves whenever W does. '
    + 'Learning C instead (W fixed) updates only the codes that are chosen — like vanilla VQ — and learning both mixes the two. '
    + 'All variants use the same K; vanilla VQ is the baseline.',
  xLabel: 'K',
  xOf: (r) => r.spec.codebookSize,
  formatX: (x) => String(x),
  plan(s: ExperimentSettings): RunSpec[] {
    const runs: RunSpec[] = [];
    const k = s.size;
    for (const seed of s.seeds) {
      runs.push({ id: `vq-K${k}-s${seed}`, experiment: 'optimization', variant: 'vq', quantizer: 'vq', codebookSize: k, beta: s.beta, seed, ...commonSpec(s) });
      for (const opt of s.optimize) {
        runs.push({ id: `simvq-${opt}-K${k}-s${seed}`, experiment: 'optimization', variant: `simvq (${opt})`, quantizer: 'simvq', simvqOptimize: opt, codebookSize: k, beta: s.beta, seed, ...commonSpec(s) });
      }
    }
    // Group by variant (seeds adjacent) so tables and figures list variants in a stable order.
    const order = ['vq', ...s.optimize.map((o) => `simvq (${o})`)];
    return runs.sort((a, b) => order.indexOf(a.variant) - order.indexOf(b.variant) || a.seed - b.seed);
  },
  figures(results) {
    return [
      metricBarFigure(optimization, results, { name: 'utilization-by-variant', metricKey: 'utilization', title: 'Test-set codebook utilization by variant', caption: 'Share of codes used on the test set (mean ± std across seeds).', y: { domain: [0, 100] } }),
      metricBarFigure(optimization, results, { name: 'psnr-by-variant', metricKey: 'psnr', title: 'Reconstruction PSNR by variant', caption: 'Test-set PSNR in dB.' }),
      metricBarFigure(optimization, results, { name: 'perplexity-by-variant', metricKey: 'perplexity', title: 'Code perplexity by variant', caption: 'exp(entropy) of test-set code usage (at most K).' }),
      curveFigure(optimization, results, { name: 'train-utilization', title: 'Training-set utilization per epoch', caption: 'Utilization on the training batches per epoch (mean across seeds).', key: TRAIN_UTILIZATION_KEY, scale: 100, y: { label: 'utilization (%)', domain: [0, 100] } }),
      curveFigure(optimization, results, { name: 'train-recon-loss', title: 'Training reconstruction loss per epoch', caption: 'Mean reconstruction loss per epoch (mean across seeds; log scale).', key: RECONSTRUCTION_LOSS_KEY, y: { label: 'reconstruction loss', scale: 'log10' } }),
    ];
  },
};

/**
 * Experiment 2 — what SimVQ should optimize. With codebook C·W the paper learns only W (the linear
 * layer) and keeps C frozen; learning C alone reduces to vanilla VQ in a rotated space (only chosen
 * rows of C move), and learning both lets C drift code by code again. The baselines are the
 * `quantizers` of the settings (default vanilla VQ); 'vq:init=normal:initScale=0.125' is VQ with
 * SimVQ's N(0, 1/d) initialization at d = 64, the distribution the 'C' variant's codebook starts from.
 */
import type { ExperimentDefinition } from './definition.js';
import { codeDimension, commonSpec, quantizerSpecFields } from './definition.js';
import { curveFigure, metricBarFigure, RECONSTRUCTION_LOSS_CURVE, UTILIZATION_CURVE } from './figure-helpers.js';
import { gridPointOf, quantizerAt } from './run-quantizer.js';
import type { ExperimentSettings, RunSpec } from './types.js';

export const optimization: ExperimentDefinition = {
  kind: 'optimization',
  title: 'SimVQ: optimizing W, C or both (vs vanilla VQ) at fixed K',
  description:
    'SimVQ\'s codebook is C·W. The paper freezes the random C and learns only W, so every code moves whenever W does. '
    + 'Learning C instead (W fixed) updates only the codes that are chosen — like vanilla VQ — and learning both mixes the two. '
    + 'All variants use the same K; the baselines are the listed quantizers (vanilla VQ by default).',
  xLabel: 'K',
  xOf: (r) => gridPointOf(r.spec).codebookSize,
  formatX: (x) => String(x),
  plan(s: ExperimentSettings): RunSpec[] {
    const runs: RunSpec[] = [];
    const k = s.size;
    const at = { codebookSize: k, beta: s.beta };
    for (const seed of s.seeds) {
      for (const q of s.quantizers) {
        const { tag, ...quantizer } = quantizerSpecFields(q, 'codebookSize', at, codeDimension(s));
        runs.push({ id: `${tag}-K${k}-s${seed}`, experiment: 'optimization', variant: q, ...quantizer, seed, ...commonSpec(s) });
      }
      for (const opt of s.optimize) {
        runs.push({ id: `simvq-${opt}-K${k}-s${seed}`, experiment: 'optimization', variant: `simvq (${opt})`, ...quantizerAt('simvq', { optimize: opt }, at, codeDimension(s)), seed, ...commonSpec(s) });
      }
    }
    // Group by variant (seeds adjacent) so tables and figures list variants in a stable order.
    const order = [...s.quantizers, ...s.optimize.map((o) => `simvq (${o})`)];
    return runs.sort((a, b) => order.indexOf(a.variant) - order.indexOf(b.variant) || a.seed - b.seed);
  },
  figures(results) {
    return [
      metricBarFigure(optimization, results, { name: 'utilization-by-variant', metricKey: 'utilization', title: 'Test-set codebook utilization by variant', caption: 'Share of codes used on the test set (mean ± std across seeds).', y: { domain: [0, 100] } }),
      metricBarFigure(optimization, results, { name: 'psnr-by-variant', metricKey: 'psnr', title: 'Reconstruction PSNR by variant', caption: 'Test-set PSNR in dB.' }),
      metricBarFigure(optimization, results, { name: 'perplexity-by-variant', metricKey: 'perplexity', title: 'Code perplexity by variant', caption: 'exp(entropy) of test-set code usage (at most K).' }),
      curveFigure(optimization, results, { name: 'train-utilization', title: 'Training-set utilization per epoch', caption: 'Utilization on the training batches per epoch (mean across seeds).', ...UTILIZATION_CURVE }),
      curveFigure(optimization, results, { name: 'train-recon-loss', title: 'Training reconstruction loss per epoch', caption: 'Mean reconstruction loss per epoch (mean across seeds; log scale).', ...RECONSTRUCTION_LOSS_CURVE }),
    ];
  },
};

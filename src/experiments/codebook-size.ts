/**
 * Experiment 1 — codebook size. VQ, EMA-VQ and SimVQ on the reference MNIST VQ-VAE for growing K:
 * vanilla VQ's utilization is expected to fall as K grows (only chosen codes get gradient), while
 * SimVQ's codebook C·W moves as a whole through W and should stay near 100%. Any quantizer of the
 * registry can be a row (SimVQ's Table 1 at one K); FSQ takes the paper's levels for about K codes,
 * and its spec records the nominal K it stands in for.
 */
import type { ExperimentDefinition } from './definition.js';
import { codeDimension, commonSpec, fileTag, quantizerSpecFields } from './definition.js';
import { curveFigure, metricLineFigure, RECONSTRUCTION_LOSS_CURVE, UTILIZATION_CURVE } from './figure-helpers.js';
import { describeRunThreads } from './results.js';
import { gridPointOf } from './run-quantizer.js';
import { unique } from './stats.js';
import type { ExperimentSettings, RunSpec } from './types.js';

export const codebookSize: ExperimentDefinition = {
  kind: 'codebook-size',
  title: 'Codebook size: utilization of VQ, EMA-VQ and SimVQ as K grows',
  description:
    'Each quantizer is trained on the reference MNIST VQ-VAE for every codebook size K. Utilization is the share of the K codes '
    + 'that at least one test-set latent vector chooses; perplexity is exp(entropy) of the test-set code distribution (at most K). '
    + 'Representation collapse shows as utilization falling with K for vanilla VQ; SimVQ (codebook C·W, C frozen random, W learned) '
    + 'is expected to stay near 100%.',
  xLabel: 'K',
  xOf: (r) => gridPointOf(r.spec).codebookSize,
  formatX: (x) => String(x),
  plan(s: ExperimentSettings): RunSpec[] {
    const runs: RunSpec[] = [];
    for (const k of s.sizes) {
      for (const q of s.quantizers) {
        for (const seed of s.seeds) {
          const { tag, ...quantizer } = quantizerSpecFields(q, 'codebookSize', { codebookSize: k, beta: s.beta }, codeDimension(s));
          runs.push({ id: `${tag}-K${k}-s${seed}`, experiment: 'codebook-size', variant: q, ...quantizer, seed, ...commonSpec(s) });
        }
      }
    }
    return runs;
  },
  figures(results) {
    const ks = unique(results.runs.map((r) => gridPointOf(r.spec).codebookSize)).sort((a, b) => a - b);
    const kAxis = { label: 'codebook size K (log2 scale)', scale: 'log2' as const };
    // With N test latents not every code can be observed once K is comparable to N (never more
    // than N codes); under uniformly random use the expected share hit at least once is 1 − (1 − 1/K)^N.
    const n = Math.max(0, ...results.runs.map((r) => r.usage.reduce((t, [c, m]) => t + c * m, 0)));
    const ceiling = n > 0 ? [{
      label: 'uniform random', dashed: true, markers: false, color: '#999',
      points: ks.map((k) => ({ x: k, y: 100 * (1 - Math.exp(n * Math.log1p(-1 / k))) })),
    }] : [];
    const speech = results.runs.some((r) => r.metrics.stoi !== undefined);
    const figs = [
      metricLineFigure(codebookSize, results, {
        name: 'utilization-vs-k', metricKey: 'utilization', title: 'Test-set codebook utilization vs K',
        caption: `Share of codes used on the test set (mean ± std across seeds). Dashed: the expected share if all ${n} test latents picked codes uniformly at random, 1 − (1 − 1/K)^${n}; no quantizer can show more than ${n}/K.`,
        x: kAxis, y: { domain: [0, 100] }, extra: ceiling,
      }),
      metricLineFigure(codebookSize, results, {
        name: 'used-codes-vs-k', metricKey: 'usedCodes', title: 'Codes used on the test set vs K (log–log)',
        caption: 'Number of distinct codes chosen on the test set. Collapse shows as a flat line: adding codes adds no used codes. Dashed: all K codes.',
        x: kAxis, y: { scale: 'log2' },
        extra: [{ label: 'all K codes', points: ks.map((k) => ({ x: k, y: k })), dashed: true, markers: false, color: '#999' }],
      }),
      metricLineFigure(codebookSize, results, {
        name: 'train-utilization-vs-k', metricKey: 'trainUtilization', title: 'Training-set utilization vs K',
        caption: 'Share of codes the trained model chooses at least once over the whole training set — every training latent counts, so unlike the test-set figure this is not capped by the sample size.',
        x: kAxis, y: { domain: [0, 100] },
      }),
      metricLineFigure(codebookSize, results, {
        name: 'train-used-codes-vs-k', metricKey: 'trainUsedCodes', title: 'Codes used on the training set vs K (log–log)',
        caption: 'Number of distinct codes the trained model chooses over the whole training set. Dashed: all K codes.',
        x: kAxis, y: { scale: 'log2' },
        extra: [{ label: 'all K codes', points: ks.map((k) => ({ x: k, y: k })), dashed: true, markers: false, color: '#999' }],
      }),
      ...(speech ? [
        // SimVQ's Table 2 on speech: intelligibility, waveform fidelity and spectral distance.
        metricLineFigure(codebookSize, results, {
          name: 'stoi-vs-k', metricKey: 'stoi', title: 'STOI of the decoded test utterances vs K',
          caption: 'Short-time objective intelligibility (Taal et al. 2011), mean over the held-out utterances (higher is better).', x: kAxis,
        }),
        metricLineFigure(codebookSize, results, {
          name: 'si-snr-vs-k', metricKey: 'siSnr', title: 'SI-SNR vs K',
          caption: 'Scale-invariant signal-to-noise ratio in dB, mean over the held-out utterances (higher is better).', x: kAxis,
        }),
        metricLineFigure(codebookSize, results, {
          name: 'mel-distance-vs-k', metricKey: 'melDistance', title: 'Mel distance vs K',
          caption: 'Multi-resolution log-mel distance, mean over the held-out utterances (lower is better).', x: kAxis,
        }),
      ] : [
        metricLineFigure(codebookSize, results, {
          name: 'psnr-vs-k', metricKey: 'psnr', title: 'Reconstruction PSNR vs K',
          caption: 'Test-set PSNR in dB (higher is better).', x: kAxis,
        }),
      ]),
      metricLineFigure(codebookSize, results, {
        name: 'perplexity-vs-k', metricKey: 'perplexity', title: 'Code perplexity vs K',
        caption: 'exp(entropy) of test-set code usage; the dashed line is the ideal, perplexity = K.', x: kAxis, y: { scale: 'log2' },
        extra: [{ label: 'ideal (= K)', points: ks.map((k) => ({ x: k, y: k })), dashed: true, markers: false, color: '#999' }],
      }),
      metricLineFigure(codebookSize, results, {
        name: 'train-time-vs-k', metricKey: 'trainSeconds', title: 'Training wall time vs K',
        caption: `Training wall time per run in seconds on ${results.machine.cpus} cores (${describeRunThreads(results.runs)} ORT thread(s) per run, see results.csv). The machine was shared with other work, at times another run, so differences of a few tens of percent are noise.`, x: kAxis,
      }),
    ];
    const variants = unique(results.runs.map((r) => r.spec.variant));
    if (ks.length === 1 && variants.length > 1) {
      // One K (quantizers trained until they plateau): every quantizer's curve on one chart.
      figs.push(
        curveFigure(codebookSize, results, {
          name: 'train-utilization', title: `Training-set utilization per epoch, K = ${ks[0]}`,
          caption: 'Utilization on the training batches per epoch, one line per quantizer (mean across seeds).',
          ...UTILIZATION_CURVE,
        }),
        curveFigure(codebookSize, results, {
          name: 'train-recon-loss', title: `Training reconstruction loss per epoch, K = ${ks[0]}`,
          caption: 'Mean reconstruction loss of the training batches per epoch, one line per quantizer (mean across seeds; log scale).',
          ...RECONSTRUCTION_LOSS_CURVE,
        }),
      );
      return figs;
    }
    // Otherwise each quantizer has its own chart, one line per K.
    for (const q of variants) {
      figs.push(curveFigure(codebookSize, results, {
        name: `train-utilization-${fileTag(q)}`, title: `Training-set utilization per epoch: ${q}`,
        caption: `How ${q}'s utilization on the training batches evolves, one line per K (mean across seeds).`,
        ...UTILIZATION_CURVE, filter: (r) => r.spec.variant === q,
      }));
    }
    return figs;
  },
};

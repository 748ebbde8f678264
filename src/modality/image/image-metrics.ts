/**
 * Reconstruction metrics of images in [0, 1] (reconstructions clamped to [0, 1], as displayed):
 *
 *   mse   mean of (x − x̂)² over every pixel of every image (dataset-level)
 *   psnr  10·log10(1 / mse) with that dataset-level mse (not a mean of per-image PSNRs)
 *   ssim  mean over images of the Gaussian-window SSIM (see ssim.ts)
 *
 * Accumulated batch by batch in the order of the set, so the sums run in the same order whatever
 * the batch size.
 */
import type { ImageShape } from '../../models/model.js';
import type { MetricAccumulator, MetricOptions, ReconstructionMetrics } from '../modality.js';
import { ssimPerImage } from './ssim.js';

/** PSNR in dB of a mean squared error on [0, 1] data; Infinity for a perfect reconstruction. */
export function psnrFromMse(mse: number): number {
  return mse > 0 ? 10 * Math.log10(1 / mse) : Infinity;
}

export interface ImageMetrics extends ReconstructionMetrics {
  readonly psnr: number;
  /** NaN when skipped (`slow: false`). */
  readonly ssim: number;
}

export function imageMetrics(shape: ImageShape, options: MetricOptions): Omit<MetricAccumulator, 'result'> & { result(): ImageMetrics } {
  const imageSize = shape.channels * shape.height * shape.width;
  let squaredError = 0;
  let ssimSum = 0;
  let images = 0;
  return {
    add(originals, reconstructions, count) {
      for (let i = 0; i < count * imageSize; i++) {
        const d = reconstructions[i]! - originals[i]!;
        squaredError += d * d;
      }
      if (options.slow) for (const s of ssimPerImage(originals, reconstructions, count, shape)) ssimSum += s;
      images += count;
    },
    result(): ImageMetrics {
      const mse = squaredError / (images * imageSize);
      return { mse, psnr: psnrFromMse(mse), ssim: options.slow ? ssimSum / images : Number.NaN };
    },
  };
}

/** 'mse 0.01234 psnr 19.09 dB ssim 0.812', as the training log prints test metrics. */
export function describeImageMetrics(m: ReconstructionMetrics): string {
  return `mse ${m.mse.toFixed(5)} psnr ${m.psnr.toFixed(2)} dB ssim ${m.ssim.toFixed(3)}`;
}

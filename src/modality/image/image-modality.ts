/**
 * The image modality: NCHW pixels in [0, 1] from the loaders of data/ (bundled MNIST, IDX,
 * CIFAR-10, folders of PNG/JPEG), the 'reference-mnist' and 'conv' families of models/, mean
 * squared error as the reconstruction loss (van den Oord et al. 2017, eq. 3), MSE, PSNR and SSIM
 * as metrics, PNG/JPEG files as encoder input, PNG files as decoder output, and a PNG grid of
 * originals above reconstructions as the preview.
 */
import { BatchIterator, type ImageDataset } from '../../data/index.js';
import { describeNamedDatasets } from '../../data/named-datasets.js';
import { loadEvalSet, loadRunData } from '../../data/selection.js';
import { mseLoss } from '../../graph/composites.js';
import { encodePng } from '../../images/encode-png.js';
import { readImageFileHeader } from '../../images/image-file-header.js';
import { checkImagePixels } from '../../images/image-header.js';
import { imageInputOf, makeModelConfig, MODEL_KINDS, type ModelConfig } from '../../models/config.js';
import { clampToUnit } from '../../models/forward.js';
import type { Modality } from '../modality.js';
import { reconstructionGrid } from './image-grid.js';
import { describeImageMetrics, imageMetrics } from './image-metrics.js';
import { readModelInput } from './model-input.js';
import { SSIM_WINDOW } from './ssim.js';

function exampleDims(config: ModelConfig): [number, number, number] {
  const { channels, height, width } = imageInputOf(config);
  return [channels, height, width];
}

export const imageModality: Modality<ImageDataset> = {
  name: 'image',
  examples: 'images',

  recognizesData: () => false,
  dataHelp: `dataset: IDX dir, CIFAR-10 dir/.bin, image folder, or a name: ${describeNamedDatasets()} (default: bundled MNIST)`,
  requestProblem(r) {
    if (r.imageSize === undefined || r.imageSize >= SSIM_WINDOW) return undefined;
    return `--image-size ${r.imageSize} is smaller than the ${SSIM_WINDOW}×${SSIM_WINDOW} window of SSIM, one of the test metrics; use ${SSIM_WINDOW} or more`;
  },
  loadRunData: (r) => loadRunData(r.path, { trainLimit: r.trainLimit, testLimit: r.testLimit, shape: r.config !== undefined ? imageInputOf(r.config) : undefined, imageSize: r.imageSize, limits: r.limits }),
  loadEvalSet: (r) => loadEvalSet(r.path, imageInputOf(r.config), r.split, r.limit, r.limits),
  testSetProblem(test) {
    if (Math.min(test.height, test.width) >= SSIM_WINDOW) return undefined;
    return `images of ${test.height}×${test.width} pixels are smaller than the ${SSIM_WINDOW}×${SSIM_WINDOW} window of SSIM, one of the test metrics; use --image-size ${SSIM_WINDOW} or more`;
  },
  batches: (set, batchSize, seed, options) => new BatchIterator(set, batchSize, seed, options),
  valuesFor(set, config) {
    const { channels, height, width } = imageInputOf(config);
    if (set.channels !== channels || set.height !== height || set.width !== width) {
      throw new Error(`images are ${set.channels}×${set.height}×${set.width} but the model expects ${channels}×${height}×${width}`);
    }
    if (set.count < 1) throw new Error('cannot evaluate on an empty image set');
    return set.images.subarray(0, set.count * channels * height * width);
  },

  modelKinds: MODEL_KINDS,
  defaultModel: MODEL_KINDS[0]!,
  modelConfig: (set, choice) => makeModelConfig({ ...choice, input: { channels: set.channels, height: set.height, width: set.width } }),
  exampleDims,
  maxEvalBatch: () => Infinity,
  throughput: { key: 'img_per_s', unit: 'img/s', perExample: () => 1 },
  signalName: 'image',
  validOutput: clampToUnit,

  losses: { mse: () => mseLoss },
  defaultLoss: 'mse',

  metrics: (config, options) => imageMetrics(imageInputOf(config), options),
  describeMetrics: describeImageMetrics,

  checkInputFile: (file, limits) => checkImagePixels(readImageFileHeader(file), file, limits),
  readInput: (file, config, fit, limits) => readModelInput(file, imageInputOf(config), fit, limits),
  sequence: false,
  outputExtension: '.png',
  encodeOutput: (values, config) => encodePng(values, imageInputOf(config)),
  preview: (originals, reconstructions, count, config) => reconstructionGrid(originals, reconstructions, count, imageInputOf(config)),
  previewName: (split) => (split === 'test' ? 'recon.png' : 'recon-train.png'),
};

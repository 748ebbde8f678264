/** The data loaders' public surface, for `import … from './data/index.js'`. */
export { DataError } from './errors.js';
export {
  type ImageDataset, type DatasetFields, makeDataset, imageSize, imageAt, subset, splitTrainTest, concatDatasets,
  describe, unitFromBytes,
} from './dataset.js';
export { loadBundledMnist } from './mnist-bundled.js';
export { loadIdx, parseIdxImages, parseIdxLabels, findIdxFiles, type IdxImages, type IdxDirectory, type IdxFilePair } from './idx.js';
export { loadCifarFiles, parseCifarBatch, findCifarFiles, CIFAR10_CLASSES, type CifarDirectory } from './cifar.js';
export { loadImageFolder, listImageFiles, parseSize, IMAGE_EXTENSIONS, type ImageFolderOptions } from './image-folder.js';
export { resizeDataset, convertChannels } from './transform.js';
export { loadDataset, loadDatasetSplit, defaultTestCount, type LoadOptions, type LoadedDataset, type DatasetFormat } from './load.js';
export {
  BatchIterator, type BatchIteratorOptions, type BatchPosition, type TrainingBatch,
} from './batches.js';

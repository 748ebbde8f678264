/**
 * Datasets known by name, so `--data fashion-mnist` works without the user knowing where a system
 * package put the files. A name is only a name when no file or directory of that name exists in
 * the working directory: a local path always wins, so a folder called `fashion-mnist` is read as
 * itself.
 *
 * Fashion-MNIST (Xiao et al., 2017): 60,000 training and 10,000 test images, 28×28 grayscale, in
 * MNIST's IDX format; Debian ships it as `dataset-fashion-mnist` under /usr/share/datasets.
 */
import { DataError } from './errors.js';
import { findIdxFiles } from './idx.js';
import { pathKind } from './read-file.js';

export interface NamedDataset {
  /** One line for --help. */
  readonly description: string;
  /** Directories searched in order; the first holding both train and test IDX files is used. */
  readonly locations: readonly string[];
  /** How to install it, for the error when it is missing. */
  readonly install: string;
}

export const NAMED_DATASETS: Readonly<Record<string, NamedDataset>> = {
  'fashion-mnist': {
    description: 'Fashion-MNIST, 60,000 train / 10,000 test 28×28 grayscale images',
    locations: ['/usr/share/datasets/fashion-mnist'],
    install: 'apt-get install -y dataset-fashion-mnist',
  },
};

/**
 * The path to load for `data`: a known dataset name becomes the directory where it is installed;
 * anything else (and a name shadowed by a local path) is returned unchanged. A known name that is
 * not installed throws a DataError saying how to install it.
 */
export function locateDataset(data: string, known: Readonly<Record<string, NamedDataset>> = NAMED_DATASETS): string {
  const named = known[data];
  if (named === undefined || pathKind(data) !== undefined) return data;
  for (const dir of named.locations) {
    if (pathKind(dir) !== 'directory') continue;
    const idx = findIdxFiles(dir);
    if (idx.train !== undefined && idx.test !== undefined) return dir;
  }
  throw new DataError(`dataset '${data}' is not installed (looked in ${named.locations.join(', ')}); install it with: ${named.install}`);
}

/** "fashion-mnist (…)" lines for help texts. */
export function describeNamedDatasets(): string {
  return Object.entries(NAMED_DATASETS).map(([name, d]) => `${name} (${d.description})`).join('; ');
}

/**
 * Feeding a dataset to training and evaluation as NCHW float32 batches.
 *
 * Training order: epoch e visits the images in a permutation drawn from an Rng seeded by
 * (seed, e) alone, so training can resume at any (epoch, batch) position and see exactly the
 * batches an uninterrupted run would have seen.
 *
 * Double buffering: the iterator owns two preallocated batch buffers. Right after `next()` hands
 * out one, it schedules (setImmediate) filling the other with the following batch, so the copy
 * happens while the caller awaits something else. Note that onnxruntime-node runs a session
 * synchronously on the main thread (inside its own setImmediate), so with ORT the fill runs just
 * before the run rather than beside it; it is a memcpy-sized cost either way. If the caller asks
 * again before the event loop got to the prefetch, the batch is filled on the spot; the result is
 * identical either way.
 */
import { Rng } from '../init/rng.js';
import { imageSize, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';

export interface BatchPosition {
  /** Epoch number, from 0. */
  readonly epoch: number;
  /** Batch index within the epoch, from 0. */
  readonly batch: number;
}

export interface TrainingBatch {
  /** rows × channels × height × width values; a view of an iterator-owned buffer (see BatchIterator). */
  readonly data: Float32Array;
  /** [rows, channels, height, width]. */
  readonly shape: readonly [number, number, number, number];
  /** Images in this batch (= batchSize except a short last batch when dropLast is false). */
  readonly rows: number;
  readonly epoch: number;
  /** Index of this batch within its epoch. */
  readonly index: number;
  /** Dataset indices of the rows, in order (a view; do not modify). */
  readonly indices: Uint32Array;
  /** Labels of the rows, when the dataset has labels (iterator-owned, same lifetime as data). */
  readonly labels?: Uint8Array | undefined;
}

export interface BatchIteratorOptions {
  /** Drop the incomplete last batch of each epoch (default true, the usual choice for training). */
  readonly dropLast?: boolean;
  /** Where to start, for resuming (default epoch 0, batch 0). */
  readonly start?: BatchPosition;
  /** Prepare the next batch in the background after each next() (default true). */
  readonly prefetch?: boolean;
  /**
   * Makes row `index` of the dataset for epoch `epoch` in `into` (channels × height × width values)
   * instead of copying it from `dataset.images`: for rows drawn afresh each epoch, such as random
   * crops of longer examples. It must depend on (index, epoch) alone, so a resumed run sees the
   * same batches.
   */
  readonly makeRow?: ((index: number, epoch: number, into: Float32Array) => void) | undefined;
}

/** The seed of epoch e's permutation: a 64-bit mix of the run seed and e, distinct for every e < 2³². */
function epochSeed(seed: number, epoch: number): number {
  const base = new Rng(seed);
  const hi = base.nextUint32();
  const lo = base.nextUint32();
  // Rng seeds go through SplitMix64, so neighbouring values already give unrelated streams.
  return ((hi ^ Math.imul(epoch, 0x9e3779b9)) >>> 0) * 4294967296 + ((lo + epoch) >>> 0);
}

/**
 * Shuffled training batches, epoch after epoch, with double buffering.
 *
 * Buffer contract: the `data` (and `labels`) of a batch returned by `next()` stay valid until the
 * next call to `next()`. That call returns the other buffer and then refills this one with the
 * batch after, in the background. So: finish with a batch (e.g. await the run that reads it)
 * before asking for the next, and copy it if you need to keep it longer.
 */
export class BatchIterator {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Batches in every epoch. */
  readonly batchesPerEpoch: number;

  private readonly prefetchEnabled: boolean;
  private readonly makeRow: BatchIteratorOptions['makeRow'];
  private readonly rowSize: number;
  private readonly buffers: [Float32Array, Float32Array];
  private readonly labelBuffers: [Uint8Array, Uint8Array] | undefined;
  /** Buffer the next batch goes into. */
  private slot = 0;
  private epochNo: number;
  private batchNo: number;
  /** Permutations of the last two epochs asked for (the current one and, at a boundary, the next). */
  private readonly orders = new Map<number, Uint32Array>();
  /** A batch already prepared in `slot`, for this position. */
  private ready: BatchPosition | undefined;
  private pending: NodeJS.Immediate | undefined;

  constructor(dataset: ImageDataset, batchSize: number, seed: number, options: BatchIteratorOptions = {}) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new DataError(`batch size must be a positive integer, got ${batchSize}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.seed = seed;
    this.dropLast = options.dropLast ?? true;
    this.prefetchEnabled = options.prefetch ?? true;
    this.makeRow = options.makeRow;
    this.batchesPerEpoch = this.dropLast ? Math.floor(dataset.count / batchSize) : Math.ceil(dataset.count / batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new DataError(
        `dataset ${dataset.name} has ${dataset.count} images, fewer than one batch of ${batchSize}; use a batch size of at most ${dataset.count} or more data`,
      );
    }
    this.rowSize = imageSize(dataset);
    const size = Math.min(batchSize, dataset.count) * this.rowSize;
    this.buffers = [new Float32Array(size), new Float32Array(size)];
    this.labelBuffers = dataset.labels !== undefined ? [new Uint8Array(batchSize), new Uint8Array(batchSize)] : undefined;
    this.epochNo = 0;
    this.batchNo = 0;
    this.seek(options.start ?? { epoch: 0, batch: 0 });
  }

  /** The position of the batch the next call to next() returns (save it to resume later). */
  get position(): BatchPosition {
    return { epoch: this.epochNo, batch: this.batchNo };
  }

  /** Moves to a position; the batches from there on are the same as in an uninterrupted run. */
  seek(position: BatchPosition): void {
    const { epoch, batch } = position;
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(batch) || batch < 0 || batch > this.batchesPerEpoch) {
      throw new DataError(`cannot resume at epoch ${epoch}, batch ${batch}: an epoch has batches 0–${this.batchesPerEpoch - 1}; check the checkpoint matches this dataset and batch size`);
    }
    this.cancelPrefetch();
    this.epochNo = epoch;
    this.batchNo = batch;
    this.normalize();
  }

  /** The order in which epoch `epoch` visits the dataset (a function of seed and epoch only). */
  order(epoch: number): Uint32Array {
    let order = this.orders.get(epoch);
    if (order === undefined) {
      order = new Rng(epochSeed(this.seed, epoch)).permutation(this.dataset.count);
      if (this.orders.size >= 2) this.orders.delete(this.orders.keys().next().value!);
      this.orders.set(epoch, order);
    }
    return order;
  }

  /** The next batch; rolls over into the next epoch after the last batch of an epoch. */
  next(): TrainingBatch {
    const pos = this.position;
    const slot = this.slot;
    if (this.ready === undefined || this.ready.epoch !== pos.epoch || this.ready.batch !== pos.batch) {
      this.cancelPrefetch();
      this.fill(pos, slot);
    }
    this.ready = undefined;
    this.pending = undefined;
    const batch = this.view(pos, slot);

    this.batchNo++;
    this.normalize();
    this.slot = 1 - slot;
    if (this.prefetchEnabled) {
      const upcoming = this.position;
      const target = this.slot;
      this.pending = setImmediate(() => {
        this.pending = undefined;
        this.fill(upcoming, target);
        this.ready = upcoming;
      });
    }
    return batch;
  }

  /**
   * The remaining batches of the current epoch (all of them at an epoch start); afterwards the
   * position is the start of the next epoch. Same buffer contract as next().
   */
  *epochBatches(): Generator<TrainingBatch, void, undefined> {
    const epoch = this.epochNo;
    while (this.epochNo === epoch) yield this.next();
  }

  /** Drops a scheduled background fill (call when abandoning the iterator mid-epoch). */
  close(): void {
    this.cancelPrefetch();
  }

  private cancelPrefetch(): void {
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = undefined;
    this.ready = undefined;
  }

  private normalize(): void {
    if (this.batchNo >= this.batchesPerEpoch) {
      this.epochNo++;
      this.batchNo = 0;
    }
  }

  private rowsAt(pos: BatchPosition): { start: number; rows: number } {
    const start = pos.batch * this.batchSize;
    return { start, rows: Math.min(this.batchSize, this.dataset.count - start) };
  }

  private fill(pos: BatchPosition, slot: number): void {
    const { start, rows } = this.rowsAt(pos);
    const order = this.order(pos.epoch);
    const buf = this.buffers[slot];
    const labels = this.labelBuffers?.[slot];
    const n = this.rowSize;
    const src = this.dataset.images;
    for (let r = 0; r < rows; r++) {
      const i = order[start + r];
      if (this.makeRow !== undefined) this.makeRow(i, pos.epoch, buf.subarray(r * n, (r + 1) * n));
      else buf.set(src.subarray(i * n, (i + 1) * n), r * n);
      if (labels !== undefined) labels[r] = this.dataset.labels![i];
    }
  }

  private view(pos: BatchPosition, slot: number): TrainingBatch {
    const { start, rows } = this.rowsAt(pos);
    const ds = this.dataset;
    const labels = this.labelBuffers?.[slot];
    return {
      data: rows * this.rowSize === this.buffers[slot].length ? this.buffers[slot] : this.buffers[slot].subarray(0, rows * this.rowSize),
      shape: [rows, ds.channels, ds.height, ds.width],
      rows,
      epoch: pos.epoch,
      index: pos.batch,
      indices: this.order(pos.epoch).subarray(start, start + rows),
      labels: labels?.subarray(0, rows),
    };
  }
}

/**
 * Running a program compiled for a fixed batch over any number of rows. ONNX graphs here have
 * static shapes (one compiled session per shape), so rows are fed as whole batches of `batchRows`:
 * the last batch is padded, and the caller reads back only the first `count` rows of each result.
 */

export type RowArray = Float32Array | BigInt64Array;

/** How the tail of the last batch is filled: zeros, or copies of the batch's first row (which keeps inputs valid where zeros are not). */
export type Padding = 'zeros' | 'first-row';

/**
 * Calls `run(batch, start, count)` for consecutive batches of `rows` (row-major, `rowSize` values a
 * row): `batch` always holds `batchRows` rows, of which the first `count` are rows `start …
 * start + count − 1`. One buffer is reused, so `run` must be done with it when its promise settles.
 */
export async function forEachFixedBatch<T extends RowArray>(
  rows: T,
  rowSize: number,
  batchRows: number,
  run: (batch: T, start: number, count: number) => Promise<void>,
  padding: Padding = 'zeros',
): Promise<void> {
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`batch must be a positive integer, got ${batchRows}`);
  if (!Number.isInteger(rowSize) || rowSize < 1 || rows.length % rowSize !== 0) {
    throw new RangeError(`${rows.length} values are not a whole number of rows of ${rowSize}`);
  }
  const total = rows.length / rowSize;
  const batch = (rows instanceof BigInt64Array ? new BigInt64Array(batchRows * rowSize) : new Float32Array(batchRows * rowSize)) as T;
  for (let start = 0; start < total; start += batchRows) {
    const count = Math.min(batchRows, total - start);
    (batch as RowArray).set(rows.subarray(start * rowSize, (start + count) * rowSize) as never);
    if (count < batchRows) {
      if (padding === 'first-row') {
        for (let r = count; r < batchRows; r++) batch.copyWithin(r * rowSize, 0, rowSize);
      } else if (batch instanceof BigInt64Array) {
        batch.fill(0n, count * rowSize);
      } else {
        (batch as Float32Array).fill(0, count * rowSize);
      }
    }
    await run(batch, start, count);
  }
}

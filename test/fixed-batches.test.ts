import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachFixedBatch } from '../src/runtime/fixed-batches.js';

/** Every batch as [start, count, values], copied while current (the helper reuses one buffer). */
async function collect(rows: Float32Array | BigInt64Array, rowSize: number, batch: number, padding?: 'zeros' | 'first-row') {
  const seen: [number, number, (number | bigint)[]][] = [];
  await forEachFixedBatch(rows, rowSize, batch, async (b, start, count) => {
    seen.push([start, count, [...b]]);
  }, padding);
  return seen;
}

test('fixed batches: rows in order, full-size batches, the tail padded with zeros or the first row', async () => {
  const rows = Float32Array.from([1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7]);
  assert.deepEqual(await collect(rows, 2, 3), [
    [0, 3, [1, -1, 2, -2, 3, -3]],
    [3, 3, [4, -4, 5, -5, 6, -6]],
    [6, 1, [7, -7, 0, 0, 0, 0]],
  ]);
  assert.deepEqual((await collect(rows, 2, 3, 'first-row'))[2], [6, 1, [7, -7, 7, -7, 7, -7]]);
  // A batch larger than the rows: one padded batch. Integer rows keep their type.
  assert.deepEqual(await collect(BigInt64Array.from([5n, 6n]), 1, 4), [[0, 2, [5n, 6n, 0n, 0n]]]);
  assert.deepEqual(await collect(new Float32Array(0), 2, 3), [], 'no rows, no batches');
});

test('fixed batches: a length that is not whole rows, or a bad batch size, is refused', async () => {
  await assert.rejects(forEachFixedBatch(new Float32Array(5), 2, 3, async () => {}), /5 values are not a whole number of rows of 2/);
  await assert.rejects(forEachFixedBatch(new Float32Array(4), 2, 0, async () => {}), /batch must be a positive integer, got 0/);
});

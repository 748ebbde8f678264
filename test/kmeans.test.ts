/**
 * k-means's shortcuts for more codes than vectors (src/quantizers/kmeans.ts) change no result:
 * the centres equal, bit for bit, those of the plain algorithm written out here (k-means++ seeding
 * measuring every distance, Lloyd assignments over every centre), with and without duplicate rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/init/rng.js';
import { kmeans } from '../src/quantizers/index.js';

function plainKmeans(x: Float32Array, d: number, k: number, iterations: number, seed: number): Float32Array {
  const m = x.length / d;
  const rng = new Rng(seed);
  const centers = new Float64Array(k * d);
  const take = (row: number, c: number): void => {
    for (let j = 0; j < d; j++) centers[c * d + j] = x[row * d + j]!;
  };
  const distance = (i: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x[i * d + j]! - centers[c * d + j]!;
      s += t * t;
    }
    return s;
  };
  take(rng.int(m), 0);
  const nearest = new Float64Array(m).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < m; i++) {
      nearest[i] = Math.min(nearest[i]!, distance(i, c - 1));
      total += nearest[i]!;
    }
    let row = rng.int(m);
    if (total > 0) {
      let target = rng.uniform() * total;
      for (let i = 0; i < m; i++) {
        target -= nearest[i]!;
        if (target < 0) { row = i; break; }
      }
    }
    take(row, c);
  }
  for (let it = 0; it < iterations; it++) {
    const sums = new Float64Array(k * d);
    const sizes = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      let best = Infinity;
      let index = 0;
      for (let c = 0; c < k; c++) {
        const s = distance(i, c);
        if (s < best) { best = s; index = c; }
      }
      sizes[index]! += 1;
      for (let j = 0; j < d; j++) sums[index * d + j]! += x[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) continue;
      for (let j = 0; j < d; j++) centers[c * d + j] = sums[c * d + j]! / sizes[c]!;
    }
  }
  return Float32Array.from(centers);
}

function data(m: number, d: number, seed: number, distinctRows = m): Float32Array {
  const rng = new Rng(seed);
  const rows = Array.from({ length: distinctRows }, () => Array.from({ length: d }, () => rng.uniform() * 2 - 1));
  return Float32Array.from(Array.from({ length: m }, (_, i) => rows[i % distinctRows]!).flat());
}

test('k-means with more codes than vectors gives the plain algorithm\'s centres bit for bit', () => {
  const cases = [
    { m: 40, d: 4, k: 300, what: 'K > M' },
    { m: 40, d: 4, k: 300, distinct: 7, what: 'K > M, 7 distinct rows' },
    { m: 200, d: 3, k: 16, what: 'K < M' },
    { m: 60, d: 2, k: 60, distinct: 20, what: 'K = M, repeated rows' },
  ];
  for (const [n, c] of cases.entries()) {
    const x = data(c.m, c.d, n + 1, c.distinct);
    for (const iterations of [0, 1, 6]) {
      const fast = kmeans(x, c.d, c.k, iterations, 17 + n);
      const plain = plainKmeans(x, c.d, c.k, iterations, 17 + n);
      assert.deepEqual(new Uint8Array(fast.buffer), new Uint8Array(plain.buffer), `${c.what}, ${iterations} iterations`);
    }
    // With K > M, at most M distinct centres, and every row of x among them after seeding.
    if (c.k > c.m) {
      const seeded = kmeans(x, c.d, c.k, 0, 17 + n);
      const distinct = new Set(Array.from({ length: c.k }, (_, i) => Array.from(seeded.subarray(i * c.d, (i + 1) * c.d)).join()));
      assert.equal(distinct.size, c.distinct ?? c.m, c.what);
    }
  }
});

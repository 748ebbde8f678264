import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../src/graph/graph.js';
import { Rng } from '../src/init/rng.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { CodeSearch } from '../src/quantizers/code-search.js';
import { defaultBlocking, nearestCode, type SearchBlocking } from '../src/quantizers/nearest-code.js';
import { bruteForce, randomIntegers, randomNormal, randomUniform, range, toNumbers } from './helpers/quantizer-fixtures.js';

/** Run the graph search on [m, d] queries and a [k, d] codebook with the given blockings. */
async function searchWith(z: Float32Array, e: Float32Array, d: number, blockings: readonly SearchBlocking[]): Promise<number[][]> {
  const m = z.length / d;
  const k = e.length / d;
  const g = new Graph();
  const zi = g.input('z', [m, d]);
  const ei = g.input('e', [k, d]);
  const outputs = Object.fromEntries(blockings.map((b, i) => [`idx${i}`, nearestCode(zi, ei, b)]));
  const compiled = await CompiledGraph.create(g, outputs, { threads: 1 });
  const out = await compiled.run({ z, e });
  await compiled.release();
  return blockings.map((_, i) => toNumbers(out[`idx${i}`]!));
}

const BLOCKINGS: readonly SearchBlocking[] = [
  {}, // defaults
  { chunkM: 64, chunkK: 256 }, // many blocks, groups of 256 = one group per block → plain ArgMin
  { chunkM: 37, chunkK: 300, group: 50 }, // ragged blocks and groups of 50 (and a 100-code tail block)
  { chunkM: 1000, chunkK: 1000, group: 20 }, // one M-block; 1000-code blocks in groups of 20
  { chunkK: 128, group: 32 }, // groups inside every block
  { chunkM: 50, chunkK: 70, group: 1 }, // small ragged blocks, no grouping
];

test('blocked search equals a float64 brute force exactly on integer data with many exact ties', async () => {
  const rng = new Rng(1);
  const m = 300, k = 1000, d = 5;
  // Values in {−2..2}: all scores are small integers, computed exactly, so ties are exact and
  // frequent, and the lowest-index rule is fully exercised.
  const z = randomIntegers(m * d, rng, 2);
  const e = randomIntegers(k * d, rng, 2);
  const expected = bruteForce(z, e, d, range(m)).index;
  const unblocked = { chunkM: m, chunkK: k, group: 1 };
  const results = await searchWith(z, e, d, [unblocked, ...BLOCKINGS]);
  results.forEach((r, i) => assert.deepEqual(r, expected, `blocking #${i} ${JSON.stringify(i === 0 ? unblocked : BLOCKINGS[i - 1])}`));
});

test('blocked search equals the unblocked graph index for index on random Gaussian data, and a float64 brute force up to rounding', async () => {
  const rng = new Rng(2);
  const m = 200, k = 3000, d = 16;
  const z = randomNormal(m * d, rng);
  const e = randomNormal(k * d, rng);
  const [reference, ...blocked] = await searchWith(z, e, d, [{ chunkM: m, chunkK: k, group: 1 }, ...BLOCKINGS]);
  blocked.forEach((r, i) => assert.deepEqual(r, reference, `blocking ${JSON.stringify(BLOCKINGS[i])} differs from the unblocked search`));
  const brute = bruteForce(z, e, d, range(m));
  let same = 0;
  for (let i = 0; i < m; i++) {
    if (reference![i] === brute.index[i]) same++;
    // Where float32 rounding picks another code, it must be equally near up to rounding.
    let dist = 0;
    for (let j = 0; j < d; j++) dist += (z[i * d + j]! - e[reference![i]! * d + j]!) ** 2;
    assert.ok(dist - brute.min[i]! <= 1e-4 * (1 + brute.min[i]!), `row ${i}: chose distance ${dist}, minimum is ${brute.min[i]}`);
  }
  assert.ok(same >= m - 2, `only ${same}/${m} rows agree with the float64 brute force`);
});

test('planted exact ties across block and group boundaries resolve to the lowest index', async () => {
  const rng = new Rng(3);
  const d = 8, base = 64, copies = 6, k = base * copies;
  // The codebook is 6 exact copies of 64 random codes, so code c ties with c + 64, c + 128, ….
  // Blocks of 100 codes and groups of 25 put the copies in different blocks and groups.
  const unique = randomNormal(base * d, rng);
  const e = new Float32Array(k * d);
  for (let c = 0; c < copies; c++) e.set(unique, c * base * d);
  // Queries: codes themselves (exact distance 0 to every copy) and noisy ones.
  const m = 96;
  const z = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const src = rng.int(k);
    for (let j = 0; j < d; j++) z[i * d + j] = e[src * d + j]! + (i % 2 ? rng.normal() * 0.01 : 0);
  }
  const blockings: SearchBlocking[] = [{ chunkM: m, chunkK: k, group: 1 }, { chunkM: 17, chunkK: 100, group: 25 }, { chunkK: 64 }, { chunkK: 65, group: 16 }, {}];
  const results = await searchWith(z, e, d, blockings);
  const brute = bruteForce(z, e, d, range(m)).index;
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r, results[0], `blocking ${JSON.stringify(blockings[i])} differs from the unblocked search`);
    for (const idx of r) assert.ok(idx < base, `a tie was resolved to copy ${idx}, not to the lowest index ${idx % base}`);
  }
  assert.deepEqual(results[0], brute);
});

test('K = 262,144 codes of d = 64 for 8,192 queries in one blocked run (memory O(M·chunk))', async () => {
  const rng = new Rng(4);
  const m = 8192, k = 262_144, d = 64;
  const e = randomUniform(k * d, rng);
  const z = randomUniform(m * d, rng);
  // Plant exact matches: query i is code planted[i] for every 64th query; its distance is 0
  // while every other code is ≥ ~10 away, so the answer is unambiguous.
  const planted = new Map<number, number>();
  for (let i = 0; i < m; i += 64) {
    const src = rng.int(k);
    z.set(e.subarray(src * d, (src + 1) * d), i * d);
    planted.set(i, src);
  }
  const search = await CodeSearch.create({ queries: m, codes: k, dim: d, threads: 1 });
  const { indices, distances } = await search.run(z, e);
  await search.release();
  for (const [i, src] of planted) {
    assert.equal(Number(indices[i]), src, `query ${i} is code ${src} itself`);
    assert.equal(distances[i], 0);
  }
  // A few ordinary rows against a float64 brute force (up to rounding).
  const rows = [1, 777, 4097, 8191];
  const brute = bruteForce(z, e, d, rows);
  rows.forEach((row, j) => assert.ok(Math.abs(distances[row]! - brute.min[j]!) <= 1e-3 * brute.min[j]!, `row ${row}: ${distances[row]} vs ${brute.min[j]}`));
  // An unblocked [8192, 262144] score matrix alone would take 8 GiB.
  const rssMb = process.resourceUsage().maxRSS / 1024;
  assert.ok(rssMb < 3000, `peak RSS ${rssMb.toFixed(0)} MB; the blocked search should stay far below the 8 GiB score matrix`);
  const b = defaultBlocking(m, k);
  assert.ok(b.chunkM * b.chunkK * 4 <= 64 * 2 ** 20, `default block ${b.chunkM}×${b.chunkK} exceeds 64 MB`);
});

test('CodeSearch: tokenize handles a count that is not a multiple of M; inputs are checked', async () => {
  const rng = new Rng(5);
  const d = 4, k = 50, m = 16;
  const e = randomNormal(k * d, rng);
  const n = 37;
  const v = randomNormal(n * d, rng);
  const search = await CodeSearch.create({ queries: m, codes: k, dim: d, threads: 1 });
  const { indices, distances } = await search.tokenize(v, e);
  const brute = bruteForce(v, e, d, range(n));
  assert.deepEqual(toNumbers(indices), brute.index);
  distances.forEach((x, i) => assert.ok(Math.abs(x - brute.min[i]!) <= 1e-5 * (1 + brute.min[i]!)));

  const bad = randomNormal(m * d, rng);
  bad[2 * d + 1] = NaN;
  await assert.rejects(search.run(bad, e), /queries contains NaN at row 2, column 1/);
  const badCodes = e.slice();
  badCodes[7] = Infinity;
  await assert.rejects(search.run(randomNormal(m * d, rng), badCodes), /codebook contains Infinity at row 1, column 3/);
  await assert.rejects(search.run(new Float32Array(m * (d + 1)), e), /compiled for 16 × 4 = 64.*dimension mismatch/);
  await assert.rejects(search.tokenize(new Float32Array(6), e), /not a whole number of 4-dimensional vectors/);
  const badVectors = randomNormal(40 * d, rng);
  badVectors[33 * d + 2] = NaN;
  await assert.rejects(search.tokenize(badVectors, e), /vectors contains NaN at row 33, column 2/);
  await search.release();
  await assert.rejects(CodeSearch.create({ queries: 4, codes: 0, dim: 2 }), /codes must be an integer >= 1, got 0/);
  await assert.rejects(CodeSearch.create({ queries: 4, codes: 8, dim: 2, chunkK: 0 }), /chunkK must be an integer >= 1, got 0/);
});

test('the search graph rejects a dimension mismatch when it is built', () => {
  const g = new Graph();
  assert.throws(() => nearestCode(g.input('z', [4, 3]), g.input('e', [8, 5])), /same d, got z:float32\[4,3\] and e:float32\[8,5\]/);
});

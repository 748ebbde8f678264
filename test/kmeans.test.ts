/**
 * k-means's shortcuts (src/quantizers/kmeans.ts) and its assignments on the runtime
 * (src/quantizers/kmeans-assignment.ts) change no result: the centres equal, bit for bit, those of
 * the plain host algorithm written out here (k-means++ seeding measuring every distance, Lloyd
 * assignments over every centre in float64), with and without duplicate rows; the runtime's
 * assignments equal the host's index for index, near and exact ties included; and one run's
 * scores stay within a fixed budget at K = 65,536.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/init/rng.js';
import { kmeans, resolveQuantizerConfig } from '../src/quantizers/index.js';
import { assignmentBlocking, assignmentGraph, KmeansAssignment, MAX_RUN_SCORES } from '../src/quantizers/kmeans-assignment.js';

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

test('k-means gives the plain algorithm\'s centres bit for bit (more, as many and fewer codes than vectors)', async () => {
  const cases = [
    { m: 40, d: 4, k: 300, what: 'K > M' },
    { m: 40, d: 4, k: 300, distinct: 7, what: 'K > M, 7 distinct rows' },
    { m: 200, d: 3, k: 16, what: 'K < M' },
    { m: 60, d: 2, k: 60, distinct: 20, what: 'K = M, repeated rows' },
    { m: 700, d: 16, k: 300, what: 'K < M, d = 16' },
    { m: 300, d: 8, k: 100, far: true, what: 'rows far from the origin and close to each other' },
  ];
  for (const [n, c] of cases.entries()) {
    // Far rows: 10³ ± 10⁻³, where float32 scores ‖x‖² − 2x·μ + ‖μ‖² lose every digit of the distances.
    const x = c.far ? data(c.m, c.d, n + 1).map((v) => 1000 + v * 1e-3) : data(c.m, c.d, n + 1, c.distinct);
    for (const iterations of [0, 1, 6]) {
      const fast = await kmeans(x, c.d, c.k, iterations, 17 + n);
      const plain = plainKmeans(x, c.d, c.k, iterations, 17 + n);
      assert.deepEqual(new Uint8Array(fast.buffer), new Uint8Array(plain.buffer), `${c.what}, ${iterations} iterations`);
    }
    // With K > M, at most M distinct centres, and every row of x among them after seeding.
    if (c.k > c.m) {
      const seeded = await kmeans(x, c.d, c.k, 0, 17 + n);
      const distinct = new Set(Array.from({ length: c.k }, (_, i) => Array.from(seeded.subarray(i * c.d, (i + 1) * c.d)).join()));
      assert.equal(distinct.size, c.distinct ?? c.m, c.what);
    }
  }
});

/** The host's assignment: the first centre among `candidates` with the smallest float64 distance. */
function hostAssignment(x: Float32Array, d: number, centers: Float64Array, candidates: Int32Array): Int32Array {
  const m = x.length / d;
  return Int32Array.from({ length: m }, (_, i) => {
    let best = Infinity;
    let index = 0;
    for (const c of candidates) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = x[i * d + j]! - centers[c * d + j]!;
        s += t * t;
      }
      if (s < best) { best = s; index = c; }
    }
    return index;
  });
}

test('the runtime\'s assignments equal the host\'s float64 ones, near and exact ties included, across blocks', async () => {
  const rng = new Rng(5);
  const d = 8, k = 9000, m = 600; // 9,000 codes: three blocks of ≤ 4,096, the last one narrower
  const centers = Float64Array.from({ length: k * d }, () => rng.normal() * (rng.uniform() < 0.1 ? 100 : 1));
  const x = Float32Array.from({ length: m * d }, () => rng.normal());
  for (let i = 0; i < 100; i++) {
    // Row i sits on a centre's float32 copy; its neighbour in the next block differs by one float64
    // ulp in one coordinate and, where the copy rounded away, is the closer one: equal in float32,
    // and only the float64 search can tell them apart.
    const a = (i * 37) % 4000, b = a + 4096;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = Math.fround(centers[a * d + j]!);
      centers[b * d + j] = centers[a * d + j]!;
    }
    const v = centers[b * d]!;
    centers[b * d] = v + (Math.fround(v) > v ? 1 : -1) * Math.abs(v) * 2 ** -52;
  }
  for (let i = 100; i < 200; i++) {
    // Exact ties: row i midway between two centres placed symmetrically about it (ties → lowest).
    const a = 5000 + i, b = 1000 + i;
    for (let j = 0; j < d; j++) {
      const offset = j === 0 ? 0.5 : 0;
      x[i * d + j] = Math.fround(rng.normal());
      centers[a * d + j] = x[i * d + j]! + offset;
      centers[b * d + j] = x[i * d + j]! - offset;
    }
  }
  for (let i = 200; i < 260; i++) for (let j = 0; j < d; j++) x[i * d + j] = Math.fround(x[i * d + j]! * 1e4); // far rows
  for (let i = 260; i < 320; i++) for (let j = 0; j < d; j++) x[i * d + j] = Math.fround(x[i * d + j]! * 1e-4); // rows near 0
  const candidates = Int32Array.from({ length: k }, (_, c) => c);
  const assignment = new KmeansAssignment(x, d);
  try {
    const got = await assignment.assign(centers, candidates, new Int32Array(m));
    const want = hostAssignment(x, d, centers, candidates);
    assert.deepEqual(Array.from(got), Array.from(want));
    // The planted float64 neighbours won where they are closer, so the test reached the host search.
    assert.ok(Array.from(want.subarray(0, 100)).some((c) => c >= 4096), 'some planted neighbours are the closer centre');
    // A subset of the centres, as k-means passes after dropping repeated ones.
    const some = Int32Array.from(candidates.filter((c) => c % 3 !== 1));
    assert.deepEqual(Array.from(await assignment.assign(centers, some, new Int32Array(m))), Array.from(hostAssignment(x, d, centers, some)));
  } finally {
    await assignment.release();
  }
});

test('a non-finite row is assigned as the host assigns it (centre 0), the others as usual', async () => {
  const rng = new Rng(6);
  const d = 4, k = 50, m = 30;
  const centers = Float64Array.from({ length: k * d }, () => rng.normal());
  const x = Float32Array.from({ length: m * d }, () => rng.normal());
  x[3 * d + 1] = NaN;
  const candidates = Int32Array.from({ length: k }, (_, c) => c);
  const assignment = new KmeansAssignment(x, d);
  try {
    const got = await assignment.assign(centers, candidates, new Int32Array(m));
    assert.equal(got[3], 0);
    assert.deepEqual(Array.from(got), Array.from(hostAssignment(x, d, centers, candidates)));
  } finally {
    await assignment.release();
  }
});

test('one assignment run holds at most 2^24 scores at K = 65,536 whatever M is', () => {
  const d = 64, k = 65536;
  for (const m of [65536, 2 ** 20]) {
    const blocking = assignmentBlocking(m, k);
    assert.equal(blocking.rows, 256, `M = ${m}`);
    const { graph } = assignmentGraph(d, k, blocking);
    // Every value the graph computes, the score blocks included, fits the budget; the inputs are
    // 256 rows and the K centres, never M rows.
    const largest = Math.max(...graph.nodes.flatMap((n) => n.outputs.map((t) => t.shape.reduce((a, b) => a * b, 1))));
    assert.ok(largest <= MAX_RUN_SCORES, `largest tensor ${largest}`);
    const scoreBlocks = graph.nodes.filter((n) => n.op === 'MatMul').map((n) => n.outputs[0]!.shape.reduce((a, b) => a * b, 1));
    assert.equal(scoreBlocks.length, 16);
    assert.equal(scoreBlocks.reduce((a, b) => a + b, 0), blocking.rows * k);
    assert.ok(blocking.rows * k <= MAX_RUN_SCORES);
    assert.deepEqual(graph.inputs.map((i) => i.tensor.shape), [[256, d + 1], [d + 1, k], [256, 1]]);
  }
});

test('kmeansSamples that is not a whole number of vectors in range is refused in one line', () => {
  for (const bad of [-1, 1.5]) {
    assert.throws(() => resolveQuantizerConfig('vq', { codebookSize: 4, dim: 2, kmeansIters: 3, kmeansSamples: bad }), /kmeansSamples must be an integer >= 0 and <= 1048576/);
  }
});

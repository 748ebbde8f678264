/**
 * Quantizer benchmark (issue #3): nearest-code search for N = 16,384 queries, d = 64, K = 65,536
 * codes, against one ORT MatMul of the same shape.
 *
 *   search_gflops   2·N·K·d / median wall time of `CodeSearch.run` (3 runs after a warm-up)
 *   matmul_gflops   2·N·K·d / median wall time of one MatMul [N, d]·[d, K] (3 runs after a warm-up)
 *   peak_rss_mb     process.resourceUsage().maxRSS after the search runs, before the MatMul (whose
 *                   4 GiB output, plus the copy the ORT binding returns, would dominate it)
 *   search_ms, matmul_ms, search_compile_ms, search_vs_matmul (ratio of the GFLOP/s)
 *
 * Targets: search ≥ 80 % of the MatMul's GFLOP/s, peak RSS < 1.5 GB. The search can beat the MatMul
 * because it never writes the N×K scores to memory (see src/quantizers/nearest-code.ts). Threads:
 * 2, the machine's cores. Prints nothing; `bench/main.ts` prints the returned object.
 */
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { CodeSearch } from '../src/quantizers/code-search.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { round, timeMedian } from './stats.js';

const N = 16_384, D = 64, K = 65_536;
const FLOP = 2 * N * K * D;

function randomArray(size: number, rng: Rng): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

export async function benchQuantize(threads = 2): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const queries = randomArray(N * D, rng);
  const codebook = randomArray(K * D, rng);

  // Search first, so that peak RSS reflects it alone.
  const search = await CodeSearch.create({ queries: N, codes: K, dim: D, threads });
  const into = { indices: new BigInt64Array(N), distances: new Float32Array(N) };
  const searchMs = await timeMedian(() => search.run(queries, codebook, into), 3, 1);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const compileMs = search.compileMs;
  await search.release();

  const g = new Graph();
  const a = g.input('a', [N, D]);
  const b = g.input('b', [D, K]);
  const matmul = await CompiledGraph.create(g, { c: op.matmul(a, b) }, { threads });
  const out = { c: matmul.allocate('c') };
  // The MatMul's B operand is the codebook transposed; any [D, K] data costs the same.
  const matmulMs = await timeMedian(() => matmul.run({ a: queries, b: codebook }, out), 3, 1);
  await matmul.release();

  const searchGflops = FLOP / (searchMs * 1e6);
  const matmulGflops = FLOP / (matmulMs * 1e6);
  return {
    search_gflops: round(searchGflops),
    matmul_gflops: round(matmulGflops),
    peak_rss_mb: round(peakRssMb, 0),
    search_ms: round(searchMs, 1),
    matmul_ms: round(matmulMs, 1),
    search_compile_ms: round(compileMs, 0),
    search_vs_matmul: round(searchGflops / matmulGflops, 2),
  };
}

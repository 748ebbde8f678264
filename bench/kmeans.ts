/**
 * k-means initialization benchmark: the fair Table 1 row's k-means (`vq:kmeansIters=10:
 * kmeansSamples=65536`), K = 65,536 centres from M = 65,536 vectors, d = 64, 10 Lloyd iterations,
 * on N(0, 1) vectors (seeded; no structure for the seeding's filter to exploit, so a worst case).
 *
 *   seeding_s    wall time of k-means++ seeding alone (`kmeans` with 0 iterations)
 *   total_s      wall time of the whole initialization, seeding and 10 iterations
 *   iteration_s  (total_s − seeding_s) / 10
 *
 * One run each (minutes each): the plain host algorithm it replaces took an estimated 3.7 hours
 * here (src/quantizers/kmeans.ts). Threads: 2, the machine's cores. Prints nothing;
 * `bench/main.ts` prints the returned object.
 */
import { Rng } from '../src/init/rng.js';
import { kmeans } from '../src/quantizers/kmeans.js';
import { round } from './stats.js';

const M = 65_536, K = 65_536, D = 64, ITERATIONS = 10;

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function benchKmeans(threads = 2): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const x = Float32Array.from({ length: M * D }, () => rng.normal());
  const seeding = await seconds(() => kmeans(x, D, K, 0, 1, threads));
  const total = await seconds(() => kmeans(x, D, K, ITERATIONS, 1, threads));
  return { seeding_s: round(seeding, 1), total_s: round(total, 1), iteration_s: round((total - seeding) / ITERATIONS, 2) };
}

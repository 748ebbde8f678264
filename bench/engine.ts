/**
 * Engine benchmark (issue "Foundation"): GFLOP/s of the conv forward pass and of the two conv
 * gradients as autodiff emits them, of a MatMul, ms per full training step of a small conv
 * autoencoder, and the share of that step spent outside `session.run`.
 *
 * Shapes: x [128,64,14,14] → [128,128,7,7] by a 4×4 conv, stride 2, pad 1; MatMul 16384×64 · 64×1024.
 */
import { grad } from '../src/graph/autodiff.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { conv2dLayer } from '../src/layers/conv2d.js';
import { convTranspose2dLayer } from '../src/layers/conv-transpose2d.js';
import { Adam } from '../src/optim/adam.js';
import { CompiledGraph, type TypedData } from '../src/runtime/session.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { median, round, timeMedian } from './stats.js';

const N = 128, CIN = 64, H = 14, COUT = 128, K = 4, HO = 7;
const CONV_FLOP = 2 * N * COUT * HO * HO * CIN * K * K;

function randomArray(size: number, rng: Rng): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.normal() * 0.1;
  return a;
}

async function gflops(graph: Graph, output: Record<string, import('../src/graph/tensor.js').Tensor>, feeds: Record<string, TypedData>, flop: number, threads: number): Promise<number> {
  const compiled = await CompiledGraph.create(graph, output, { threads });
  const into: Record<string, TypedData> = {};
  for (const name of Object.keys(output)) into[name] = compiled.allocate(name);
  const ms = await timeMedian(() => compiled.run(feeds, into));
  await compiled.release();
  return flop / (ms * 1e6);
}

export async function benchEngine(threads = 2): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const xData = randomArray(N * CIN * H * H, rng);
  const wData = randomArray(COUT * CIN * K * K, rng);
  const gyData = randomArray(N * COUT * HO * HO, rng);

  // Each gradient graph computes Σ conv(x, w) ⊙ gy, so ∂/∂x and ∂/∂w are exactly the VJPs with gy.
  const convGraph = (): { g: Graph; x: import('../src/graph/tensor.js').Tensor; w: import('../src/graph/tensor.js').Tensor; loss: import('../src/graph/tensor.js').Tensor; y: import('../src/graph/tensor.js').Tensor } => {
    const g = new Graph();
    const x = g.input('x', [N, CIN, H, H]);
    const w = g.input('w', [COUT, CIN, K, K]);
    const gy = g.input('gy', [N, COUT, HO, HO]);
    const y = op.conv2d(x, w, { stride: 2, pad: 1 });
    return { g, x, w, y, loss: op.reduceSum(op.mul(y, gy)) };
  };

  const fwd = convGraph();
  const conv_fwd_gflops = await gflops(fwd.g, { y: fwd.y }, { x: xData, w: wData }, CONV_FLOP, threads);
  const dx = convGraph();
  const conv_dx_gflops = await gflops(dx.g, { dx: grad(dx.loss, [dx.x])[0]! }, { w: wData, gy: gyData }, CONV_FLOP, threads);
  const dw = convGraph();
  const conv_dw_gflops = await gflops(dw.g, { dw: grad(dw.loss, [dw.w])[0]! }, { x: xData, gy: gyData }, CONV_FLOP, threads);

  const mm = new Graph();
  const a = mm.input('a', [16384, 64]);
  const b = mm.input('b', [64, 1024]);
  const matmul_gflops = await gflops(mm, { c: op.matmul(a, b) }, { a: randomArray(16384 * 64, rng), b: randomArray(64 * 1024, rng) }, 2 * 16384 * 64 * 1024, threads);

  // A full training step of a conv autoencoder of the same size: conv 64→128 (4×4 s2) → ReLU →
  // conv-transpose 128→64 (4×4 s2) → MSE to the input, with Adam.
  const store = new VariableStore(0);
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads,
    build: (ctx) => {
      const x = ctx.input('x', [N, CIN, H, H]);
      const h = op.relu(conv2dLayer(ctx.scope('enc'), x, { outChannels: COUT, kernel: K, stride: 2, pad: 1 }));
      const y = convTranspose2dLayer(ctx.scope('dec'), h, { outChannels: CIN, kernel: K, stride: 2, pad: 1 });
      const d = op.sub(y, x);
      return { loss: op.reduceMean(op.mul(d, d)) };
    },
  });
  const batch = { x: xData };
  for (let i = 0; i < 3; i++) await program.step(batch, 1e-3);
  const steps: number[] = [];
  const outside: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    await program.step(batch, 1e-3);
    const total = performance.now() - t0;
    steps.push(total);
    // Everything but ORT's session.run: feeds, output binding, buffer swaps, reading results.
    outside.push((total - program.lastRunMs) / total);
  }
  await program.release();
  return {
    conv_fwd_gflops: round(conv_fwd_gflops),
    conv_dx_gflops: round(conv_dx_gflops),
    conv_dw_gflops: round(conv_dw_gflops),
    matmul_gflops: round(matmul_gflops),
    step_ms: round(median(steps)),
    outside_run_share: round(median(outside), 4),
  };
}

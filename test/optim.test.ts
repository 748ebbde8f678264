import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as op from '../src/graph/ops.js';
import { Adam, adamW } from '../src/optim/adam.js';
import { Sgd } from '../src/optim/sgd.js';
import type { Optimizer } from '../src/runtime/optimizer.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { normal } from '../src/init/initializers.js';

/** loss = Σ w ⊙ c, so ∂loss/∂w = c exactly: optimizer updates can be checked against JS. */
async function run(optimizer: Optimizer, steps: number, lr: number, clip?: number): Promise<{ w0: Float32Array; w: Float32Array; c: Float32Array; norms: number[] }> {
  const store = new VariableStore(7);
  const c = Float32Array.from([0.5, -2, 3, 0.25]);
  const program = await TrainingProgram.create({
    store,
    optimizer,
    threads: 1,
    clipGradNorm: clip,
    build: (ctx) => {
      const w = ctx.param('w', [2, 2], normal(1));
      const cIn = ctx.input('c', [2, 2]);
      return { loss: op.reduceSum(op.mul(w, cIn)) };
    },
  });
  const w0 = store.require('w').value.slice();
  const norms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = await program.step({ c }, lr);
    if (clip !== undefined) norms.push(r.gradNorm!);
  }
  await program.release();
  return { w0, w: store.require('w').value, c, norms };
}

function close(actual: Float32Array, expected: number[], tol = 1e-5): void {
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol * Math.max(1, Math.abs(e)), `[${i}] ${actual[i]} vs ${e}`));
}

test('Adam matches Algorithm 1 of Kingma & Ba step by step (bias correction included)', async () => {
  const { w0, w, c } = await run(new Adam({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }), 3, 0.1);
  const expected = [...w0].map((p, i) => {
    let m = 0, v = 0;
    for (let t = 1; t <= 3; t++) {
      const g = c[i]!;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      p -= (0.1 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    }
    return p;
  });
  close(w, expected);
});

test('AdamW decays weights decoupled from the gradient; Adam adds the L2 term to the gradient', async () => {
  const wd = 0.1, lr = 0.05;
  const decoupled = await run(adamW({ weightDecay: wd }), 1, lr);
  // t = 1: m̂ = g, v̂ = g², so the Adam part is lr·sign(g) (up to ε); decay subtracts lr·λ·θ.
  close(decoupled.w, [...decoupled.w0].map((p, i) => p - lr * Math.sign(decoupled.c[i]!) - lr * wd * p), 1e-5);
  const coupled = await run(new Adam({ weightDecay: wd }), 1, lr);
  close(coupled.w, [...coupled.w0].map((p, i) => p - lr * Math.sign(coupled.c[i]! + wd * p)), 1e-5);
});

test('SGD with momentum and Nesterov follow the PyTorch update rule', async () => {
  for (const nesterov of [false, true]) {
    const { w0, w, c } = await run(new Sgd({ momentum: 0.9, nesterov }), 3, 0.01);
    const expected = [...w0].map((p, i) => {
      let b = 0;
      for (let t = 0; t < 3; t++) {
        const g = c[i]!;
        b = 0.9 * b + g;
        p -= 0.01 * (nesterov ? g + 0.9 * b : b);
      }
      return p;
    });
    close(w, expected);
  }
});

test('global-norm clipping scales all gradients by maxNorm/‖g‖ and reports ‖g‖', async () => {
  const { w0, w, c, norms } = await run(new Sgd(), 1, 1, 1.0);
  const norm = Math.hypot(...c);
  assert.ok(Math.abs(norms[0]! - norm) < 1e-5, `reported ${norms[0]} vs ${norm}`);
  close(w, [...w0].map((p, i) => p - c[i]! / (norm + 1e-6)));
  // Below the threshold nothing changes.
  const loose = await run(new Sgd(), 1, 1, 100);
  close(loose.w, [...loose.w0].map((p, i) => p - c[i]!));
});

test('invalid optimizer settings are refused with the setting named', () => {
  assert.throws(() => new Adam({ beta1: 1 }), /beta1 must be in \[0, 1\)/);
  assert.throws(() => new Adam({ eps: 0 }), /eps must be > 0/);
  assert.throws(() => new Sgd({ nesterov: true }), /nesterov needs momentum/);
});

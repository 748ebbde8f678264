/**
 * Every gradient rule in src/graph/gradients.ts, and every composite in src/graph/composites.ts,
 * against central finite differences (test/helpers/gradcheck.ts), plus the exact semantics of
 * stop-gradient, the straight-through estimator and `grad`'s argument checks.
 *
 * Inputs are chosen away from kinks: relu/abs/sign/where-conditions stay ≥ 0.2 from 0, divisors
 * and log/sqrt arguments away from 0, and max/min inputs are distinct by ≥ 0.1 so no tie lies
 * within a finite-difference step (h = 1e-2·max(1,|x|)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import * as nn from '../src/graph/composites.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { GraphError, shapeSize, type Shape, type Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import { CompiledGraph, type TypedData } from '../src/runtime/session.js';
import { gradCheck, type InputData, type InputSpec } from './helpers/gradcheck.js';

// ---------------------------------------------------------------- input generators

/** |x| ≥ margin with a random sign: keeps relu/abs/sign/division away from their kink at 0. */
const awayFromZero = (margin = 0.2): InputData => (_i, rng) => (rng.uniform() < 0.5 ? -1 : 1) * (margin + Math.abs(rng.normal()));
/** Uniform in [lo, hi). */
const uniform = (lo: number, hi: number): InputData => (_i, rng) => lo + (hi - lo) * rng.uniform();
/** n distinct values spaced 0.1 apart in random order: no ties for max/min within a step. */
function distinct(n: number, seed = 7): Float32Array {
  const perm = new Rng(seed).permutation(n);
  return Float32Array.from(perm, (p) => (p - n / 2) * 0.1 + 0.013);
}

const spec = (shape: Shape, data?: InputData, name?: string): InputSpec => ({ shape, data, name });

/** Run `outputs` of a graph once (threads: 1) and return the results. */
async function evaluate(g: Graph, outputs: Record<string, Tensor>, feeds: Record<string, TypedData>): Promise<Record<string, TypedData>> {
  const c = await CompiledGraph.create(g, outputs, { threads: 1 });
  try {
    // Feed only what the compiled outputs depend on; `run` rejects unknown names.
    return await c.run(Object.fromEntries(c.inputs.map((i) => [i.name, feeds[i.name]!])));
  } finally {
    await c.release();
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!));
    assert.ok(ok, `${label}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

const fmt = (s: Shape): string => `[${s.join(',')}]`;

// ---------------------------------------------------------------- elementwise binary + broadcasting

type Binary = (a: op.TensorLike, b: op.TensorLike) => Tensor;
const BINARIES: readonly { name: string; f: Binary; a?: InputData; b?: InputData }[] = [
  { name: 'Add', f: op.add },
  { name: 'Sub', f: op.sub },
  { name: 'Mul', f: op.mul },
  { name: 'Div', f: op.div, b: awayFromZero(0.5) },
  // Both inputs differentiated: ∂/∂b = a^b·log a needs a positive base.
  { name: 'Pow', f: op.pow, a: uniform(0.5, 2), b: uniform(-1.5, 1.5) },
];
const FULL: Shape = [2, 3, 4];
const BROADCAST_PARTNERS: readonly Shape[] = [[2, 3, 4], [3, 1], [1], [4], []];

for (const { name, f, a, b } of BINARIES) {
  for (const other of BROADCAST_PARTNERS) {
    test(`${name}: ${fmt(FULL)} with ${fmt(other)}`, async () => {
      await gradCheck(name, [spec(FULL, a, 'a'), spec(other, b, 'b')], ([x, y]) => f(x!, y!));
    });
    if (other.length === FULL.length) continue;
    test(`${name}: ${fmt(other)} with ${fmt(FULL)}`, async () => {
      await gradCheck(name, [spec(other, a, 'a'), spec(FULL, b, 'b')], ([x, y]) => f(x!, y!));
    });
  }
  test(`${name}: both operands broadcast, [2,1,4] with [3,1]`, async () => {
    await gradCheck(name, [spec([2, 1, 4], a, 'a'), spec([3, 1], b, 'b')], ([x, y]) => f(x!, y!));
  });
}

test('binary ops with a JS-number operand differentiate the tensor side only', async () => {
  await gradCheck('Add number', [spec([3, 4])], ([x]) => op.add(x!, 2.5));
  await gradCheck('Sub number', [spec([3, 4])], ([x]) => op.sub(1, x!));
  await gradCheck('Div number', [spec([3, 4], awayFromZero(0.5))], ([x]) => op.div(1, x!));
  await gradCheck('Pow constant base', [spec([3, 4])], ([x]) => op.pow(2, x!));
  // A constant exponent skips ∂/∂b, so negative bases are fine: x² and x³ for any sign of x.
  await gradCheck('Pow x^2', [spec([3, 4])], ([x]) => op.pow(x!, 2));
  await gradCheck('Pow x^3', [spec([3, 4])], ([x]) => op.pow(x!, 3));
});

test('binary ops on random seeded broadcast shapes', async () => {
  const rng = new Rng(2024);
  for (let trial = 0; trial < 8; trial++) {
    const rank = 1 + rng.int(4);
    const full = Array.from({ length: rank }, () => 1 + rng.int(4));
    // The partner drops some leading axes and sets some others to 1.
    const drop = rng.int(rank + 1);
    const partner = full.slice(drop).map((d) => (rng.uniform() < 0.4 ? 1 : d));
    const { name, f, a, b } = BINARIES[rng.int(BINARIES.length)]!;
    const [sa, sb] = rng.uniform() < 0.5 ? [full, partner] : [partner, full];
    await gradCheck(`${name} ${fmt(sa)} with ${fmt(sb)}`, [spec(sa, a, 'a'), spec(sb, b, 'b')], ([x, y]) => f(x!, y!), { seed: trial });
  }
});

test('a tensor used several times accumulates its gradients (fan-out)', async () => {
  await gradCheck('fan-out', [spec([3, 4])], ([x]) => op.add(op.mul(x!, x!), op.mul(op.exp(x!), x!)));
});

// ---------------------------------------------------------------- Where

test('Where: gradients go to the selected branch, with and without broadcasting', async () => {
  const condData = (g: Graph, shape: Shape, seed: number): Tensor => {
    const rng = new Rng(seed);
    return g.constant(Uint8Array.from({ length: shapeSize(shape) }, () => (rng.uniform() < 0.5 ? 1 : 0)), shape);
  };
  await gradCheck('Where', [spec(FULL, undefined, 'a'), spec(FULL, undefined, 'b')], ([a, b], g) => op.where(condData(g, FULL, 1), a!, b!));
  await gradCheck('Where broadcast', [spec([4], undefined, 'a'), spec(FULL, undefined, 'b')], ([a, b], g) => op.where(condData(g, [3, 1], 2), a!, b!));
  await gradCheck('Where number branch', [spec(FULL)], ([a], g) => op.where(condData(g, FULL, 3), 0, a!));
  // Leaky relu: the condition depends on x but carries no gradient; only the branches do.
  await gradCheck('Where leaky', [spec(FULL, awayFromZero())], ([x]) => op.where(op.greater(x!, 0), x!, op.mul(x!, 0.1)));
});

// ---------------------------------------------------------------- elementwise unary

const UNARIES: readonly { name: string; f: (x: Tensor) => Tensor; data?: InputData }[] = [
  { name: 'Neg', f: op.neg },
  { name: 'Relu', f: op.relu, data: awayFromZero() },
  { name: 'Elu', f: op.elu, data: awayFromZero() },
  { name: 'Sigmoid', f: op.sigmoid },
  { name: 'Exp', f: op.exp },
  { name: 'Log', f: op.log, data: uniform(0.3, 3) },
  { name: 'Sqrt', f: op.sqrt, data: uniform(0.3, 3) },
  { name: 'Abs', f: op.abs, data: awayFromZero() },
  // Piecewise constant: analytic and numeric gradients are both zero away from 0.
  { name: 'Sign', f: op.sign, data: awayFromZero() },
];

for (const { name, f, data } of UNARIES) {
  test(`${name}`, async () => {
    await gradCheck(name, [spec(FULL, data)], ([x]) => f(x!));
  });
}

test('Elu: e^x − 1 below zero and x above, with gradient e^x and 1, finite for large inputs', async () => {
  const g = new Graph();
  const x = g.input('x', [5]);
  const y = op.elu(x);
  const [gx] = grad(op.reduceSum(y), [x]);
  const r = await evaluate(g, { y, gx: gx! }, { x: Float32Array.of(-3, -0.5, 0.5, 2, 200) });
  assertClose(r.y as Float32Array, [Math.expm1(-3), Math.expm1(-0.5), 0.5, 2, 200], 1e-6, 'elu');
  assertClose(r.gx as Float32Array, [Math.exp(-3), Math.exp(-0.5), 1, 1, 1], 1e-6, 'elu gradient');
});

test('Cast: float→float is the identity; a round trip through int64 or bool passes no gradient', async () => {
  await gradCheck('Cast float→float', [spec([3, 4])], ([x]) => op.mul(op.cast(x!, 'float32'), 3));
  // Fractional parts in [0.1, 0.4) keep x ± h away from integers and halves, so the result is
  // piecewise constant around x whether Cast truncates or rounds.
  const frac: InputData = (_i, rng) => rng.int(5) - 2 + 0.1 + 0.3 * rng.uniform();
  const r = await gradCheck('Cast via int64', [spec([3, 4], frac)], ([x]) => op.cast(op.cast(x!, 'int64'), 'float32'));
  assert.ok(r.analytic[0]!.every((v) => v === 0));
  await gradCheck('Cast bool→float', [spec([3, 4], awayFromZero())], ([x]) => op.cast(op.greater(x!, 0), 'float32'));
});

// ---------------------------------------------------------------- reductions

const REDUCTIONS: readonly { name: string; f: (x: Tensor, axes?: number | readonly number[], keep?: boolean) => Tensor; data?: InputData }[] = [
  { name: 'ReduceSum', f: op.reduceSum },
  { name: 'ReduceMean', f: op.reduceMean },
  { name: 'ReduceMax', f: op.reduceMax, data: distinct(24) },
  { name: 'ReduceMin', f: op.reduceMin, data: distinct(24, 11) },
];
const AXES: readonly { axes: number | readonly number[] | undefined; keep: boolean }[] = [
  { axes: 0, keep: false },
  { axes: 1, keep: false },
  { axes: 2, keep: false },
  { axes: -1, keep: true },
  { axes: [0, 2], keep: false },
  { axes: [0, 2], keep: true },
  { axes: undefined, keep: false },
  { axes: undefined, keep: true },
];

for (const { name, f, data } of REDUCTIONS) {
  for (const { axes, keep } of AXES) {
    const where = axes === undefined ? 'all axes' : `axes ${JSON.stringify(axes)}`;
    test(`${name} of [2,3,4] over ${where}, keepDims ${keep}`, async () => {
      await gradCheck(`${name} ${where}`, [spec(FULL, data)], ([x]) => f(x!, axes, keep));
    });
  }
}

test('ReduceMax/ReduceMin split the gradient evenly between tied extrema', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const [gmax] = grad(op.reduceSum(op.reduceMax(x, 1)), [x]);
  const [gmin] = grad(op.reduceSum(op.reduceMin(x, 1)), [x]);
  const r = await evaluate(g, { gmax: gmax!, gmin: gmin! }, { x: Float32Array.of(1, 3, 3, 2, 2, 2) });
  assert.deepEqual([...(r.gmax as Float32Array)], [0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  assert.deepEqual([...(r.gmin as Float32Array)], [1, 0, 0, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
});

// ---------------------------------------------------------------- MatMul

test('MatMul [m,k]·[k,n]', async () => {
  await gradCheck('MatMul 2-D', [spec([3, 5], undefined, 'a'), spec([5, 4], undefined, 'b')], ([a, b]) => op.matmul(a!, b!));
});

test('MatMul [b,m,k]·[k,n] (shared right operand)', async () => {
  await gradCheck('MatMul batch·2-D', [spec([2, 3, 5], undefined, 'a'), spec([5, 4], undefined, 'b')], ([a, b]) => op.matmul(a!, b!));
  await gradCheck('MatMul rank4·2-D', [spec([2, 2, 3, 2], undefined, 'a'), spec([2, 3], undefined, 'b')], ([a, b]) => op.matmul(a!, b!));
});

test('MatMul [b,m,k]·[b,k,n] (batched)', async () => {
  await gradCheck('MatMul batched', [spec([2, 3, 5], undefined, 'a'), spec([2, 5, 4], undefined, 'b')], ([a, b]) => op.matmul(a!, b!));
});

test('MatMul on random seeded shapes in all three forms', async () => {
  const rng = new Rng(99);
  for (let trial = 0; trial < 6; trial++) {
    const [m, k, n, batch] = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(4), 1 + rng.int(3)];
    const form = trial % 3;
    const sa = form === 0 ? [m, k] : [batch, m, k];
    const sb = form === 2 ? [batch, k, n] : [k, n];
    await gradCheck(`MatMul ${fmt(sa)}·${fmt(sb)}`, [spec(sa, undefined, 'a'), spec(sb, undefined, 'b')], ([a, b]) => op.matmul(a!, b!), { seed: trial });
  }
});

// ---------------------------------------------------------------- shape manipulation

test('Reshape', async () => {
  await gradCheck('Reshape [4,-1]', [spec(FULL)], ([x]) => op.reshape(x!, [4, -1]));
  await gradCheck('Reshape flat', [spec(FULL)], ([x]) => op.reshape(x!, [24]));
});

test('Transpose', async () => {
  await gradCheck('Transpose [2,0,1]', [spec(FULL)], ([x]) => op.transpose(x!, [2, 0, 1]));
  await gradCheck('Transpose [1,0,2]', [spec(FULL)], ([x]) => op.transpose(x!, [1, 0, 2]));
});

test('Concat', async () => {
  await gradCheck('Concat axis 1', [spec([2, 1, 4], undefined, 'a'), spec([2, 3, 4], undefined, 'b'), spec([2, 2, 4], undefined, 'c')], (xs) => op.concat(xs, 1));
  await gradCheck('Concat axis -1', [spec([2, 3], undefined, 'a'), spec([2, 5], undefined, 'b')], (xs) => op.concat(xs, -1));
  await gradCheck('Concat of a tensor with itself', [spec([2, 3])], ([x]) => op.concat([x!, op.mul(x!, 2), x!], 0));
});

test('Slice', async () => {
  await gradCheck('Slice axis 1', [spec([2, 4, 5])], ([x]) => op.slice(x!, 1, 1, 3));
  await gradCheck('Slice axis -1', [spec([2, 4, 5])], ([x]) => op.slice(x!, -1, 0, 2));
  await gradCheck('Slice axis 0 end', [spec([3, 4])], ([x]) => op.slice(x!, 0, 2, 3));
});

test('Pad', async () => {
  await gradCheck('Pad', [spec(FULL)], ([x]) => op.pad(x!, [[0, 1], [2, 0], [1, 1]]));
});

test('Expand', async () => {
  await gradCheck('Expand [3,1]', [spec([3, 1])], ([x]) => op.expand(x!, FULL));
  await gradCheck('Expand [4]', [spec([4])], ([x]) => op.expand(x!, FULL));
  await gradCheck('Expand [2,1,4]', [spec([2, 1, 4])], ([x]) => op.expand(x!, FULL));
});

// ---------------------------------------------------------------- indexing

const int64 = (g: Graph, values: readonly number[], shape: Shape): Tensor => g.constant(BigInt64Array.from(values, BigInt), shape);

test('Gather: rows picked several times receive the sum of their gradients', async () => {
  await gradCheck('Gather [5,3] by [2,3]', [spec([5, 3])], ([t], g) => op.gather(t!, int64(g, [0, 2, 2, 4, 0, 2], [2, 3])));
  await gradCheck('Gather [6] by [4]', [spec([6])], ([t], g) => op.gather(t!, int64(g, [5, 1, 5, 5], [4])));
  await gradCheck('Gather [4,2,3] by [3]', [spec([4, 2, 3])], ([t], g) => op.gather(t!, int64(g, [3, 3, 0], [3])));
  // The gradient of an unpicked row is exactly zero, of a row picked k times the sum of k rows of R.
  const g = new Graph();
  const t = g.input('t', [3, 2]);
  const [gt] = grad(op.reduceSum(op.gather(t, int64(g, [2, 0, 2], [3]))), [t]);
  const r = await evaluate(g, { gt: gt! }, { t: new Float32Array(6) });
  assert.deepEqual([...(r.gt as Float32Array)], [1, 1, 0, 0, 2, 2]);
});

test('ScatterAdd: gradients for both the base and the updates', async () => {
  await gradCheck('ScatterAdd', [spec([5, 3], undefined, 'base'), spec([4, 3], undefined, 'updates')], ([b, u], g) => op.scatterAdd(b!, int64(g, [1, 3, 1, 1], [4]), u!));
  await gradCheck('ScatterAdd rank 1', [spec([4], undefined, 'base'), spec([6], undefined, 'updates')], ([b, u], g) => op.scatterAdd(b!, int64(g, [0, 3, 3, 2, 0, 0], [6]), u!));
});

// ---------------------------------------------------------------- convolution

const CONVS: readonly { label: string; x: Shape; w: Shape; o: op.ConvOptions }[] = [
  { label: 'k3 s1 p1', x: [2, 3, 6, 6], w: [4, 3, 3, 3], o: { stride: 1, pad: 1 } },
  { label: 'k3 s1 p0', x: [1, 2, 5, 5], w: [3, 2, 3, 3], o: {} },
  { label: 'k4 s1 p1', x: [2, 2, 6, 6], w: [3, 2, 4, 4], o: { stride: 1, pad: 1 } },
  { label: 'k4 s2 p1 (H=8, divisible)', x: [2, 3, 8, 8], w: [4, 3, 4, 4], o: { stride: 2, pad: 1 } },
  { label: 'k3 s2 p1 (H=8: (8+2−3) % 2 = 1, last row only reached at the border)', x: [2, 2, 8, 8], w: [3, 2, 3, 3], o: { stride: 2, pad: 1 } },
  { label: 'k3 s2 p1 (H=7, divisible)', x: [2, 2, 7, 7], w: [3, 2, 3, 3], o: { stride: 2, pad: 1 } },
  { label: 'k4 s2 p1 (H=7: (7+2−4) % 2 = 1)', x: [1, 2, 7, 7], w: [3, 2, 4, 4], o: { stride: 2, pad: 1 } },
  { label: 'k3 s3 p0 (H=8: two rows never reached)', x: [1, 2, 8, 8], w: [2, 2, 3, 3], o: { stride: 3 } },
  { label: 'k3 dilation 2 p2', x: [1, 2, 6, 6], w: [3, 2, 3, 3], o: { dilation: 2, pad: 2 } },
  { label: 'k3 dilation 2 s2 p1 (H=8)', x: [1, 2, 8, 8], w: [2, 2, 3, 3], o: { dilation: 2, stride: 2, pad: 1 } },
  { label: 'k3 s2 p1 non-square (H=8 uneven, W=7 even)', x: [1, 2, 8, 7], w: [2, 2, 3, 3], o: { stride: 2, pad: 1 } },
  { label: 'k3 s2 p1 non-square (H=7 even, W=8 uneven)', x: [1, 2, 7, 8], w: [2, 2, 3, 3], o: { stride: 2, pad: 1 } },
  { label: 'k2x3 s1 p1 non-square kernel', x: [1, 2, 5, 6], w: [2, 2, 2, 3], o: { pad: 1 } },
  { label: 'k2x3 s2 p1 non-square kernel (H even, W uneven)', x: [1, 2, 8, 8], w: [2, 2, 2, 3], o: { stride: 2, pad: 1 } },
];

for (const { label, x, w, o } of CONVS) {
  test(`Conv ${label}`, async () => {
    await gradCheck(`Conv ${label}`, [spec(x, undefined, 'x'), spec(w, undefined, 'w')], ([a, b]) => op.conv2d(a!, b!, o));
  });
}

const CONV_TRANSPOSES: readonly { label: string; x: Shape; w: Shape; o: op.ConvTransposeOptions }[] = [
  { label: 'k4 s2 p1', x: [2, 3, 4, 4], w: [3, 2, 4, 4], o: { stride: 2, pad: 1 } },
  { label: 'k3 s1 p1', x: [2, 3, 5, 5], w: [3, 2, 3, 3], o: { stride: 1, pad: 1 } },
  { label: 'k3 s2 p1 outputPadding 1', x: [1, 2, 4, 4], w: [2, 3, 3, 3], o: { stride: 2, pad: 1, outputPadding: 1 } },
  { label: 'k3 dilation 2 p1', x: [1, 2, 4, 4], w: [2, 2, 3, 3], o: { dilation: 2, pad: 1 } },
  { label: 'k4 s2 p1 non-square', x: [1, 2, 3, 5], w: [2, 2, 4, 4], o: { stride: 2, pad: 1 } },
  { label: 'k3 s2 dilation 2 p1 outputPadding 1', x: [1, 2, 4, 4], w: [2, 2, 3, 3], o: { stride: 2, dilation: 2, pad: 1, outputPadding: 1 } },
];

for (const { label, x, w, o } of CONV_TRANSPOSES) {
  test(`ConvTranspose ${label}`, async () => {
    await gradCheck(`ConvTranspose ${label}`, [spec(x, undefined, 'x'), spec(w, undefined, 'w')], ([a, b]) => op.convTranspose2d(a!, b!, o));
  });
}

// ---------------------------------------------------------------- 1-D convolution
// The same primitives on one spatial axis: [N, C, T], weights [Cout, Cin, k]. Shapes cover the
// SEANet layers (dilated 'same' convs, k = 2s strided convs and their transposes) and the uneven
// lengths whose last steps are reached only through the padding, as for the 2-D cases above.

const CONV1DS: readonly { label: string; x: Shape; w: Shape; o: op.ConvOptions }[] = [
  { label: 'k3 p1', x: [2, 3, 9], w: [4, 3, 3], o: { pad: 1 } },
  { label: 'k1', x: [2, 3, 7], w: [2, 3, 1], o: {} },
  { label: 'k3 dilation 3 p3 (same length)', x: [2, 2, 11], w: [3, 2, 3], o: { dilation: 3, pad: 3 } },
  { label: 'k3 dilation 9 p9 (dilated span 19 > T = 12)', x: [1, 2, 12], w: [2, 2, 3], o: { dilation: 9, pad: 9 } },
  { label: 'k4 s2 p1 (T = 10, divisible)', x: [2, 2, 10], w: [3, 2, 4], o: { stride: 2, pad: 1 } },
  { label: 'k10 s5 p3 (T = 20: 20 + 6 − 10 = 16, one step only reached through the padding)', x: [1, 2, 20], w: [2, 2, 10], o: { stride: 5, pad: 3 } },
  { label: 'k3 s3 p0 (T = 8: two steps never reached)', x: [1, 2, 8], w: [2, 2, 3], o: { stride: 3 } },
  { label: 'k3 dilation 2 s2 p1 (T = 9)', x: [1, 2, 9], w: [2, 2, 3], o: { dilation: 2, stride: 2, pad: 1 } },
];

for (const { label, x, w, o } of CONV1DS) {
  test(`Conv 1-D ${label}`, async () => {
    await gradCheck(`Conv 1-D ${label}`, [spec(x, undefined, 'x'), spec(w, undefined, 'w')], ([a, b]) => op.conv1d(a!, b!, o));
  });
}

const CONV_TRANSPOSE1DS: readonly { label: string; x: Shape; w: Shape; o: op.ConvTransposeOptions }[] = [
  { label: 'k4 s2 p1 (T·2 out)', x: [2, 3, 5], w: [3, 2, 4], o: { stride: 2, pad: 1 } },
  { label: 'k10 s5 p3 outputPadding 1 (T·5 out)', x: [1, 2, 4], w: [2, 3, 10], o: { stride: 5, pad: 3, outputPadding: 1 } },
  { label: 'k3 dilation 3 p3', x: [1, 2, 7], w: [2, 2, 3], o: { dilation: 3, pad: 3 } },
];

for (const { label, x, w, o } of CONV_TRANSPOSE1DS) {
  test(`ConvTranspose 1-D ${label}`, async () => {
    await gradCheck(`ConvTranspose 1-D ${label}`, [spec(x, undefined, 'x'), spec(w, undefined, 'w')], ([a, b]) => op.convTranspose1d(a!, b!, o));
  });
}

test('ConvFilterGrad 1-D: gradients for the input and the output gradient (the second-order rule)', async () => {
  await gradCheck('ConvFilterGrad 1-D k3 dilation 3', [spec([2, 2, 9], undefined, 'x'), spec([2, 3, 9], undefined, 'gy')], ([x, gy]) => op.conv1dFilterGrad(x!, gy!, { kernel: 3, dilation: 3, pad: 3 }));
  await gradCheck('ConvFilterGrad 1-D k4 s2', [spec([2, 2, 11], undefined, 'x'), spec([2, 3, 5], undefined, 'gy')], ([x, gy]) => op.conv1dFilterGrad(x!, gy!, { kernel: 4, stride: 2, pad: 1 }));
});

// ---------------------------------------------------------------- composites

test('composite silu', async () => {
  await gradCheck('silu', [spec(FULL)], ([x]) => nn.silu(x!));
});

test('composite softmax over axis 1 and the last axis', async () => {
  await gradCheck('softmax axis 1', [spec(FULL)], ([x]) => nn.softmax(x!, 1));
  await gradCheck('softmax axis -1', [spec(FULL)], ([x]) => nn.softmax(x!, -1));
  // Logits near 100: exp(100) overflows float32, so without the max shift this would be inf/inf.
  // The step h = eps·|x| is kept near 0.01 by a smaller relative eps.
  await gradCheck('softmax of large logits', [spec([3, 4], (_i, rng) => 100 + rng.normal())], ([x]) => nn.softmax(x!, 1), { eps: 1e-4 });
  await gradCheck('logSumExp of large logits', [spec([3, 4], (_i, rng) => 100 + rng.normal())], ([x]) => nn.logSumExp(x!, 1), { eps: 1e-4 });
});

test('composite logSumExp with and without keepDims', async () => {
  await gradCheck('logSumExp axis 1', [spec(FULL)], ([x]) => nn.logSumExp(x!, 1));
  await gradCheck('logSumExp axis -1 keepDims', [spec(FULL)], ([x]) => nn.logSumExp(x!, -1, true));
  await gradCheck('logSumExp axes [0,2]', [spec(FULL)], ([x]) => nn.logSumExp(x!, [0, 2]));
});

test('composite groupNorm: gradients for x, gamma and beta', async () => {
  const specs = [spec([2, 4, 3, 3], undefined, 'x'), spec([4], undefined, 'gamma'), spec([4], undefined, 'beta')];
  await gradCheck('groupNorm 2 groups', specs, ([x, gm, bt]) => nn.groupNorm(x!, gm!, bt!, 2));
  await gradCheck('groupNorm 1 group', specs, ([x, gm, bt]) => nn.groupNorm(x!, gm!, bt!, 1));
  await gradCheck('groupNorm 4 groups', specs, ([x, gm, bt]) => nn.groupNorm(x!, gm!, bt!, 4));
});

test('composite mseLoss and l1Loss', async () => {
  await gradCheck('mseLoss', [spec(FULL, undefined, 'a'), spec(FULL, undefined, 'b')], ([a, b]) => nn.mseLoss(a!, b!));
  // a − b stays ≥ 0.2 away from 0, the kink of |·|: |a| ≥ 0.3 and |b| < 0.1.
  await gradCheck('l1Loss', [spec(FULL, awayFromZero(0.3), 'a'), spec(FULL, uniform(-0.1, 0.1), 'b')], ([a, b]) => nn.l1Loss(a!, b!));
});

test('composite linear with and without bias, on rank 1, 2 and 3 inputs', async () => {
  await gradCheck('linear rank 3 + bias', [spec([2, 3, 5], undefined, 'x'), spec([5, 4], undefined, 'w'), spec([4], undefined, 'b')], ([x, w, b]) => nn.linear(x!, w!, b!));
  await gradCheck('linear rank 2', [spec([3, 5], undefined, 'x'), spec([5, 2], undefined, 'w')], ([x, w]) => nn.linear(x!, w!));
  await gradCheck('linear rank 1 + bias', [spec([5], undefined, 'x'), spec([5, 3], undefined, 'w'), spec([3], undefined, 'b')], ([x, w, b]) => nn.linear(x!, w!, b!));
});

test('composite squaredDistances', async () => {
  await gradCheck('squaredDistances', [spec([5, 3], undefined, 'z'), spec([4, 3], undefined, 'e')], ([z, e]) => nn.squaredDistances(z!, e!));
});

test('composites compute their equations (forward values)', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const big = g.input('big', [2, 3]);
  const z = g.input('z', [2, 3]);
  const e = g.input('e', [4, 3]);
  const img = g.input('img', [1, 4, 2, 2]);
  const gamma = g.input('gamma', [4]);
  const beta = g.input('beta', [4]);
  const w = g.input('w', [3, 2]);
  const b = g.input('b', [2]);
  const feeds = {
    x: Float32Array.of(0.5, -1, 2, 0, 1, -3),
    big: Float32Array.of(1000, 1001, 999, -1000, -1000, -1000),
    z: Float32Array.of(1, 2, 3, -1, 0, 1),
    e: Float32Array.of(1, 2, 3, 0, 0, 0, 2, -1, 0, -1, 0.5, 1),
    img: Float32Array.from({ length: 16 }, (_, i) => (i * 7) % 5 - 1.5 + i * 0.1),
    gamma: Float32Array.of(1, 2, 0.5, -1),
    beta: Float32Array.of(0, 1, -1, 0.5),
    w: Float32Array.of(1, 2, 3, 4, 5, 6),
    b: Float32Array.of(0.5, -0.5),
  };
  const r = await evaluate(
    g,
    {
      silu: nn.silu(x),
      softmax: nn.softmax(big, 1),
      lse: nn.logSumExp(big, 1),
      lseKeep: nn.logSumExp(x, 0, true),
      gn: nn.groupNorm(img, gamma, beta, 2),
      mse: nn.mseLoss(x, z),
      l1: nn.l1Loss(x, z),
      lin: nn.linear(x, w, b),
      dist: nn.squaredDistances(z, e),
    },
    feeds,
  );
  const xs = [...feeds.x];
  assertClose(r.silu as Float32Array, xs.map((v) => v / (1 + Math.exp(-v))), 1e-6, 'silu');
  const sm = (row: number[]): number[] => {
    const m = Math.max(...row);
    const ex = row.map((v) => Math.exp(v - m));
    const s = ex.reduce((p, q) => p + q, 0);
    return ex.map((v) => v / s);
  };
  const bigRows = [[1000, 1001, 999], [-1000, -1000, -1000]];
  assertClose(r.softmax as Float32Array, bigRows.flatMap(sm), 1e-6, 'softmax (large logits stay finite)');
  const lseRef = (row: number[]): number => {
    const m = Math.max(...row);
    return m + Math.log(row.reduce((acc, v) => acc + Math.exp(v - m), 0));
  };
  assertClose(r.lse as Float32Array, bigRows.map(lseRef), 1e-6, 'logSumExp (large logits stay finite)');
  assertClose(r.lseKeep as Float32Array, [0, 1, 2].map((j) => Math.log(Math.exp(xs[j]!) + Math.exp(xs[3 + j]!))), 1e-6, 'logSumExp keepDims');
  // groupNorm reference: groups of 2 channels × 2×2 pixels = 8 consecutive values.
  const imgVals = [...feeds.img];
  const gnRef: number[] = [];
  for (let grp = 0; grp < 2; grp++) {
    const vals = imgVals.slice(grp * 8, grp * 8 + 8);
    const mu = vals.reduce((p, q) => p + q, 0) / 8;
    const v = vals.reduce((p, q) => p + (q - mu) ** 2, 0) / 8;
    vals.forEach((val, i) => {
      const c = grp * 2 + Math.floor(i / 4);
      gnRef.push(((val - mu) / Math.sqrt(v + 1e-5)) * feeds.gamma[c]! + feeds.beta[c]!);
    });
  }
  assertClose(r.gn as Float32Array, gnRef, 1e-5, 'groupNorm');
  const zs = [...feeds.z];
  assertClose(r.mse as Float32Array, [xs.reduce((s, v, i) => s + (v - zs[i]!) ** 2, 0) / 6], 1e-6, 'mseLoss');
  assertClose(r.l1 as Float32Array, [xs.reduce((s, v, i) => s + Math.abs(v - zs[i]!), 0) / 6], 1e-6, 'l1Loss');
  const lin: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) lin.push(feeds.b[j]! + [0, 1, 2].reduce((s, k) => s + xs[i * 3 + k]! * feeds.w[k * 2 + j]!, 0));
  assertClose(r.lin as Float32Array, lin, 1e-6, 'linear');
  const es = [...feeds.e];
  const dist: number[] = [];
  for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) dist.push([0, 1, 2].reduce((s, d) => s + (zs[i * 3 + d]! - es[k * 3 + d]!) ** 2, 0));
  assertClose(r.dist as Float32Array, dist, 1e-5, 'squaredDistances');
});

// ---------------------------------------------------------------- autodiff semantics

test('stopGradient passes zero gradient', async () => {
  // Forward sg is the identity, so finite differences would see a slope; the rule is checked exactly.
  const g = new Graph();
  const x = g.input('x', [4]);
  const [gsg] = grad(op.reduceSum(op.mul(op.stopGradient(x), 2)), [x]);
  // Only the path through sg is cut: d/dx [x · sg(x)] = sg(x) = x.
  const [gmix] = grad(op.reduceSum(op.mul(x, op.stopGradient(x))), [x]);
  const out = await evaluate(g, { gsg: gsg!, gmix: gmix! }, { x: Float32Array.of(1, -2, 3, 0.5) });
  assert.deepEqual([...(out.gsg as Float32Array)], [0, 0, 0, 0]);
  assert.deepEqual([...(out.gmix as Float32Array)], [1, -2, 3, 0.5]);
});

test('straight-through estimator z + sg(e − z): identity for z, exactly zero for e', async () => {
  const g = new Graph();
  const z = g.input('z', [4, 3], 'float32', 'param');
  const e = g.input('e', [4, 3], 'float32', 'param');
  const up = g.input('up', [4, 3]);
  const zq = op.add(z, op.stopGradient(op.sub(e, z)));
  const [gz, ge] = grad(op.reduceSum(op.mul(zq, up)), [z, e]);
  const rng = new Rng(5);
  const feeds = {
    z: Float32Array.from({ length: 12 }, () => rng.normal()),
    e: Float32Array.from({ length: 12 }, () => rng.normal()),
    up: Float32Array.from({ length: 12 }, () => rng.normal()),
  };
  const r = await evaluate(g, { zq, gz: gz!, ge: ge! }, feeds);
  // Forward value is e (up to rounding of z + (e − z)); backward is exactly the upstream gradient.
  assertClose(r.zq as Float32Array, feeds.e, 1e-6, 'z_q');
  assert.deepEqual([...(r.gz as Float32Array)], [...feeds.up]);
  assert.deepEqual([...(r.ge as Float32Array)], new Array<number>(12).fill(0));
});

test('a parameter not on the loss path gets a zero gradient of its shape', async () => {
  const g = new Graph();
  const x = g.input('x', [3], 'float32', 'param');
  const unused = g.input('unused', [2, 2], 'float32', 'param');
  const blocked = g.input('blocked', [3], 'float32', 'param');
  const loss = op.reduceSum(op.add(op.mul(x, x), op.stopGradient(blocked)));
  const [gx, gu, gb] = grad(loss, [x, unused, blocked]);
  assert.deepEqual(gu!.shape, [2, 2]);
  const r = await evaluate(g, { gx: gx!, gu: gu!, gb: gb! }, { x: Float32Array.of(1, 2, 3), blocked: Float32Array.of(1, 1, 1) });
  assert.deepEqual([...(r.gx as Float32Array)], [2, 4, 6]);
  assert.deepEqual([...(r.gu as Float32Array)], [0, 0, 0, 0]);
  assert.deepEqual([...(r.gb as Float32Array)], [0, 0, 0]);
});

test('grad of a non-scalar loss needs a seed; a seed of the loss shape is accepted', async () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const y = op.mul(x, x);
  assert.throws(() => grad(y, [x]), (err: unknown) => err instanceof GraphError && /grad/.test(err.message) && /\[2,3\]/.test(err.message) && /scalar/.test(err.message));
  const seed = g.input('seed', [2, 3]);
  assert.throws(() => grad(y, [x], { seed: g.input('bad', [3]) }), (err: unknown) => err instanceof GraphError && /seed \[3\]/.test(err.message));
  const [gx] = grad(y, [x], { seed });
  const r = await evaluate(g, { gx: gx! }, { x: Float32Array.of(1, 2, 3, 4, 5, 6), seed: Float32Array.of(1, 0, 1, 0, 1, 0) });
  assert.deepEqual([...(r.gx as Float32Array)], [2, 0, 6, 0, 10, 0]);
});

test('integer-output primitives (ArgMin, ArgMax, comparisons, OneHot) pass no gradient', async () => {
  // Through an integer value the only gradient left is the explicit float path: onehot(argmin) ⊙ x.
  const data = distinct(12, 3);
  const r = await gradCheck('ArgMin/OneHot', [spec([3, 4], data)], ([x]) => op.mul(op.oneHot(op.argMin(x!, 1), 4), x!));
  const rAll = await gradCheck(
    'ArgMax/Less/Equal',
    [spec([3, 4], data)],
    ([x]) => op.add(op.cast(op.argMax(x!, 1, true), 'float32'), op.add(op.cast(op.less(x!, 0), 'float32'), op.cast(op.equal(x!, 0.5), 'float32'))),
  );
  assert.ok(rAll.analytic[0]!.every((v) => v === 0));
  // ∂/∂x [onehot(argmin x) ⊙ x] = onehot(argmin x) ⊙ R: exactly one nonzero per row.
  const analytic = r.analytic[0]!;
  for (let row = 0; row < 3; row++) {
    const nonzero = [0, 1, 2, 3].filter((j) => analytic[row * 4 + j] !== 0);
    const vals = [0, 1, 2, 3].map((j) => data[row * 4 + j]!);
    assert.deepEqual(nonzero, [vals.indexOf(Math.min(...vals))]);
  }
});

test('grad with respect to an int64 tensor throws a GraphError mentioning float32', () => {
  const g = new Graph();
  const idx = g.input('idx', [3], 'int64');
  const table = g.input('table', [4, 2]);
  const loss = op.reduceSum(op.gather(table, idx));
  assert.throws(() => grad(loss, [idx]), (err: unknown) => err instanceof GraphError && /float32/.test(err.message) && /idx/.test(err.message));
});

test('the checker itself rejects a wrong gradient, naming the op, input, element and values', async () => {
  // x + sg(x) is 2x forward but has gradient 1: a deliberately wrong "rule" the checker must catch.
  await assert.rejects(
    gradCheck('WrongRule', [spec([2, 3], undefined, 'v')], ([x]) => op.add(x!, op.stopGradient(x!))),
    (err: unknown) =>
      err instanceof Error &&
      /^WrongRule: 6 of 6 gradient elements differ/.test(err.message) &&
      /input 'v'\[2,3\] element \[0,0\] \(x = [-\d.e]+\): analytic [-\d.e]+, numeric [-\d.e]+/.test(err.message),
  );
});

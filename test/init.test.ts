import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/init/rng.js';
import { initialize, kaiming, normal, uniform, xavier, constant, identity } from '../src/init/initializers.js';
import { VariableStore } from '../src/runtime/variables.js';

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (const v of a) { s += v; s2 += v * v; min = Math.min(min, v); max = Math.max(max, v); }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

test('same seed gives the same weights; different seeds differ', () => {
  const a = initialize(normal(1), [64, 64], new Rng(42));
  const b = initialize(normal(1), [64, 64], new Rng(42));
  const c = initialize(normal(1), [64, 64], new Rng(43));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('initializers draw from the documented distributions', () => {
  const rng = new Rng(1);
  const n = normal(0.5, 2);
  const sN = stats(initialize(n, [200, 200], rng));
  assert.ok(Math.abs(sN.mean - 2) < 0.01 && Math.abs(sN.std - 0.5) < 0.01, JSON.stringify(sN));
  const sU = stats(initialize(uniform(-3, 1), [200, 200], rng));
  assert.ok(sU.min >= -3 && sU.max < 1 && Math.abs(sU.mean + 1) < 0.02, JSON.stringify(sU));
  // Kaiming normal, fan-in 64·3·3 = 576: std = √2/√576.
  const sK = stats(initialize(kaiming(), [128, 64, 3, 3], rng));
  assert.ok(Math.abs(sK.std - Math.SQRT2 / 24) < 0.002, JSON.stringify(sK));
  // Xavier uniform on [out=300, in=100]: bound = √(6/400).
  const sX = stats(initialize(xavier(), [300, 100], rng));
  assert.ok(sX.max <= Math.sqrt(6 / 400) && sX.max > 0.95 * Math.sqrt(6 / 400), JSON.stringify(sX));
  assert.deepEqual([...initialize(constant(3), [3], rng)], [3, 3, 3]);
  assert.deepEqual([...initialize(identity, [2, 2], rng)], [1, 0, 0, 1]);
  assert.throws(() => initialize(identity, [2, 3], rng), /square/);
});

test('variables depend on (seed, name) only, not on creation order', () => {
  const s1 = new VariableStore(9);
  const s2 = new VariableStore(9);
  s1.variable('a', 'param', [8], normal(1));
  const b1 = s1.variable('b', 'param', [8], normal(1)).value;
  const b2 = s2.variable('b', 'param', [8], normal(1)).value;
  assert.deepEqual(b1, b2);
  assert.throws(() => s1.variable('b', 'param', [9], normal(1)), /exists as param\[8\]/);
});

test('a checkpoint with NaN, a wrong shape or an unknown name is refused at load', () => {
  const s = new VariableStore(0);
  s.variable('w', 'param', [2], normal(1));
  assert.throws(() => s.load(new Map([['w', { shape: [2], data: Float32Array.of(1, NaN) }]])), /non-finite/);
  assert.throws(() => s.load(new Map([['w', { shape: [3], data: new Float32Array(3) }]])), /shape \[3\].*expects \[2\]/);
  assert.throws(() => s.load(new Map([['v', { shape: [2], data: new Float32Array(2) }]])), /does not define/);
  s.load(new Map([['w', { shape: [2], data: Float32Array.of(1, 2) }]]));
  assert.deepEqual([...s.require('w').value], [1, 2]);
});

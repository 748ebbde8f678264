import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../src/graph/autodiff.js';
import * as op from '../src/graph/ops.js';
import { Rng } from '../src/init/rng.js';
import { Adam } from '../src/optim/adam.js';
import { Sgd } from '../src/optim/sgd.js';
import { InferenceProgram } from '../src/runtime/inference-program.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import {
  assertFiniteQuantizerInput,
  createQuantizer,
  quantizeFeatureMap,
  quantizerFromConfig,
  quantizeVectors,
  SimVQ,
  type Quantizer,
} from '../src/quantizers/index.js';
import { randomNormal, runOnce, toNumbers } from './helpers/quantizer-fixtures.js';

const M = 12, D = 3, K = 10;

function quantizers(): Quantizer[] {
  return [
    createQuantizer('vq', { codebookSize: K, dim: D, init: 'normal' }),
    createQuantizer('ema', { codebookSize: K, dim: D }),
    createQuantizer('simvq', { codebookSize: K, dim: D }),
  ];
}

test('VQ: ∂L/∂e is exactly zero for every unchosen code and equals 2·Σ(e_k − z_i)/(M·d) for chosen ones', async () => {
  const rng = new Rng(1);
  const store = new VariableStore(1);
  const q = createQuantizer('vq', { codebookSize: K, dim: D, init: 'normal' });
  const z = randomNormal(M * D, rng);
  const out = await runOnce(store, (ctx) => {
    const s = ctx.scope('q');
    const res = q.quantize(s, ctx.input('z', [M, D]));
    const [ge] = grad(res.loss, [s.tensorOf('q.codebook')!]);
    return { ge: ge!, idx: res.indices };
  }, { z });
  const ge = out.ge as Float32Array;
  const idx = toNumbers(out.idx!);
  const e = store.require('q.codebook').value;
  const chosen = new Set(idx);
  assert.ok(chosen.size > 1 && chosen.size < K, `the example should leave some codes unchosen (chose ${chosen.size})`);
  for (let k = 0; k < K; k++) {
    const row = Array.from(ge.subarray(k * D, (k + 1) * D));
    if (!chosen.has(k)) {
      assert.deepEqual(row, [0, 0, 0], `unchosen code ${k} got gradient ${row}`);
      continue;
    }
    assert.ok(row.some((v) => v !== 0), `chosen code ${k} got no gradient`);
    for (let j = 0; j < D; j++) {
      let expected = 0;
      idx.forEach((c, i) => {
        if (c === k) expected += (2 * (e[k * D + j]! - z[i * D + j]!)) / (M * D);
      });
      assert.ok(Math.abs(row[j]! - expected) <= 1e-6, `code ${k}[${j}]: ${row[j]} vs ${expected}`);
    }
  }
});

test('the straight-through output passes the decoder gradient to z_e unchanged (all quantizers, exact)', async () => {
  const rng = new Rng(2);
  const z = randomNormal(M * D, rng);
  const upstream = randomNormal(M * D, rng);
  for (const q of quantizers()) {
    const out = await runOnce(new VariableStore(2), (ctx) => {
      const zi = ctx.input('z', [M, D]);
      const up = ctx.input('up', [M, D]);
      const res = q.quantize(ctx.scope('q'), zi);
      const [gz] = grad(op.reduceSum(op.mul(res.quantized, up)), [zi]);
      return { gz: gz! };
    }, { z, up: upstream }, 'train');
    assert.deepEqual(out.gz, upstream, `${q.kind}: ∂L/∂z_e differs from ∂L/∂z_q`);
  }
});

test('the commitment gradient scales with β: ∂L/∂z_e doubles from β = 0.5 to β = 1 and equals 2β(z − e_k)/(M·d)', async () => {
  const rng = new Rng(3);
  const z = randomNormal(M * D, rng);
  const make = [
    (beta: number) => createQuantizer('vq', { codebookSize: K, dim: D, beta, init: 'normal' }),
    (beta: number) => createQuantizer('ema', { codebookSize: K, dim: D, beta }),
    (beta: number) => createQuantizer('simvq', { codebookSize: K, dim: D, beta }),
  ];
  for (const f of make) {
    const grads: Float32Array[] = [];
    let quantized: Float32Array = new Float32Array(0);
    for (const beta of [0.5, 1]) {
      const q = f(beta);
      const out = await runOnce(new VariableStore(3), (ctx) => {
        const zi = ctx.input('z', [M, D]);
        const res = q.quantize(ctx.scope('q'), zi);
        return { gz: grad(res.loss, [zi])[0]!, zq: res.quantized };
      }, { z }, 'train');
      grads.push(out.gz as Float32Array);
      quantized = out.zq as Float32Array;
    }
    const [half, one] = grads as [Float32Array, Float32Array];
    for (let i = 0; i < half.length; i++) {
      assert.ok(Math.abs(one[i]! - 2 * half[i]!) <= 1e-7 * (1 + Math.abs(one[i]!)), `${f(1).kind}: element ${i}: ${one[i]} vs 2·${half[i]}`);
      const expected = (2 * (z[i]! - quantized[i]!)) / (M * D);
      assert.ok(Math.abs(one[i]! - expected) <= 1e-6, `${f(1).kind}: element ${i}: ${one[i]} vs ${expected}`);
    }
  }
});

test('SimVQ (optimize W): one Adam step changes every row of the effective codebook C·W + b and leaves C frozen', async () => {
  const store = new VariableStore(4);
  const q = createQuantizer('simvq', { codebookSize: 64, dim: 4 });
  const m = 32;
  const program = await TrainingProgram.create({
    store,
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      // A trainable "encoder output" stands in for an encoder.
      const z = ctx.param('z', [m, 4], { kind: 'normal', std: 1 });
      return { loss: q.quantize(ctx.scope('q'), z).loss };
    },
  });
  const codebook = await InferenceProgram.create({ store, threads: 1, build: (ctx) => ({ cb: q.codebook(ctx.scope('q')) }) });
  const before = (await codebook.run({})).cb as Float32Array;
  const c0 = store.require('q.codebook').value.slice();
  assert.equal(store.require('q.codebook').trainable, false);
  await program.step({}, 1e-3);
  const after = (await codebook.run({})).cb as Float32Array;
  for (let k = 0; k < 64; k++) {
    let changed = 0;
    for (let j = 0; j < 4; j++) if (after[k * 4 + j] !== before[k * 4 + j]) changed++;
    assert.equal(changed, 4, `row ${k} of C·W changed in only ${changed} of 4 entries`);
  }
  assert.deepEqual(store.require('q.codebook').value, c0);
  await Promise.all([program.release(), codebook.release()]);
});

test('SimVQ with optimize "C" (W = I, b = 0, frozen) reproduces vanilla VQ exactly: indices, loss, output, and three training steps', async () => {
  const rng = new Rng(5);
  const vqStore = new VariableStore(6);
  const simStore = new VariableStore(6);
  const vq = createQuantizer('vq', { codebookSize: 32, dim: 4 });
  const sim = createQuantizer('simvq', { codebookSize: 32, dim: 4, optimize: 'C' });
  const build = (q: Quantizer) => (ctx: import('../src/runtime/build-context.js').BuildContext) => {
    const z = ctx.param('z', [24, 4], { kind: 'normal', std: 1 });
    const res = q.quantize(ctx.scope('q'), z);
    return { loss: res.loss, metrics: { idx: res.indices, zq: res.quantized } };
  };
  const vqProgram = await TrainingProgram.create({ store: vqStore, optimizer: new Adam(), threads: 1, build: build(vq) });
  const simProgram = await TrainingProgram.create({ store: simStore, optimizer: new Adam(), threads: 1, build: build(sim) });
  // Same codebook values in both (C for SimVQ), same z (same seed and name).
  const c = randomNormal(32 * 4, rng, 0.5);
  vqStore.require('q.codebook').value.set(c);
  simStore.require('q.codebook').value.set(c);
  assert.deepEqual(simStore.require('z').value, vqStore.require('z').value);
  assert.equal(simStore.require('q.proj.weight').trainable, false);
  assert.deepEqual(Array.from(simStore.require('q.proj.weight').value), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  for (let step = 0; step < 3; step++) {
    const a = await vqProgram.step({}, 1e-2);
    const b = await simProgram.step({}, 1e-2);
    assert.equal(b.loss, a.loss, `step ${step}: loss`);
    assert.deepEqual(b.metrics.idx, a.metrics.idx, `step ${step}: indices`);
    assert.deepEqual(b.metrics.zq, a.metrics.zq, `step ${step}: quantized output`);
  }
  assert.deepEqual(simStore.require('q.codebook').value, vqStore.require('q.codebook').value);
  await Promise.all([vqProgram.release(), simProgram.release()]);
});

test('SimVQ lookup applies W and b (gathering C then projecting, or projecting then gathering)', async () => {
  const store = new VariableStore(7);
  const q = createQuantizer('simvq', { codebookSize: 16, dim: 3 });
  const few = BigInt64Array.from([3n, 0n, 15n, 3n]);
  const many = BigInt64Array.from({ length: 20 }, (_, i) => BigInt((i * 7) % 16));
  const out = await runOnce(store, (ctx) => {
    const s = ctx.scope('q');
    return {
      cb: q.codebook(s),
      few: q.lookup(s, ctx.input('fewIdx', [2, 2], 'int64')),
      many: q.lookup(s, ctx.input('manyIdx', [20], 'int64')),
    };
  }, { fewIdx: few, manyIdx: many });
  const cb = out.cb as Float32Array;
  const c = store.require('q.codebook').value;
  for (const [name, idx] of [['few', few], ['many', many]] as const) {
    const got = out[name] as Float32Array;
    assert.equal(got.length, idx.length * 3);
    idx.forEach((k, i) => {
      for (let j = 0; j < 3; j++) {
        const expected = cb[Number(k) * 3 + j]!;
        assert.ok(Math.abs(got[i * 3 + j]! - expected) <= 1e-6, `${name}[${i}][${j}]: ${got[i * 3 + j]} vs ${expected}`);
        assert.notEqual(got[i * 3 + j], c[Number(k) * 3 + j], 'lookup returned a raw row of C without W');
      }
    });
  }
});

test('EMA update equals a hand computation on K = 3, d = 2 (N, m and e after one step; the codebook gets no gradient)', async () => {
  const gamma = 0.9, eps = 1e-5, beta = 0.25;
  const e0 = [[0, 0], [1, 1], [5, 5]];
  const z = [[0.1, 0.2], [0.9, 1.2], [1.1, 0.8], [-0.2, 0.1]];
  for (const c0 of [1, 0]) {
    const store = new VariableStore(8);
    const q = createQuantizer('ema', { codebookSize: 3, dim: 2, decay: gamma, epsilon: eps, beta, initialCount: c0 });
    const program = await TrainingProgram.create({
      store,
      optimizer: new Sgd(),
      threads: 1,
      build: (ctx) => {
        const zp = ctx.param('z', [4, 2], { kind: 'constant', value: 0 });
        const res = q.quantize(ctx.scope('q'), zp);
        return { loss: res.loss, metrics: { idx: res.indices, counts: res.counts } };
      },
    });
    // Fresh state: N = c, m = c·e with a random e; overwrite e and m with the hand example.
    assert.equal(store.require('q.codebook').kind, 'state');
    assert.equal(program.trainableCount, 1); // only z: the codebook is no parameter
    const N0 = store.require('q.ema_cluster_size').value;
    assert.deepEqual(Array.from(N0), [c0, c0, c0]);
    const rawE = store.require('q.codebook').value;
    assert.deepEqual(Array.from(store.require('q.ema_sum').value, (v) => v + 0), Array.from(rawE, (v) => c0 * v + 0));
    store.require('q.codebook').value.set(e0.flat());
    store.require('q.ema_sum').value.set(e0.flat().map((v) => c0 * v));
    store.require('z').value.set(z.flat());

    const { loss, metrics } = await program.step({}, 0); // lr 0: z stays put
    // By hand: z0, z3 → code 0; z1, z2 → code 1; code 2 unused.
    const assign = [0, 1, 1, 0];
    assert.deepEqual(toNumbers(metrics.idx as BigInt64Array), assign);
    assert.deepEqual(Array.from(metrics.counts as Float32Array), [2, 2, 0]);
    const n = [0, 0, 0];
    const sums = [[0, 0], [0, 0], [0, 0]];
    let commit = 0;
    z.forEach((v, i) => {
      const k = assign[i]!;
      n[k]! += 1;
      sums[k]![0]! += v[0]!;
      sums[k]![1]! += v[1]!;
      commit += (v[0]! - e0[k]![0]!) ** 2 + (v[1]! - e0[k]![1]!) ** 2;
    });
    assert.ok(Math.abs(loss - (beta * commit) / 8) <= 1e-7, `loss ${loss} vs ${(beta * commit) / 8}`);
    const N = n.map((ni) => gamma * c0 + (1 - gamma) * ni);
    const m = e0.map((row, k) => row.map((v, j) => gamma * c0 * v + (1 - gamma) * sums[k]![j]!));
    const total = N.reduce((a, b) => a + b, 0);
    const smoothed = N.map((Ni) => ((Ni + eps) / (total + 3 * eps)) * total);
    const e = m.map((row, k) => row.map((v) => v / smoothed[k]!));
    const close = (got: Float32Array, want: number[], what: string): void =>
      want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) <= 1e-6 * (1 + Math.abs(w)), `c=${c0} ${what}[${i}]: ${got[i]} vs ${w}`));
    close(store.require('q.ema_cluster_size').value, N, 'N');
    close(store.require('q.ema_sum').value, m.flat(), 'm');
    close(store.require('q.codebook').value, e.flat(), 'e');
    if (c0 === 1) {
      // The unused code keeps (almost) its place: 0.9·5 / (0.9·(1 + ε)·n/(n + 3ε)) ≈ 5.
      assert.ok(Math.abs(store.require('q.codebook').value[4]! - 5) < 1e-3);
    } else {
      // initialCount 0 (Sonnet's effective start): used codes jump to the mean of their vectors.
      assert.ok(Math.abs(store.require('q.codebook').value[2]! - 1.0) < 1e-3);
      assert.equal(store.require('q.codebook').value[4], 0);
    }
    await program.release();
  }
});

test('EMA state is not changed by inference graphs', async () => {
  const store = new VariableStore(9);
  const q = createQuantizer('ema', { codebookSize: 8, dim: 2 });
  const infer = await InferenceProgram.create({ store, threads: 1, build: (ctx) => ({ idx: q.quantize(ctx.scope('q'), ctx.input('z', [5, 2])).indices }) });
  const before = store.snapshot(['state']);
  await infer.run({ z: randomNormal(10, new Rng(1)) });
  for (const [name, { data }] of before) assert.deepEqual(store.require(name).value, data, name);
  await infer.release();
});

test('quantizeVectors and quantizeFeatureMap accept [..., d] and NCHW inputs', async () => {
  const q = createQuantizer('vq', { codebookSize: 6, dim: 2, init: 'normal' });
  const rng = new Rng(10);
  const v = randomNormal(2 * 3 * 2, rng);
  const x = randomNormal(2 * 2 * 3 * 4, rng);
  const store = new VariableStore(10);
  const out = await runOnce(store, (ctx) => {
    const s = ctx.scope('q');
    const a = quantizeVectors(q, s, ctx.input('v', [2, 3, 2]));
    const b = quantizeFeatureMap(q, s, ctx.input('x', [2, 2, 3, 4]));
    assert.deepEqual(a.quantized.shape, [2, 3, 2]);
    assert.deepEqual(a.indices.shape, [2, 3]);
    assert.deepEqual(b.quantized.shape, [2, 2, 3, 4]);
    assert.deepEqual(b.indices.shape, [2, 3, 4]);
    return { aq: a.quantized, ai: a.indices, bq: b.quantized, bi: b.indices };
  }, { v, x });
  const e = store.require('q.codebook').value;
  // Each quantized vector is the codebook row of its index (z + (e − z): equal up to rounding), in
  // the input's layout.
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * (1 + Math.abs(b));
  const ai = toNumbers(out.ai!);
  ai.forEach((k, i) => [0, 1].forEach((j) => assert.ok(near((out.aq as Float32Array)[i * 2 + j]!, e[k * 2 + j]!))));
  const bi = toNumbers(out.bi!);
  const bq = out.bq as Float32Array;
  for (let n = 0; n < 2; n++) {
    for (let p = 0; p < 12; p++) {
      const k = bi[n * 12 + p]!;
      for (let ch = 0; ch < 2; ch++) assert.ok(near(bq[n * 24 + ch * 12 + p]!, e[k * 2 + ch]!));
    }
  }
});

test('bad input: dimension mismatch and wrong rank fail at build time; NaN/Infinity are counted in nonFinite', async () => {
  const q = createQuantizer('vq', { codebookSize: 4, dim: 3 });
  await assert.rejects(
    runOnce(new VariableStore(1), (ctx) => ({ i: q.quantize(ctx, ctx.input('z', [5, 4])).indices }), {}),
    /VectorQuantizer: input must be float32 \[M, 3\].*got z:float32\[5,4\].*output channels equal the code dimension/,
  );
  await assert.rejects(runOnce(new VariableStore(1), (ctx) => ({ i: quantizeVectors(q, ctx, ctx.input('z', [2, 2, 2])).indices }), {}), /\[\.\.\., 3\]/);
  await assert.rejects(runOnce(new VariableStore(1), (ctx) => ({ i: quantizeFeatureMap(q, ctx, ctx.input('z', [1, 2, 2, 2])).indices }), {}), /\[N, 3, H, W\]/);
  for (const qq of quantizers()) {
    const z = randomNormal(M * D, new Rng(2));
    z[4] = NaN;
    z[7] = -Infinity;
    const out = await runOnce(new VariableStore(1), (ctx) => ({ bad: qq.quantize(ctx.scope('q'), ctx.input('z', [M, D])).nonFinite! }), { z });
    assert.equal((out.bad as Float32Array)[0], 2, qq.kind);
    assert.throws(() => assertFiniteQuantizerInput((out.bad as Float32Array)[0]!), /2 entries of z_e are NaN or ±Infinity/);
  }
  assert.doesNotThrow(() => assertFiniteQuantizerInput(0));
});

test('createQuantizer validates names and options with clear errors', () => {
  assert.throws(() => createQuantizer('vqq', { codebookSize: 4, dim: 2 }), /unknown quantizer 'vqq'; valid names: vq, ema, simvq, fsq, lfq, residual/);
  assert.throws(() => createQuantizer('vq', { codebookSize: 0, dim: 2 }), /createQuantizer\('vq'\): codebookSize must be an integer >= 1 and <= 16777216, got 0/);
  assert.throws(() => createQuantizer('ema', { codebookSize: 2.5, dim: 2 }), /codebookSize must be an integer >= 1 and <= 16777216, got 2.5/);
  assert.throws(() => createQuantizer('simvq', { codebookSize: 4, dim: 0 }), /dim must be an integer >= 1 and <= 16384, got 0/);
  assert.throws(() => createQuantizer('vq', { codebookSize: 4, dim: 2, beta: -0.1 }), /beta must be a finite number >= 0, got -0.1/);
  assert.throws(() => createQuantizer('simvq', { codebookSize: 4, dim: 2, beta: NaN }), /beta must be a finite number >= 0, got NaN/);
  assert.throws(() => createQuantizer('ema', { codebookSize: 4, dim: 2, decay: 1 }), /decay must be a finite number >= 0 and < 1, got 1/);
  assert.throws(() => createQuantizer('ema', { codebookSize: 4, dim: 2, epsilon: 0 }), /epsilon must be a finite number > 0/);
  assert.throws(() => createQuantizer('simvq', { codebookSize: 4, dim: 2, optimize: 'X' as 'W' }), /optimize must be one of 'W', 'C', 'both', got 'X'/);
  assert.throws(() => createQuantizer('vq', { codebookSize: 4, dim: 2, init: 'zeros' as 'normal' }), /init must be one of 'uniform', 'normal'/);
  assert.throws(() => createQuantizer('vq', { codebookSize: 4, dim: 2, betta: 1 } as never), /unknown option 'betta'; valid options: codebookSize, dim, beta/);
  assert.throws(() => createQuantizer('vq', { codebookSize: 4, dim: 2, search: { chunkK: 0 } }), /search.chunkK must be an integer >= 1, got 0/);
  assert.throws(() => createQuantizer('vq', { dim: 2 } as never), /missing required option 'codebookSize'/);
  assert.throws(() => createQuantizer('ema', { codebookSize: 4, dim: 2, cosine: true } as never), /unknown option 'cosine'; valid options: .*decay/);
  // The classes check their options themselves too (they are public API).
  assert.throws(() => createQuantizer('vq', { codebookSize: 0, dim: 2 }), /createQuantizer\('vq'\): codebookSize must be an integer >= 1 and <= 16777216, got 0/);
  // undefined options are ignored; configs round-trip.
  const s = createQuantizer('simvq', { codebookSize: 8, dim: 2, optimize: 'both', beta: undefined });
  assert.ok(s instanceof SimVQ);
  assert.equal((s as SimVQ).beta, 0.25);
  for (const q of [s, createQuantizer('vq', { codebookSize: 8, dim: 2, search: { chunkK: 4 } }), createQuantizer('ema', { codebookSize: 8, dim: 2, decay: 0.5 }), createQuantizer('fsq', { dim: 3, levels: [5, 3] }), createQuantizer('lfq', { codebookSize: 16, dim: 4 }), createQuantizer('residual', { base: 'simvq', depth: 2, codebookSize: 8, dim: 2, cosine: true })]) {
    assert.deepEqual(quantizerFromConfig(q.config).config, q.config);
  }
});

/**
 * The fast convolution forms (src/onnx/conv-forms.ts) against the plain ONNX Conv/ConvTranspose
 * lowering: one shape per form, each compared to fp32 tolerance, and the finite-difference
 * gradient check run through them (the checker compiles with the fast forms, as training does).
 * Shapes are sized by the NCHWc block this CPU has, and the reference model's training step is
 * checked to take the blocked forms at that block.
 * The deterministic ScatterAdd (src/onnx/scatter-add.ts) is checked for bit-identical reruns at
 * two threads, and a whole training run at two threads for bit-identical weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveQuantizerConfig } from '../src/quantizers/registry.js';
import { Graph } from '../src/graph/graph.js';
import * as op from '../src/graph/ops.js';
import { shapeSize, type Shape, type Tensor } from '../src/graph/tensor.js';
import { Rng } from '../src/init/rng.js';
import { buildModel, makeModelConfig } from '../src/models/config.js';
import { autoencode } from '../src/models/forward.js';
import { defaultSeanetArchitecture, seanet } from '../src/models/seanet.js';
import { mseLoss } from '../src/graph/composites.js';
import { P } from '../src/onnx/emitter.js';
import { encodeModel, toModelProto } from '../src/onnx/lower.js';
import type { onnx } from 'onnx-proto';
import { conv2dLayer } from '../src/layers/conv2d.js';
import { convTranspose2dLayer } from '../src/layers/conv-transpose2d.js';
import { Adam } from '../src/optim/adam.js';
import { nchwcTarget } from '../src/runtime/conv-target.js';
import { currentRuntime } from '../src/runtime/runtime.js';
import { CompiledGraph } from '../src/runtime/session.js';
import { TrainingProgram } from '../src/runtime/training-program.js';
import { VariableStore } from '../src/runtime/variables.js';
import { quantizeFeatureMap } from '../src/quantizers/quantizer.js';
import { createQuantizer } from '../src/quantizers/registry.js';
import { gradCheck } from './helpers/gradcheck.js';

const blocked = await nchwcTarget(currentRuntime());
const skip = blocked ? false : 'this ONNX Runtime build or CPU has no NCHWc kernels';
/**
 * The channel counts of the shapes below are multiples of this CPU's NCHWc block (8 with AVX2, 16
 * with AVX-512), so the blocked forms apply wherever the test expects them.
 */
const B = blocked?.nchwcBlock ?? 8;

function randomData(shape: Shape, rng: Rng): Float32Array {
  return Float32Array.from({ length: shapeSize(shape) }, () => rng.normal());
}

type Build = (a: Tensor, b: Tensor) => Tensor;

/**
 * ∂L/∂w[o,c,u,v] = Σ_{n,i,j} gy[n,o,i,j] · x[n, c, i·s − p + u, j·s − p + v] summed directly in
 * float64: the reference for the filter-gradient forms (whose standard-ops lowering is itself one
 * of the forms).
 */
function filterGradReference(x: Float32Array, xs: Shape, gy: Float32Array, gs: Shape, k: number, s: number, p: number): Float32Array {
  const [n, c, h, w] = xs as [number, number, number, number];
  const [, o, ho, wo] = gs as [number, number, number, number];
  const out = new Float32Array(o * c * k * k);
  for (let oc = 0; oc < o; oc++) for (let ic = 0; ic < c; ic++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
    let sum = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
      const [r, q] = [i * s - p + u, j * s - p + v];
      if (r >= 0 && r < h && q >= 0 && q < w) sum += gy[((b * o + oc) * ho + i) * wo + j]! * x[((b * c + ic) * h + r) * w + q]!;
    }
    out[((oc * c + ic) * k + u) * k + v] = sum;
  }
  return out;
}

/** Max |fast − reference| over the output, and the reference's largest magnitude. */
async function compareForms(a: Shape, b: Shape, build: Build, reference?: (a: Float32Array, b: Float32Array) => Float32Array): Promise<{ error: number; scale: number; ops: string[] }> {
  const rng = new Rng(5);
  const feeds = { a: randomData(a, rng), b: randomData(b, rng) };
  const results: Float32Array[] = [];
  let ops: string[] = [];
  for (const standardOpsOnly of reference ? [false] : [true, false]) {
    const g = new Graph();
    const y = build(g.input('a', a), g.input('b', b));
    const compiled = await CompiledGraph.create(g, { y }, { threads: 1, standardOpsOnly });
    results.push((await compiled.run(feeds)).y as Float32Array);
    if (!standardOpsOnly) ops = opTypes(compiled.modelBytes);
    await compiled.release();
  }
  if (reference) results.unshift(reference(feeds.a, feeds.b));
  const [plain, fast] = results as [Float32Array, Float32Array];
  assert.equal(fast.length, plain.length);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < plain.length; i++) {
    error = Math.max(error, Math.abs(fast[i]! - plain[i]!));
    scale = Math.max(scale, Math.abs(plain[i]!));
  }
  return { error, scale, ops };
}

/** The operator types in a serialized model (the op_type strings are plain UTF-8 in the protobuf). */
function opTypes(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('latin1');
  return ['ReorderInput', 'DepthToSpace', 'MatMul', 'ConvTranspose', 'Conv'].filter((t) => text.includes(t));
}

const filterGrad = (a: Shape, b: Shape, k: number, s: number, p: number) => (x: Float32Array, gy: Float32Array) => filterGradReference(x, a, gy, b, k, s, p);

/** ∂L/∂w[o,c,u] = Σ_{n,i} gy[n,o,i] · x[n, c, i·s − p + u·d] in float64: the 1-D reference. */
const filterGrad1d = (xs: Shape, gs: Shape, k: number, s: number, p: number, d: number) => (x: Float32Array, gy: Float32Array): Float32Array => {
  const [n, c, t] = xs as [number, number, number];
  const [, o, to] = gs as [number, number, number];
  const out = new Float32Array(o * c * k);
  for (let oc = 0; oc < o; oc++) for (let ic = 0; ic < c; ic++) for (let u = 0; u < k; u++) {
    let sum = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < to; i++) {
      const r = i * s - p + u * d;
      if (r >= 0 && r < t) sum += gy[(b * o + oc) * to + i]! * x[(b * c + ic) * t + r]!;
    }
    out[(oc * c + ic) * k + u] = sum;
  }
  return out;
};

const FORMS: readonly { label: string; a: Shape; b: Shape; build: Build; uses: string; avoids?: string; reference?: (a: Float32Array, b: Float32Array) => Float32Array }[] = [
  { label: 'Conv 3×3 s1 as NCHWc', a: [2, B, 6, 6], b: [2 * B, B, 3, 3], build: (x, w) => op.conv2d(x, w, { pad: 1 }), uses: 'ReorderInput' },
  { label: 'Conv 4×4 s2 as NCHWc', a: [2, B, 8, 8], b: [B, B, 4, 4], build: (x, w) => op.conv2d(x, w, { stride: 2, pad: 1 }), uses: 'ReorderInput' },
  { label: 'ConvTranspose 3×3 s1 as the NCHWc conv with the flipped filter', a: [2, B, 5, 5], b: [B, 2 * B, 3, 3], build: (x, w) => op.convTranspose2d(x, w, { pad: 1 }), uses: 'ReorderInput', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 4×4 s2 p1 as four sub-pixel NCHWc convs', a: [2, 2 * B, 4, 5], b: [2 * B, B, 4, 4], build: (x, w) => op.convTranspose2d(x, w, { stride: 2, pad: 1 }), uses: 'DepthToSpace', avoids: 'ConvTranspose' },
  { label: 'ConvFilterGrad 1×1 as one MatMul', a: [2, 8, 5, 5], b: [2, 16, 5, 5], build: (x, gy) => op.conv2dFilterGrad(x, gy, { kernel: [1, 1] }), uses: 'MatMul', avoids: 'Conv', reference: filterGrad([2, 8, 5, 5], [2, 16, 5, 5], 1, 1, 0) },
  { label: 'ConvFilterGrad 3×3 to 64 channels as im2col + MatMul', a: [2, 8, 5, 5], b: [2, 64, 5, 5], build: (x, gy) => op.conv2dFilterGrad(x, gy, { kernel: [3, 3], pad: 1 }), uses: 'MatMul', avoids: 'Conv', reference: filterGrad([2, 8, 5, 5], [2, 64, 5, 5], 3, 1, 1) },
  // Fewer than 64 output channels, batch and channels whole blocks: the swapped NCHWc conv.
  { label: `ConvFilterGrad 3×3 to ${2 * B} channels as the swapped NCHWc conv`, a: [B, 8, 5, 5], b: [B, 2 * B, 5, 5], build: (x, gy) => op.conv2dFilterGrad(x, gy, { kernel: [3, 3], pad: 1 }), uses: 'ReorderInput', reference: filterGrad([B, 8, 5, 5], [B, 2 * B, 5, 5], 3, 1, 1) },
  // 1-D convolutions: the blocked kernels through a height-1 view, or the plain 1-D nodes.
  { label: 'Conv 1-D k3 dilation 3 as NCHWc', a: [2, B, 20], b: [B, B, 3], build: (x, w) => op.conv1d(x, w, { pad: 3, dilation: 3 }), uses: 'ReorderInput' },
  { label: 'Conv 1-D k4 s2 as NCHWc', a: [2, B, 16], b: [2 * B, B, 4], build: (x, w) => op.conv1d(x, w, { stride: 2, pad: 1 }), uses: 'ReorderInput' },
  { label: 'Conv 1-D k16 s8 as the plain 1-D conv', a: [2, B, 64], b: [B, B, 16], build: (x, w) => op.conv1d(x, w, { stride: 8, pad: 4 }), uses: 'Conv', avoids: 'ReorderInput' },
  { label: 'ConvTranspose 1-D k3 dilation 3 as the NCHWc conv with the flipped filter', a: [2, B, 9], b: [B, 2 * B, 3], build: (x, w) => op.convTranspose1d(x, w, { pad: 3, dilation: 3 }), uses: 'ReorderInput', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 1-D k3 dilation 3, channels no whole block, as the plain conv with the flipped filter', a: [2, 3, 9], b: [3, 2, 3], build: (x, w) => op.convTranspose1d(x, w, { pad: 3, dilation: 3 }), uses: 'Conv', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 1-D k1 as the plain 1-tap conv with the swapped filter', a: [2, B, 7], b: [B, 5, 1], build: (x, w) => op.convTranspose1d(x, w), uses: 'Conv', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 1-D k8 s4 p2 as one sub-pixel NCHWc conv', a: [2, B, 5], b: [B, B, 8], build: (x, w) => op.convTranspose1d(x, w, { stride: 4, pad: 2 }), uses: 'ReorderInput', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 1-D k10 s5 p3 outputPadding 1 as one sub-pixel plain conv', a: [2, 3, 4], b: [3, 2, 10], build: (x, w) => op.convTranspose1d(x, w, { stride: 5, pad: 3, outputPadding: 1 }), uses: 'Conv', avoids: 'ConvTranspose' },
  { label: 'ConvTranspose 1-D k6 s2 stays the plain node (k ≠ 2s)', a: [2, B, 5], b: [B, B, 6], build: (x, w) => op.convTranspose1d(x, w, { stride: 2, pad: 1 }), uses: 'ConvTranspose' },
  // One input channel, k a whole number of strides (an STFT's analysis filterbank): frames + one MatMul, and its adjoint by overlap-add.
  { label: 'Conv 1-D one channel k8 s2 p1 as frames + one MatMul', a: [2, 1, 21], b: [5, 1, 8], build: (x, w) => op.conv1d(x, w, { stride: 2, pad: 1 }), uses: 'MatMul', avoids: 'Conv' },
  { label: 'Conv 1-D one channel k6 s3, samples past the last frame, as frames + one MatMul', a: [2, 1, 20], b: [4, 1, 6], build: (x, w) => op.conv1d(x, w, { stride: 3 }), uses: 'MatMul', avoids: 'Conv' },
  { label: 'Conv 1-D one channel k4 s4 (frames side by side) as one MatMul', a: [2, 1, 13], b: [3, 1, 4], build: (x, w) => op.conv1d(x, w, { stride: 4 }), uses: 'MatMul', avoids: 'Conv' },
  { label: 'ConvTranspose 1-D to one channel k8 s2 p1 outputPadding 1 as MatMul + overlap-add', a: [2, 5, 6], b: [5, 1, 8], build: (x, w) => op.convTranspose1d(x, w, { stride: 2, pad: 1, outputPadding: 1 }), uses: 'MatMul', avoids: 'Conv' },
  { label: 'ConvTranspose 1-D to one channel k8 s2 outputPadding 1 (zeros past the frames) as MatMul + overlap-add', a: [2, 5, 6], b: [5, 1, 8], build: (x, w) => op.convTranspose1d(x, w, { stride: 2, outputPadding: 1 }), uses: 'MatMul', avoids: 'Conv' },
  { label: 'ConvFilterGrad 1-D k4 s2 as im2col + MatMul', a: [2, 8, 12], b: [2, 16, 6], build: (x, gy) => op.conv1dFilterGrad(x, gy, { kernel: 4, stride: 2, pad: 1 }), uses: 'MatMul', avoids: 'Conv', reference: filterGrad1d([2, 8, 12], [2, 16, 6], 4, 2, 1, 1) },
  { label: 'ConvFilterGrad 1-D k3 dilation 9 as im2col + MatMul', a: [2, 8, 12], b: [2, 16, 12], build: (x, gy) => op.conv1dFilterGrad(x, gy, { kernel: 3, dilation: 9, pad: 9 }), uses: 'MatMul', avoids: 'Conv', reference: filterGrad1d([2, 8, 12], [2, 16, 12], 3, 1, 9, 9) },
  { label: 'ConvFilterGrad 4×4 s2 as the swapped plain conv', a: [2, 8, 8, 8], b: [2, 8, 4, 4], build: (x, gy) => op.conv2dFilterGrad(x, gy, { kernel: [4, 4], stride: 2, pad: 1 }), uses: 'Conv', avoids: 'ReorderInput', reference: filterGrad([2, 8, 8, 8], [2, 8, 4, 4], 4, 2, 1) },
];

for (const { label, a, b, build, uses, avoids, reference } of FORMS) {
  test(`${label} equals the ${reference ? 'direct sum' : 'plain lowering'} to fp32 tolerance`, { skip }, async () => {
    const { error, scale, ops } = await compareForms(a, b, build, reference);
    assert.ok(ops.includes(uses), `${label}: expected the fast form to use ${uses}, got ${ops.join(', ')}`);
    if (avoids) assert.ok(!ops.includes(avoids), `${label}: the fast form still uses ${avoids}`);
    assert.ok(error <= 1e-5 * (1 + scale), `${label}: max |fast − plain| = ${error} at output scale ${scale}`);
  });
}

test('finite-difference gradients through the fast conv forms', { skip }, async () => {
  const conv = (o: op.ConvOptions) => ([x, w]: Tensor[]) => op.conv2d(x!, w!, o);
  const convT = (o: op.ConvTransposeOptions) => ([x, w]: Tensor[]) => op.convTranspose2d(x!, w!, o);
  await gradCheck('Conv 3×3 NCHWc', [{ shape: [2, B, 5, 5], name: 'x' }, { shape: [B, B, 3, 3], name: 'w' }], conv({ pad: 1 }));
  await gradCheck('Conv 4×4 s2 NCHWc', [{ shape: [2, B, 8, 8], name: 'x' }, { shape: [B, B, 4, 4], name: 'w' }], conv({ stride: 2, pad: 1 }));
  await gradCheck('ConvTranspose 4×4 s2 sub-pixel', [{ shape: [2, B, 4, 4], name: 'x' }, { shape: [B, B, 4, 4], name: 'w' }], convT({ stride: 2, pad: 1 }));
  await gradCheck('ConvTranspose 3×3 s1 flipped', [{ shape: [2, B, 4, 4], name: 'x' }, { shape: [B, B, 3, 3], name: 'w' }], convT({ pad: 1 }));
  await gradCheck('ConvFilterGrad im2col', [{ shape: [2, 4, 5, 5], name: 'x' }, { shape: [2, 64, 5, 5], name: 'gy' }], ([x, gy]) => op.conv2dFilterGrad(x!, gy!, { kernel: [3, 3], pad: 1 }));
  await gradCheck('Conv 1-D k3 dilation 3 NCHWc', [{ shape: [2, B, 11], name: 'x' }, { shape: [B, B, 3], name: 'w' }], ([x, w]) => op.conv1d(x!, w!, { pad: 3, dilation: 3 }));
  await gradCheck('Conv 1-D k4 s2 NCHWc', [{ shape: [2, B, 12], name: 'x' }, { shape: [B, B, 4], name: 'w' }], ([x, w]) => op.conv1d(x!, w!, { stride: 2, pad: 1 }));
  await gradCheck('ConvTranspose 1-D k3 flipped', [{ shape: [2, B, 7], name: 'x' }, { shape: [B, B, 3], name: 'w' }], ([x, w]) => op.convTranspose1d(x!, w!, { pad: 1 }));
  await gradCheck('ConvTranspose 1-D k4 s2 sub-pixel', [{ shape: [2, B, 5], name: 'x' }, { shape: [B, B, 4], name: 'w' }], ([x, w]) => op.convTranspose1d(x!, w!, { stride: 2, pad: 1 }));
  await gradCheck('ConvTranspose 1-D k10 s5 sub-pixel', [{ shape: [1, 3, 3], name: 'x' }, { shape: [3, 2, 10], name: 'w' }], ([x, w]) => op.convTranspose1d(x!, w!, { stride: 5, pad: 3, outputPadding: 1 }));
  await gradCheck('Conv 1-D one channel framed', [{ shape: [2, 1, 21], name: 'x' }, { shape: [5, 1, 8], name: 'w' }], ([x, w]) => op.conv1d(x!, w!, { stride: 2, pad: 1 }));
  await gradCheck('ConvTranspose 1-D to one channel by overlap-add', [{ shape: [2, 5, 6], name: 'x' }, { shape: [5, 1, 8], name: 'w' }], ([x, w]) => op.convTranspose1d(x!, w!, { stride: 2, pad: 1, outputPadding: 1 }));
  await gradCheck('ConvFilterGrad swapped NCHWc', [{ shape: [B, 8, 4, 4], name: 'x' }, { shape: [B, B, 4, 4], name: 'gy' }], ([x, gy]) => op.conv2dFilterGrad(x!, gy!, { kernel: [3, 3], pad: 1 }));
});

test('every forced form of a pass computes the same values (the overrides the conv-forms benchmark measures)', { skip }, async () => {
  const [xs, gs] = [[B, 8, 5, 5], [B, 2 * B, 5, 5]] as const;
  const rng = new Rng(11);
  const [x, gy] = [randomData(xs, rng), randomData(gs, rng)];
  const reference = filterGradReference(x, xs, gy, gs, 3, 1, 1);
  const runtime = currentRuntime();
  for (const filterGrad of ['im2col', 'swapped-nchwc', 'swapped-plain'] as const) {
    const g = new Graph();
    const y = op.conv2dFilterGrad(g.input('a', xs), g.input('b', gs), { kernel: [3, 3], pad: 1 });
    const bytes = encodeModel(toModelProto(g, [{ name: 'y', tensor: y }], { convTarget: { nchwcBlock: B, force: { filterGrad } } }));
    const session = await runtime.createSession(bytes, { threads: 1 });
    const out = (await session.run({ a: runtime.tensor('float32', x, xs), b: runtime.tensor('float32', gy, gs) })).y!.data as Float32Array;
    await session.release();
    const error = Math.max(...out.map((v, i) => Math.abs(v - reference[i]!)));
    assert.ok(error <= 1e-4, `${filterGrad}: max error ${error}`);
    assert.equal(opTypes(bytes).includes('ReorderInput'), filterGrad === 'swapped-nchwc', `${filterGrad} took another form`);
  }
});

/** ONNX attribute `name` of a node as integers (empty when absent). */
function intsOf(node: onnx.INodeProto, name: string): number[] {
  return (node.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number) ?? [];
}

test(`the reference model's training step takes the blocked conv forms at this CPU's block (${B})`, { skip }, async () => {
  const config = makeModelConfig({ input: { channels: 1, height: 28, width: 28 }, quantizer: resolveQuantizerConfig('simvq', { codebookSize: 64, dim: 64, beta: 0.25 }) });
  const model = buildModel(config);
  const program = await TrainingProgram.create({
    store: new VariableStore(0),
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => ({ loss: autoencode(ctx, model, ctx.input('x', [32, 1, 28, 28])).loss }),
  });
  const graph = P.ModelProto.decode(program.compiled.modelBytes).graph!;
  await program.release();
  const nodes = graph.node ?? [];
  const inputShapes = new Map((graph.input ?? []).map((i) => [i.name!, (i.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue))]));
  // Forward: enc 4×4 s2 64→128, enc 3×3 128→128, 2 residual 3×3 128→32, dec 3×3 64→128, 2 residual,
  // convT 4×4 s2 128→64 as 4 sub-pixel convs (11). ∂x: the two 4×4 s2 convs' transposes (enc 128→64
  // as 4 sub-pixel convs, dec convT's ∂x as 1 conv), the six 3×3 convs flipped (6). ∂w: the four
  // 128→32 residual convs as the swapped conv (4; the 3×3 convs to 128 channels use im2col).
  const blockedConvs = nodes.filter((n) => n.domain === 'com.microsoft.nchwc' && n.opType === 'Conv');
  assert.equal(blockedConvs.length, 11 + 4 + 1 + 6 + 4, `blocked convs: ${blockedConvs.length}`);
  for (const n of nodes) {
    if ((n.domain ?? '') !== '' || (n.opType !== 'Conv' && n.opType !== 'ConvTranspose')) continue;
    const kernel = intsOf(n, 'kernel_shape');
    if (kernel.every((k) => k === 1)) continue; // 1×1 convs stay plain by measurement
    if (intsOf(n, 'dilations').some((d) => d !== 1)) continue; // ∂w of a stride-2 conv: the swapped plain conv by measurement
    // Otherwise only the convs on the one-channel image, which is no whole block, may stay plain.
    const w = inputShapes.get(n.input![1]!);
    assert.ok(w !== undefined && (w[0] === 1 || w[1] === 1), `${n.opType} ${n.name} with filter ${n.input![1]} [${w?.join(',') ?? 'computed'}] was not given a blocked form`);
  }
});

test(`a SEANet training step takes the 1-D fast forms at this CPU's block (${B}): ORT's ConvTranspose only for the stride-8 upsampling and its adjoint`, { skip }, async () => {
  const arch = seanet({ channels: 1, height: 1, width: 640 }, B, defaultSeanetArchitecture({ channels: B, dilations: [1, 3] }));
  const program = await TrainingProgram.create({
    store: new VariableStore(0),
    optimizer: new Adam(),
    threads: 1,
    build: (ctx) => {
      const x = ctx.input('x', [2, 1, 1, 640]);
      return { loss: mseLoss(arch.decode(ctx.scope('decoder'), arch.encode(ctx.scope('encoder'), x)), x) };
    },
  });
  const nodes = P.ModelProto.decode(program.compiled.modelBytes).graph!.node ?? [];
  await program.release();
  // The decoder's stride-8 upsampling and the input gradient of the encoder's stride-8 conv.
  const transposes = nodes.filter((n) => n.opType === 'ConvTranspose');
  assert.deepEqual(transposes.map((n) => intsOf(n, 'strides')), [[8], [8]]);
  // Blocked convs: every multi-tap conv up to 10 taps forward, every stride-1 conv's input gradient,
  // and the sub-pixel phases of the stride-2, 4 and 5 transposes and of their adjoints.
  const blockedConvs = nodes.filter((n) => n.domain === 'com.microsoft.nchwc' && n.opType === 'Conv');
  assert.ok(blockedConvs.length >= 30, `only ${blockedConvs.length} blocked convs`);
  const kernels = new Set(blockedConvs.map((n) => intsOf(n, 'kernel_shape').join('x')));
  for (const k of ['1x2', '1x3', '1x4', '1x7', '1x8', '1x10']) assert.ok(kernels.has(k), `no blocked ${k} conv among ${[...kernels].join(', ')}`);
});

test('ConvFilterGrad refuses a gradient whose maps do not match the conv', () => {
  const g = new Graph();
  assert.throws(() => op.conv2dFilterGrad(g.input('x', [2, 3, 8, 8]), g.input('gy', [2, 4, 5, 5]), { kernel: [3, 3], pad: 1 }), /gives 8x8 maps, but the gradient is \[2,4,5,5\]/);
});

test('ScatterAdd with many repeated rows is bit-identical across reruns at 2 threads and matches a float64 sum', async () => {
  const [k, d, n] = [16, 64, 8192];
  const rng = new Rng(9);
  const updates = randomData([n, d], rng);
  const indices = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 16));
  const g = new Graph();
  const y = op.scatterAdd(op.expand(g.scalar(0), [k, d]), g.input('i', [n], 'int64'), g.input('u', [n, d]));
  const compiled = await CompiledGraph.create(g, { y }, { threads: 2 });
  const first = Buffer.from(((await compiled.run({ i: indices, u: updates })).y as Float32Array).slice().buffer);
  for (let r = 0; r < 150; r++) {
    const again = (await compiled.run({ i: indices, u: updates })).y as Float32Array;
    assert.ok(first.equals(Buffer.from(again.slice().buffer)), `rerun ${r} differs from the first`);
  }
  await compiled.release();
  const exact = new Float64Array(k * d);
  for (let j = 0; j < n; j++) for (let c = 0; c < d; c++) exact[Number(indices[j]) * d + c]! += updates[j * d + c]!;
  const got = new Float32Array(first.buffer, first.byteOffset, k * d);
  for (let i = 0; i < k * d; i++) assert.ok(Math.abs(got[i]! - exact[i]!) <= 1e-4 * (1 + Math.abs(exact[i]!)), `element ${i}: ${got[i]} vs ${exact[i]}`);
});

test('two trainings at 2 threads with the same seed end with byte-identical variables', async () => {
  // Big enough that ORT splits the codebook's ScatterAdd between threads (6272 rows of 64 into
  // 16 codes), which is where the step used to depend on scheduling.
  const rng = new Rng(3);
  const images = Float32Array.from({ length: 32 * 28 * 28 }, () => rng.uniform());
  const train = async (): Promise<Map<string, Buffer>> => {
    const store = new VariableStore(4);
    const quantizer = createQuantizer('vq', { codebookSize: 16, dim: 64 });
    const program = await TrainingProgram.create({
      store,
      optimizer: new Adam(),
      threads: 2,
      build: (ctx) => {
        const x = ctx.input('x', [32, 1, 28, 28]);
        let h = op.relu(conv2dLayer(ctx.scope('enc1'), x, { outChannels: 16, kernel: 4, stride: 2, pad: 1 }));
        h = conv2dLayer(ctx.scope('enc2'), h, { outChannels: 64, kernel: 4, stride: 2, pad: 1 });
        const q = quantizeFeatureMap(quantizer, ctx.scope('vq'), h);
        h = conv2dLayer(ctx.scope('dec0'), q.quantized, { outChannels: 16, kernel: 3, pad: 1 });
        h = op.relu(convTranspose2dLayer(ctx.scope('dec1'), h, { outChannels: 8, kernel: 4, stride: 2, pad: 1 }));
        const y = convTranspose2dLayer(ctx.scope('dec2'), h, { outChannels: 1, kernel: 4, stride: 2, pad: 1 });
        const err = op.sub(y, x);
        return { loss: op.add(op.reduceMean(op.mul(err, err)), q.loss) };
      },
    });
    for (let s = 0; s < 6; s++) await program.step({ x: images }, 1e-2);
    await program.release();
    return new Map(store.list().map((v) => [v.name, Buffer.from(v.value.slice().buffer)]));
  };
  const [a, b] = [await train(), await train()];
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between the two runs`);
});

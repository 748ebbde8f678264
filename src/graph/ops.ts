/**
 * The closed set of primitive ops. Every other operation in vqlab (layers, losses, quantizers,
 * optimizers) is composed from these. Each primitive
 *   - validates its inputs and infers its output shape here, throwing a `GraphError` that names
 *     the op and the shapes when they do not fit;
 *   - has one ONNX lowering in `src/onnx/lower.ts`;
 *   - has one gradient rule in `src/graph/gradients.ts` (or none: integer outputs, stop-gradient).
 *
 * Conventions follow ONNX: NCHW images, conv weights [Cout, Cin, kh, kw], conv-transpose weights
 * [Cin, Cout, kh, kw], numpy broadcasting for elementwise ops, negative axes count from the end.
 * The three convolution primitives also take one spatial axis (NCT signals, weights [Cout, Cin, k]),
 * built by conv1d, conv1dFilterGrad and convTranspose1d.
 */
import type { Graph } from './graph.js';
import { formatShape, GraphError, shapeEquals, shapeSize, Tensor, type DType, type Shape } from './tensor.js';

export type TensorLike = Tensor | number;

function graphOf(op: string, xs: readonly TensorLike[]): Graph {
  for (const x of xs) if (x instanceof Tensor) return x.graph;
  throw new GraphError(op, 'needs at least one tensor operand');
}

function lift(g: Graph, x: TensorLike): Tensor {
  return x instanceof Tensor ? x : g.scalar(x);
}

function requireFloat(op: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    if (x.dtype !== 'float32') throw new GraphError(op, `expects float32 operands, got ${x.toString()}`);
  }
}

function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Numpy broadcasting of two shapes; throws naming both shapes when they are incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new GraphError(op, `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

// ---------------------------------------------------------------- elementwise binary

type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow';

function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const g = graphOf(op, [a, b]);
  const x = lift(g, a);
  const y = lift(g, b);
  requireFloat(op, x, y);
  const shape = broadcastShapes(op, x.shape, y.shape);
  return g.addNode(op, [x, y], {}, [{ shape, dtype: 'float32' }])[0]!;
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('Add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('Sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('Mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('Div', a, b);
/** a^b elementwise. The gradient with respect to `b` uses log(a), so it needs a > 0 where used. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('Pow', a, b);

type CompareOp = 'Less' | 'Greater' | 'Equal';

function compare(op: CompareOp, a: TensorLike, b: TensorLike): Tensor {
  const g = graphOf(op, [a, b]);
  const x = lift(g, a);
  const y = lift(g, b);
  if (x.dtype !== y.dtype) throw new GraphError(op, `operands differ in dtype: ${x.toString()} vs ${y.toString()}`);
  const shape = broadcastShapes(op, x.shape, y.shape);
  return g.addNode(op, [x, y], {}, [{ shape, dtype: 'bool' }])[0]!;
}

export const less = (a: TensorLike, b: TensorLike): Tensor => compare('Less', a, b);
export const greater = (a: TensorLike, b: TensorLike): Tensor => compare('Greater', a, b);
export const equal = (a: TensorLike, b: TensorLike): Tensor => compare('Equal', a, b);

/** cond ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const g = cond.graph;
  if (cond.dtype !== 'bool') throw new GraphError('Where', `condition must be bool, got ${cond.toString()}`);
  let x = a instanceof Tensor ? a : undefined;
  let y = b instanceof Tensor ? b : undefined;
  const dtype: DType = x?.dtype ?? y?.dtype ?? 'float32';
  const liftAs = (v: number): Tensor => g.scalar(v, dtype === 'int64' ? 'int64' : 'float32');
  x ??= liftAs(a as number);
  y ??= liftAs(b as number);
  if (x.dtype !== y.dtype) throw new GraphError('Where', `branches differ in dtype: ${x.toString()} vs ${y.toString()}`);
  const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, x.shape), y.shape);
  return g.addNode('Where', [cond, x, y], {}, [{ shape, dtype: x.dtype }])[0]!;
}

// ---------------------------------------------------------------- elementwise unary

type UnaryOp = 'Neg' | 'Relu' | 'Elu' | 'Sigmoid' | 'Exp' | 'Log' | 'Sqrt' | 'Abs' | 'Sign';

function unary(op: UnaryOp, x: Tensor): Tensor {
  requireFloat(op, x);
  return x.graph.addNode(op, [x], {}, [{ shape: x.shape, dtype: 'float32' }])[0]!;
}

export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
/**
 * ELU with α = 1 (Clevert et al. 2016): x for x > 0, e^x − 1 otherwise; SEANet's activation
 * (Tagliasacchi et al. 2020; EnCodec, Défossez et al. 2022). A primitive rather than a composite of
 * Relu, Neg and Exp: on audio-length tensors the seven elementwise passes of that composite (and
 * their backward passes) took most of a SEANet training step.
 */
export const elu = (x: Tensor): Tensor => unary('Elu', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
/** -1, 0 or 1; piecewise constant, so it passes no gradient. */
export const sign = (x: Tensor): Tensor => unary('Sign', x);

/** Identity in the forward pass, zero gradient in the backward pass: sg(x) in the VQ-VAE paper. */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.addNode('StopGradient', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0]!;
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.addNode('Cast', [x], { to }, [{ shape: x.shape, dtype: to }])[0]!;
}

// ---------------------------------------------------------------- reductions

type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin';

function reduce(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  if (op !== 'ReduceMin' && op !== 'ReduceMax') requireFloat(op, x);
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes;
  const norm = [...new Set(list.map((a) => normAxis(op, a, x.rank)))].sort((p, q) => p - q);
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) shape.push(d);
    else if (keepDims) shape.push(1);
  });
  return x.graph.addNode(op, [x], { axes: norm, keepDims }, [{ shape, dtype: x.dtype }])[0]!;
}

/** Sum over `axes` (all axes when omitted). */
export const reduceSum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceSum', x, axes, keepDims);
export const reduceMean = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceMean', x, axes, keepDims);
export const reduceMax = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceMax', x, axes, keepDims);
export const reduceMin = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('ReduceMin', x, axes, keepDims);

function argReduce(op: 'ArgMin' | 'ArgMax', x: Tensor, axis: number, keepDims: boolean): Tensor {
  const a = normAxis(op, axis, x.rank);
  const shape = x.shape.flatMap((d, i) => (i === a ? (keepDims ? [1] : []) : [d]));
  return x.graph.addNode(op, [x], { axis: a, keepDims }, [{ shape, dtype: 'int64' }])[0]!;
}

/** Index of the smallest entry along `axis`; ties resolve to the lowest index (ONNX select_last_index = 0). */
export const argMin = (x: Tensor, axis: number, keepDims = false): Tensor => argReduce('ArgMin', x, axis, keepDims);
export const argMax = (x: Tensor, axis: number, keepDims = false): Tensor => argReduce('ArgMax', x, axis, keepDims);

// ---------------------------------------------------------------- linear algebra

/**
 * Matrix product over the last two axes. Supported forms: [m,k]·[k,n]; [...,m,k]·[k,n] (a batch of
 * rows times one matrix); [...,m,k]·[...,k,n] with identical batch dimensions.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('MatMul', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new GraphError('MatMul', `operands must have rank >= 2, got ${a.toString()} and ${b.toString()}`);
  }
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new GraphError('MatMul', `inner dimensions differ: ${formatShape(a.shape)} · ${formatShape(b.shape)} (${k} vs ${k2})`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (b.rank > 2 && !shapeEquals(batchA, batchB)) {
    throw new GraphError('MatMul', `batch dimensions must match or b must be 2-D: ${formatShape(a.shape)} · ${formatShape(b.shape)}`);
  }
  return a.graph.addNode('MatMul', [a, b], {}, [{ shape: [...batchA, m, n], dtype: 'float32' }])[0]!;
}

// ---------------------------------------------------------------- shape manipulation

/** New shape with the same number of elements; one entry may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1 || known.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new GraphError('Reshape', `target ${formatShape(shape)} must be positive integers with at most one -1`);
  }
  const knownSize = shapeSize(known);
  const out = shape.map((d) => (d === -1 ? x.size / knownSize : d));
  if (shapeSize(out) !== x.size || out.some((d) => !Number.isInteger(d))) {
    throw new GraphError('Reshape', `cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  }
  if (shapeEquals(out, x.shape)) return x;
  return x.graph.addNode('Reshape', [x], { shape: out }, [{ shape: out, dtype: x.dtype }])[0]!;
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((p, q) => p - q);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
    throw new GraphError('Transpose', `perm [${perm.join(',')}] is not a permutation of the axes of ${formatShape(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const shape = perm.map((p) => x.shape[p]!);
  return x.graph.addNode('Transpose', [x], { perm: [...perm] }, [{ shape, dtype: x.dtype }])[0]!;
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new GraphError('Concat', 'needs at least one tensor');
  if (xs.length === 1) return first;
  const a = normAxis('Concat', axis, first.rank);
  let total = 0;
  for (const x of xs) {
    const ok = x.rank === first.rank && x.dtype === first.dtype && x.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok) throw new GraphError('Concat', `shapes ${xs.map((t) => formatShape(t.shape)).join(', ')} differ outside axis ${a}`);
    total += x.shape[a]!;
  }
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  return first.graph.addNode('Concat', xs, { axis: a }, [{ shape, dtype: first.dtype }])[0]!;
}

/** x[..., start:end, ...] along `axis` with step 1. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis('Slice', axis, x.rank);
  const dim = x.shape[a]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > dim || start >= end) {
    throw new GraphError('Slice', `range ${start}:${end} is empty or outside axis ${a} of ${formatShape(x.shape)}`);
  }
  if (start === 0 && end === dim) return x;
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  return x.graph.addNode('Slice', [x], { axis: a, start, end }, [{ shape, dtype: x.dtype }])[0]!;
}

/** Zero padding: `pads[i] = [before, after]` for every axis. */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[]): Tensor {
  if (pads.length !== x.rank || pads.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0)) {
    throw new GraphError('Pad', `needs one non-negative [before, after] pair per axis of ${formatShape(x.shape)}`);
  }
  if (pads.every(([b, e]) => b === 0 && e === 0)) return x;
  const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  return x.graph.addNode('Pad', [x], { pads: pads.flat() }, [{ shape, dtype: x.dtype }])[0]!;
}

/** Broadcast `x` to `shape` (numpy rules). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  if (!shapeEquals(out, shape)) {
    throw new GraphError('Expand', `cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (shapeEquals(x.shape, shape)) return x;
  return x.graph.addNode('Expand', [x], { shape: [...shape] }, [{ shape, dtype: x.dtype }])[0]!;
}

// ---------------------------------------------------------------- indexing

/** Rows of `table` ([K, ...]) picked by int64 `indices` (any shape): result [...indices, ...row]. */
export function gather(table: Tensor, indices: Tensor): Tensor {
  if (indices.dtype !== 'int64') throw new GraphError('Gather', `indices must be int64, got ${indices.toString()}`);
  if (table.rank < 1) throw new GraphError('Gather', `table must have rank >= 1, got ${table.toString()}`);
  const shape = [...indices.shape, ...table.shape.slice(1)];
  return table.graph.addNode('Gather', [table, indices], {}, [{ shape, dtype: table.dtype }])[0]!;
}

/**
 * base + Σ_j onehot(indices_j) ⊗ updates_j: adds each row of `updates` ([N, ...row]) into row
 * indices[j] of `base` ([K, ...row]); `indices` is int64 [N]. Used for code counts and EMA sums.
 */
export function scatterAdd(base: Tensor, indices: Tensor, updates: Tensor): Tensor {
  if (indices.dtype !== 'int64' || indices.rank !== 1) {
    throw new GraphError('ScatterAdd', `indices must be int64 of rank 1, got ${indices.toString()}`);
  }
  requireFloat('ScatterAdd', base, updates);
  const rowOk = updates.rank === base.rank && updates.shape[0] === indices.shape[0] && shapeEquals(updates.shape.slice(1), base.shape.slice(1));
  if (!rowOk) {
    throw new GraphError('ScatterAdd', `updates ${formatShape(updates.shape)} must be [${indices.shape[0]}, ${base.shape.slice(1).join(',')}] for base ${formatShape(base.shape)}`);
  }
  return base.graph.addNode('ScatterAdd', [base, indices, updates], {}, [{ shape: base.shape, dtype: 'float32' }])[0]!;
}

/** float32 one-hot rows: indices [...] → [..., depth]. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  if (indices.dtype !== 'int64') throw new GraphError('OneHot', `indices must be int64, got ${indices.toString()}`);
  if (!Number.isInteger(depth) || depth < 1) throw new GraphError('OneHot', `depth must be a positive integer, got ${depth}`);
  return indices.graph.addNode('OneHot', [indices], { depth }, [{ shape: [...indices.shape, depth], dtype: 'float32' }])[0]!;
}

// ---------------------------------------------------------------- convolution

export interface ConvOptions {
  /** Stride in every spatial axis (default 1). */
  stride?: number | undefined;
  /** Zero padding on every side (default 0). */
  pad?: number | undefined;
  /** Dilation in every spatial axis (default 1). */
  dilation?: number | undefined;
}

function convParams(op: string, o: ConvOptions): { stride: number; pad: number; dilation: number } {
  const stride = o.stride ?? 1;
  const padding = o.pad ?? 0;
  const dilation = o.dilation ?? 1;
  if (![stride, dilation].every((v) => Number.isInteger(v) && v >= 1) || !Number.isInteger(padding) || padding < 0) {
    throw new GraphError(op, `stride ${stride} and dilation ${dilation} must be integers >= 1 and pad ${padding} an integer >= 0`);
  }
  return { stride, pad: padding, dilation };
}

/** 2-D cross-correlation: x [N,Cin,H,W], w [Cout,Cin,kh,kw] → [N,Cout,Ho,Wo]. */
export function conv2d(x: Tensor, w: Tensor, options: ConvOptions = {}): Tensor {
  requireFloat('Conv', x, w);
  const { stride, pad: p, dilation } = convParams('Conv', options);
  if (x.rank !== 4 || w.rank !== 4 || x.shape[1] !== w.shape[1]) {
    throw new GraphError('Conv', `input ${formatShape(x.shape)} must be [N,Cin,H,W] and weight ${formatShape(w.shape)} [Cout,Cin,kh,kw] with the same Cin`);
  }
  const [n, , h, wd] = x.shape as [number, number, number, number];
  const [cout, , kh, kw] = w.shape as [number, number, number, number];
  const ho = Math.floor((h + 2 * p - dilation * (kh - 1) - 1) / stride) + 1;
  const wo = Math.floor((wd + 2 * p - dilation * (kw - 1) - 1) / stride) + 1;
  if (ho < 1 || wo < 1) {
    throw new GraphError('Conv', `kernel ${kh}x${kw} (dilation ${dilation}, pad ${p}) does not fit input ${formatShape(x.shape)}`);
  }
  return x.graph.addNode('Conv', [x, w], { stride, pad: p, dilation }, [{ shape: [n, cout, ho, wo], dtype: 'float32' }])[0]!;
}

export interface ConvFilterGradOptions extends ConvOptions {
  /** Spatial size [kh, kw] of the filter whose gradient is computed. */
  kernel: readonly [number, number];
}

/**
 * The filter gradient of conv2d: for y = conv2d(x, w, options) and an upstream gradient gy of y's
 * shape, ∂L/∂w[o,c,a,b] = Σ_{n,i,j} gy[n,o,i,j] · x[n, c, i·s − p + a·d, j·s − p + b·d], shape
 * [Cout, Cin, kh, kw]. A primitive of its own (rather than a convolution of the transposed
 * operands) so that the lowering can pick the fastest exact form for its shape.
 */
export function conv2dFilterGrad(x: Tensor, gy: Tensor, options: ConvFilterGradOptions): Tensor {
  requireFloat('ConvFilterGrad', x, gy);
  const { stride, pad: p, dilation } = convParams('ConvFilterGrad', options);
  const [kh, kw] = options.kernel;
  if (![kh, kw].every((k) => Number.isInteger(k) && k >= 1)) throw new GraphError('ConvFilterGrad', `kernel [${kh},${kw}] must be positive integers`);
  if (x.rank !== 4 || gy.rank !== 4 || x.shape[0] !== gy.shape[0]) {
    throw new GraphError('ConvFilterGrad', `input ${formatShape(x.shape)} and output gradient ${formatShape(gy.shape)} must both be [N,C,H,W] with the same N`);
  }
  const [, cin, h, wd] = x.shape as [number, number, number, number];
  const [, cout, ho, wo] = gy.shape as [number, number, number, number];
  const expected = [Math.floor((h + 2 * p - dilation * (kh - 1) - 1) / stride) + 1, Math.floor((wd + 2 * p - dilation * (kw - 1) - 1) / stride) + 1];
  if (expected[0] !== ho || expected[1] !== wo) {
    throw new GraphError('ConvFilterGrad', `a ${kh}x${kw} conv (stride ${stride}, pad ${p}, dilation ${dilation}) of ${formatShape(x.shape)} gives ${expected[0]}x${expected[1]} maps, but the gradient is ${formatShape(gy.shape)}`);
  }
  return x.graph.addNode('ConvFilterGrad', [x, gy], { kernel: [kh, kw], stride, pad: p, dilation }, [{ shape: [cout, cin, kh, kw], dtype: 'float32' }])[0]!;
}

export interface ConvTransposeOptions extends ConvOptions {
  /** Extra rows/columns added at the end of the output (default 0). */
  outputPadding?: number | undefined;
}

/**
 * Transposed convolution (the adjoint of conv2d): x [N,Cin,H,W], w [Cin,Cout,kh,kw] →
 * [N,Cout,(H−1)·s − 2p + d·(kh−1) + 1 + outputPadding, …].
 */
export function convTranspose2d(x: Tensor, w: Tensor, options: ConvTransposeOptions = {}): Tensor {
  requireFloat('ConvTranspose', x, w);
  const { stride, pad: p, dilation } = convParams('ConvTranspose', options);
  const outputPadding = options.outputPadding ?? 0;
  // ONNX Runtime rejects output_padding ≥ stride at run time ("output_padding may be too large for
  // stride"), even where PyTorch allows up to max(stride, dilation); the old bound let such graphs
  // build and then fail inside ORT (found by test/gradients.test.ts), so it is checked here.
  if (!Number.isInteger(outputPadding) || outputPadding < 0 || outputPadding >= stride) {
    throw new GraphError('ConvTranspose', `outputPadding ${outputPadding} must be an integer in [0, stride ${stride})`);
  }
  if (x.rank !== 4 || w.rank !== 4 || x.shape[1] !== w.shape[0]) {
    throw new GraphError('ConvTranspose', `input ${formatShape(x.shape)} must be [N,Cin,H,W] and weight ${formatShape(w.shape)} [Cin,Cout,kh,kw] with the same Cin`);
  }
  const [n, , h, wd] = x.shape as [number, number, number, number];
  const [, cout, kh, kw] = w.shape as [number, number, number, number];
  const ho = (h - 1) * stride - 2 * p + dilation * (kh - 1) + 1 + outputPadding;
  const wo = (wd - 1) * stride - 2 * p + dilation * (kw - 1) + 1 + outputPadding;
  if (ho < 1 || wo < 1) throw new GraphError('ConvTranspose', `pad ${p} leaves no output for input ${formatShape(x.shape)}`);
  return x.graph.addNode('ConvTranspose', [x, w], { stride, pad: p, dilation, outputPadding }, [{ shape: [n, cout, ho, wo], dtype: 'float32' }])[0]!;
}

// ---------------------------------------------------------------- 1-D convolution
//
// Audio models convolve along time only. A 1-D convolution is the same Conv / ConvFilterGrad /
// ConvTranspose primitive on tensors with one spatial axis ([N, C, T], weights [Cout, Cin, k]),
// not a 2-D one on [N, C, 1, T]: with a single spatial axis the scalar stride, pad and dilation
// are exactly the per-axis geometry (a [1, k] kernel on a height-1 map would need the height axis
// left unpadded and unstrided, i.e. per-axis attributes on every image conv too), the gradient
// rules carry over axis by axis, and the ONNX lowering emits standard 1-D Conv nodes that any
// runtime runs. The lowering itself views a 1-D conv as a [1, k] 2-D one where that reaches a
// faster kernel (src/onnx/conv-forms.ts).

/** Output length along one axis: ⌊(L + 2p − d·(k − 1) − 1) / s⌋ + 1. */
function convOutputLength(length: number, kernel: number, g: { stride: number; pad: number; dilation: number }): number {
  return Math.floor((length + 2 * g.pad - g.dilation * (kernel - 1) - 1) / g.stride) + 1;
}

/** 1-D cross-correlation: x [N,Cin,T], w [Cout,Cin,k] → [N,Cout,To], To = ⌊(T + 2p − d·(k−1) − 1)/s⌋ + 1. */
export function conv1d(x: Tensor, w: Tensor, options: ConvOptions = {}): Tensor {
  requireFloat('Conv', x, w);
  const geometry = convParams('Conv', options);
  if (x.rank !== 3 || w.rank !== 3 || x.shape[1] !== w.shape[1]) {
    throw new GraphError('Conv', `input ${formatShape(x.shape)} must be [N,Cin,T] and weight ${formatShape(w.shape)} [Cout,Cin,k] with the same Cin`);
  }
  const [n, , t] = x.shape as [number, number, number];
  const [cout, , k] = w.shape as [number, number, number];
  const to = convOutputLength(t, k, geometry);
  if (to < 1) {
    throw new GraphError('Conv', `kernel ${k} (dilation ${geometry.dilation}, pad ${geometry.pad}) does not fit input ${formatShape(x.shape)}`);
  }
  return x.graph.addNode('Conv', [x, w], geometry, [{ shape: [n, cout, to], dtype: 'float32' }])[0]!;
}

export interface Conv1dFilterGradOptions extends ConvOptions {
  /** Length k of the filter whose gradient is computed. */
  kernel: number;
}

/**
 * The filter gradient of conv1d: for y = conv1d(x, w, options) and an upstream gradient gy of y's
 * shape, ∂L/∂w[o,c,a] = Σ_{n,i} gy[n,o,i] · x[n, c, i·s − p + a·d], shape [Cout, Cin, k].
 */
export function conv1dFilterGrad(x: Tensor, gy: Tensor, options: Conv1dFilterGradOptions): Tensor {
  requireFloat('ConvFilterGrad', x, gy);
  const geometry = convParams('ConvFilterGrad', options);
  const k = options.kernel;
  if (!Number.isInteger(k) || k < 1) throw new GraphError('ConvFilterGrad', `kernel ${k} must be a positive integer`);
  if (x.rank !== 3 || gy.rank !== 3 || x.shape[0] !== gy.shape[0]) {
    throw new GraphError('ConvFilterGrad', `input ${formatShape(x.shape)} and output gradient ${formatShape(gy.shape)} must both be [N,C,T] with the same N`);
  }
  const [, cin, t] = x.shape as [number, number, number];
  const [, cout, to] = gy.shape as [number, number, number];
  const expected = convOutputLength(t, k, geometry);
  if (expected !== to) {
    throw new GraphError('ConvFilterGrad', `a length-${k} conv (stride ${geometry.stride}, pad ${geometry.pad}, dilation ${geometry.dilation}) of ${formatShape(x.shape)} gives ${expected} steps, but the gradient is ${formatShape(gy.shape)}`);
  }
  return x.graph.addNode('ConvFilterGrad', [x, gy], { kernel: [k], ...geometry }, [{ shape: [cout, cin, k], dtype: 'float32' }])[0]!;
}

/**
 * 1-D transposed convolution (the adjoint of conv1d): x [N,Cin,T], w [Cin,Cout,k] →
 * [N,Cout,(T−1)·s − 2p + d·(k−1) + 1 + outputPadding].
 */
export function convTranspose1d(x: Tensor, w: Tensor, options: ConvTransposeOptions = {}): Tensor {
  requireFloat('ConvTranspose', x, w);
  const geometry = convParams('ConvTranspose', options);
  const outputPadding = options.outputPadding ?? 0;
  // ONNX Runtime refuses output_padding ≥ stride at run time, as for convTranspose2d.
  if (!Number.isInteger(outputPadding) || outputPadding < 0 || outputPadding >= geometry.stride) {
    throw new GraphError('ConvTranspose', `outputPadding ${outputPadding} must be an integer in [0, stride ${geometry.stride})`);
  }
  if (x.rank !== 3 || w.rank !== 3 || x.shape[1] !== w.shape[0]) {
    throw new GraphError('ConvTranspose', `input ${formatShape(x.shape)} must be [N,Cin,T] and weight ${formatShape(w.shape)} [Cin,Cout,k] with the same Cin`);
  }
  const [n, , t] = x.shape as [number, number, number];
  const [, cout, k] = w.shape as [number, number, number];
  const to = (t - 1) * geometry.stride - 2 * geometry.pad + geometry.dilation * (k - 1) + 1 + outputPadding;
  if (to < 1) throw new GraphError('ConvTranspose', `pad ${geometry.pad} leaves no output for input ${formatShape(x.shape)}`);
  return x.graph.addNode('ConvTranspose', [x, w], { ...geometry, outputPadding }, [{ shape: [n, cout, to], dtype: 'float32' }])[0]!;
}

/**
 * Composite ops: functions of several primitives from `ops.ts`. They add no primitive, no ONNX
 * lowering and no gradient rule of their own — their lowering and their backward pass are those of
 * the primitives they are made of, so every composite is differentiable by construction (and is
 * checked against finite differences in `test/gradients.test.ts`).
 *
 * Arguments are validated up front so that errors name the composite (not some inner primitive)
 * and the shapes the caller passed.
 */
import * as op from './ops.js';
import { formatShape, GraphError, shapeEquals, type Tensor } from './tensor.js';

function requireFloat(name: string, ...xs: Tensor[]): void {
  for (const x of xs) {
    if (x.dtype !== 'float32') throw new GraphError(name, `expects float32 operands, got ${x.toString()}`);
  }
}

/** Normalize one axis (negative counts from the end), naming the composite on failure. */
function normAxis(name: string, axis: number, x: Tensor): number {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) {
    throw new GraphError(name, `axis ${axis} is out of range for ${formatShape(x.shape)} (rank ${x.rank})`);
  }
  return a;
}

/** x² elementwise. Written as x·x rather than pow(x, 2): one Mul forward, two Muls backward. */
function square(x: Tensor): Tensor {
  return op.mul(x, x);
}

/**
 * SiLU / swish: silu(x) = x · σ(x), σ(x) = 1 / (1 + e^(−x)).
 * Its derivative σ(x)·(1 + x·(1 − σ(x))) follows from the Mul and Sigmoid rules.
 */
export function silu(x: Tensor): Tensor {
  requireFloat('silu', x);
  return op.mul(x, op.sigmoid(x));
}

/**
 * softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m) along `axis`, with m = sg(max_j x_j).
 *
 * Subtracting m keeps every exponent ≤ 0, so nothing overflows and the denominator is ≥ 1.
 * It is exact, not an approximation: softmax(x − c) = softmax(x) for any c constant along the axis
 * (the factor e^(−c) cancels between numerator and denominator), hence ∂softmax/∂c = 0 and the
 * true gradient through m is zero. Stopping it therefore changes nothing mathematically, and it
 * keeps the backward pass from going through ReduceMax's tie-splitting mask for no effect.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  requireFloat('softmax', x);
  const a = normAxis('softmax', axis, x);
  const m = op.stopGradient(op.reduceMax(x, a, true));
  const e = op.exp(op.sub(x, m));
  return op.div(e, op.reduceSum(e, a, true));
}

/**
 * logSumExp(x) = log Σ_i exp(x_i) = m + log Σ_i exp(x_i − m) along `axes`, m = sg(max_i x_i).
 *
 * The identity holds for any m, so the shift is exact; it keeps exp from overflowing (float32
 * exp overflows above ≈ 88.7). Stopping the gradient through m is exact as well: the total
 * derivative of m + log Σ exp(x_i − m) with respect to m is 1 − Σ_i softmax(x)_i = 0, and the
 * remaining path gives ∂/∂x_i = softmax(x)_i, the true gradient.
 */
export function logSumExp(x: Tensor, axes: number | readonly number[] = -1, keepDims = false): Tensor {
  requireFloat('logSumExp', x);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (list.length === 0) throw new GraphError('logSumExp', `needs at least one axis of ${formatShape(x.shape)}`);
  const norm = list.map((a) => normAxis('logSumExp', a, x));
  const m = op.stopGradient(op.reduceMax(x, norm, true));
  const lse = op.add(m, op.log(op.reduceSum(op.exp(op.sub(x, m)), norm, true)));
  if (keepDims) return lse;
  return op.reshape(lse, x.shape.filter((_, i) => !norm.includes(i)));
}

/**
 * Group normalization (Wu & He, 2018) of x [N,C,H,W] with `groups` groups of C/groups channels:
 *   μ_{n,g} = mean over (c ∈ g, h, w) of x,   σ²_{n,g} = mean of (x − μ)²  (biased, as PyTorch),
 *   y = (x − μ) / √(σ² + eps) · γ_c + β_c,     γ, β of shape [C].
 */
export function groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, eps = 1e-5): Tensor {
  requireFloat('groupNorm', x, gamma, beta);
  if (x.rank !== 4) throw new GraphError('groupNorm', `input ${formatShape(x.shape)} must be [N,C,H,W]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new GraphError('groupNorm', `groups ${groups} must be a positive integer dividing C = ${c} of input ${formatShape(x.shape)}`);
  }
  if (!shapeEquals(gamma.shape, [c]) || !shapeEquals(beta.shape, [c])) {
    throw new GraphError('groupNorm', `gamma ${formatShape(gamma.shape)} and beta ${formatShape(beta.shape)} must both be [${c}] for input ${formatShape(x.shape)}`);
  }
  if (!(eps > 0)) throw new GraphError('groupNorm', `eps must be positive, got ${eps}`);
  const grouped = op.reshape(x, [n, groups, (c / groups) * h * w]);
  const mu = op.reduceMean(grouped, 2, true);
  const centered = op.sub(grouped, mu);
  const variance = op.reduceMean(square(centered), 2, true);
  const normalized = op.reshape(op.div(centered, op.sqrt(op.add(variance, eps))), [n, c, h, w]);
  return op.add(op.mul(normalized, op.reshape(gamma, [1, c, 1, 1])), op.reshape(beta, [1, c, 1, 1]));
}

/** Shapes of a and b must agree exactly: silent broadcasting in a loss is almost always a bug. */
function requireSameShape(name: string, a: Tensor, b: Tensor): void {
  requireFloat(name, a, b);
  if (!shapeEquals(a.shape, b.shape)) {
    throw new GraphError(name, `operands must have the same shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
}

/** Mean squared error: (1/n) Σ_i (a_i − b_i)², a scalar (rank 0). */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  requireSameShape('mseLoss', a, b);
  return op.reduceMean(square(op.sub(a, b)));
}

/** Mean absolute error: (1/n) Σ_i |a_i − b_i|, a scalar (rank 0). Its gradient is sign(a − b)/n. */
export function l1Loss(a: Tensor, b: Tensor): Tensor {
  requireSameShape('l1Loss', a, b);
  return op.reduceMean(op.abs(op.sub(a, b)));
}

/**
 * Affine map on the last axis: y = x·W + b, x [..., in], W [in, out], b [out] → [..., out].
 * A rank-1 x is treated as one row.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  requireFloat('linear', x, w, ...(b ? [b] : []));
  if (x.rank < 1 || w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw new GraphError('linear', `input ${formatShape(x.shape)} must be [...,in] and weight ${formatShape(w.shape)} [in,out] with the same in`);
  }
  const out = w.shape[1]!;
  if (b && !shapeEquals(b.shape, [out])) {
    throw new GraphError('linear', `bias ${formatShape(b.shape)} must be [${out}] for weight ${formatShape(w.shape)}`);
  }
  // MatMul needs rank ≥ 2; a lone vector becomes a [1,in] row and is flattened back afterwards.
  let y = x.rank === 1 ? op.reshape(op.matmul(op.reshape(x, [1, x.shape[0]!]), w), [out]) : op.matmul(x, w);
  if (b) y = op.add(y, b);
  return y;
}

/**
 * Squared Euclidean distances between rows: D[i,k] = ‖z_i − e_k‖² = ‖z_i‖² + ‖e_k‖² − 2·z_i·e_k,
 * z [N,d], e [K,d] → [N,K]. The expanded form costs one [N,d]·[d,K] MatMul instead of an
 * [N,K,d] difference tensor (VQ-VAE codebook lookup). Rounding can make an entry slightly
 * negative when z_i ≈ e_k; callers taking √D should clamp.
 */
export function squaredDistances(z: Tensor, e: Tensor): Tensor {
  requireFloat('squaredDistances', z, e);
  if (z.rank !== 2 || e.rank !== 2 || z.shape[1] !== e.shape[1]) {
    throw new GraphError('squaredDistances', `z ${formatShape(z.shape)} must be [N,d] and e ${formatShape(e.shape)} [K,d] with the same d`);
  }
  const k = e.shape[0]!;
  const zz = op.reduceSum(square(z), 1, true); // [N,1]
  const ee = op.reshape(op.reduceSum(square(e), 1), [1, k]); // [1,K]
  const cross = op.matmul(z, op.transpose(e, [1, 0])); // [N,K]
  return op.sub(op.add(zz, ee), op.mul(cross, 2));
}

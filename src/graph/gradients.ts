/**
 * Vector–Jacobian products of the primitives, written with the primitives themselves so the
 * backward pass is ordinary ONNX too. `vjp(node, gy)` receives ∂L/∂y for the node's (single) output
 * and returns ∂L/∂x for each input, or `undefined` where an input takes no gradient.
 * Every rule is checked against central finite differences in `test/gradients.test.ts`.
 */
import * as op from './ops.js';
import type { Primitive } from './primitive.js';
import { GraphError, shapeEquals, type Node, type Shape, type Tensor } from './tensor.js';

/** Sum `g` down to `shape`: the adjoint of numpy broadcasting. */
function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (shapeEquals(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? op.reduceSum(g, axes, true) : g;
  return op.reshape(summed, [...shape]);
}

type Grads = (Tensor | undefined)[];
type Rule = (node: Node, gy: Tensor) => Grads;

const noGrad: Rule = (node) => node.inputs.map(() => undefined);

function floatOnly(node: Node, grads: Grads): Grads {
  return grads.map((g, i) => (node.inputs[i]!.dtype === 'float32' ? g : undefined));
}

function inputs2(node: Node): [Tensor, Tensor] {
  return [node.inputs[0]!, node.inputs[1]!];
}

/** Keep-dims shape of a reduction's output, for broadcasting the gradient back. */
function keptShape(node: Node): number[] {
  const x = node.inputs[0]!;
  const axes = node.attrs.axes as readonly number[];
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

const rules = {
  Add: (n, gy) => {
    const [a, b] = inputs2(n);
    return [unbroadcast(gy, a.shape), unbroadcast(gy, b.shape)];
  },
  Sub: (n, gy) => {
    const [a, b] = inputs2(n);
    return [unbroadcast(gy, a.shape), unbroadcast(op.neg(gy), b.shape)];
  },
  Mul: (n, gy) => {
    const [a, b] = inputs2(n);
    return [unbroadcast(op.mul(gy, b), a.shape), unbroadcast(op.mul(gy, a), b.shape)];
  },
  Div: (n, gy) => {
    // d(a/b)/da = 1/b, d(a/b)/db = −a/b² = −y/b
    const [a, b] = inputs2(n);
    const y = n.outputs[0]!;
    const ga = op.div(gy, b);
    return [unbroadcast(ga, a.shape), unbroadcast(op.neg(op.mul(ga, y)), b.shape)];
  },
  Pow: (n, gy) => {
    // d(a^b)/da = b·a^(b−1), d(a^b)/db = a^b·log a
    const [a, b] = inputs2(n);
    const y = n.outputs[0]!;
    const ga = op.mul(gy, op.mul(b, op.pow(a, op.sub(b, 1))));
    const gb = b.producer === undefined && b.size === 1 && b.graph.constants.some((c) => c.tensor === b)
      ? undefined // a constant exponent needs no gradient; skipping it avoids log of negative bases
      : unbroadcast(op.mul(gy, op.mul(y, op.log(a))), b.shape);
    return [unbroadcast(ga, a.shape), gb];
  },
  Where: (n, gy) => {
    const [c, a, b] = [n.inputs[0]!, n.inputs[1]!, n.inputs[2]!];
    if (a.dtype !== 'float32') return [undefined, undefined, undefined];
    return [undefined, unbroadcast(op.where(c, gy, 0), a.shape), unbroadcast(op.where(c, 0, gy), b.shape)];
  },
  Neg: (_n, gy) => [op.neg(gy)],
  Relu: (n, gy) => [op.where(op.greater(n.inputs[0]!, 0), gy, 0)],
  // elu′(x) = 1 for x > 0, e^x = elu(x) + 1 otherwise.
  Elu: (n, gy) => [op.where(op.greater(n.inputs[0]!, 0), gy, op.mul(gy, op.add(n.outputs[0]!, 1)))],
  Sigmoid: (n, gy) => {
    const s = n.outputs[0]!;
    return [op.mul(gy, op.mul(s, op.sub(1, s)))];
  },
  Exp: (n, gy) => [op.mul(gy, n.outputs[0]!)],
  Log: (n, gy) => [op.div(gy, n.inputs[0]!)],
  Sqrt: (n, gy) => [op.div(op.mul(gy, 0.5), n.outputs[0]!)],
  Abs: (n, gy) => [op.mul(gy, op.sign(n.inputs[0]!))],
  Sign: noGrad,
  StopGradient: noGrad,
  Cast: (n, gy) => (n.inputs[0]!.dtype === 'float32' && gy.dtype === 'float32' ? [gy] : [undefined]),
  ReduceSum: (n, gy) => [op.expand(op.reshape(gy, keptShape(n)), n.inputs[0]!.shape)],
  ReduceMean: (n, gy) => {
    const x = n.inputs[0]!;
    const count = x.size / n.outputs[0]!.size;
    return [op.expand(op.reshape(op.div(gy, count), keptShape(n)), x.shape)];
  },
  ReduceMax: (n, gy) => extremumGrad(n, gy),
  ReduceMin: (n, gy) => extremumGrad(n, gy),
  ArgMin: noGrad,
  ArgMax: noGrad,
  Less: noGrad,
  Greater: noGrad,
  Equal: noGrad,
  OneHot: noGrad,
  MatMul: (n, gy) => {
    const [a, b] = inputs2(n);
    const swapLast = (t: Tensor): Tensor => op.transpose(t, t.shape.map((_, i) => (i < t.rank - 2 ? i : t.rank - 1 - (i - (t.rank - 2)))));
    const ga = op.matmul(gy, swapLast(b));
    let gb: Tensor;
    if (b.rank === 2 && a.rank > 2) {
      // b is shared across the batch: flatten the batch into rows.
      const k = a.shape[a.rank - 1]!;
      const m = gy.shape[gy.rank - 1]!;
      gb = op.matmul(op.transpose(op.reshape(a, [-1, k]), [1, 0]), op.reshape(gy, [-1, m]));
    } else {
      gb = op.matmul(swapLast(a), gy);
    }
    return [ga, gb];
  },
  Reshape: (n, gy) => [op.reshape(gy, [...n.inputs[0]!.shape])],
  Transpose: (n, gy) => {
    const perm = n.attrs.perm as readonly number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [op.transpose(gy, inverse)];
  },
  Concat: (n, gy) => {
    const axis = n.attrs.axis as number;
    let start = 0;
    return n.inputs.map((x) => {
      const s = start;
      start += x.shape[axis]!;
      return x.dtype === 'float32' ? op.slice(gy, axis, s, start) : undefined;
    });
  },
  Slice: (n, gy) => {
    const x = n.inputs[0]!;
    const axis = n.attrs.axis as number;
    const start = n.attrs.start as number;
    const end = n.attrs.end as number;
    return [op.pad(gy, x.shape.map((d, i) => (i === axis ? [start, d - end] as const : [0, 0] as const)))];
  },
  Pad: (n, gy) => {
    const x = n.inputs[0]!;
    const pads = n.attrs.pads as readonly number[];
    let g = gy;
    x.shape.forEach((d, i) => {
      g = op.slice(g, i, pads[2 * i]!, pads[2 * i]! + d);
    });
    return [g];
  },
  Expand: (n, gy) => [unbroadcast(gy, n.inputs[0]!.shape)],
  Gather: (n, gy) => {
    // Rows of the table receive the sum of the gradients of every position that picked them.
    const [table, indices] = inputs2(n);
    const rowShape = table.shape.slice(1);
    const flatIdx = op.reshape(indices, [indices.size]);
    const flatG = op.reshape(gy, [indices.size, ...rowShape]);
    const zeros = op.expand(table.graph.scalar(0), [...table.shape]);
    return [op.scatterAdd(zeros, flatIdx, flatG), undefined];
  },
  ScatterAdd: (n, gy) => {
    const indices = n.inputs[1]!;
    return [gy, undefined, op.gather(gy, indices)];
  },
  Conv: (n, gy) => {
    const [x, w] = inputs2(n);
    const geometry = { stride: n.attrs.stride as number, pad: n.attrs.pad as number, dilation: n.attrs.dilation as number };
    return [convInputGrad(x, w, gy, geometry), filterGradOf(x, gy, w.shape.slice(2), geometry)];
  },
  ConvTranspose: (n, gy) => {
    const [x, w] = inputs2(n);
    const stride = n.attrs.stride as number;
    const p = n.attrs.pad as number;
    const dilation = n.attrs.dilation as number;
    // The adjoint of a transposed convolution is the convolution with the same weight.
    const gx = convOf(gy, w, { stride, pad: p, dilation });
    // ∂L/∂w[ci,co,a,b] = Σ x[n,ci,i,j]·gy[n,co,i·s−p+a·d, j·s−p+b·d]: the filter gradient of the
    // convolution gy ↦ x (the adjoint), with x in the role of that convolution's output gradient.
    const gw = filterGradOf(gy, x, w.shape.slice(2), { stride, pad: p, dilation });
    return [fitShape(gx, x.shape, 'ConvTranspose'), gw];
  },
  ConvFilterGrad: (n, gG) => {
    // G = ∂w(x, gy) is bilinear; contracting gG with it is Σ gy ⊙ conv(x, gG), so the two partials
    // are the input gradient of that conv (wrt x) and the conv itself (wrt gy).
    const [x, gy] = inputs2(n);
    const geometry = { stride: n.attrs.stride as number, pad: n.attrs.pad as number, dilation: n.attrs.dilation as number };
    return [convInputGrad(x, gG, gy, geometry), convOf(x, gG, geometry)];
  },
} satisfies Record<Primitive, Rule>;

/** Gradient of ReduceMax/ReduceMin: split evenly between the entries that attain the extremum. */
function extremumGrad(n: Node, gy: Tensor): Grads {
  const x = n.inputs[0]!;
  if (x.dtype !== 'float32') return [undefined];
  const kept = keptShape(n);
  const y = op.reshape(n.outputs[0]!, kept);
  const mask = op.cast(op.equal(x, y), 'float32');
  const count = op.reduceSum(mask, n.attrs.axes as readonly number[], true);
  return [op.mul(mask, op.div(op.reshape(gy, kept), count))];
}

type ConvGeometry = { stride: number; pad: number; dilation: number };

/**
 * ∂L/∂x of y = conv(x, w): the transposed convolution of gy with the same weight. It yields
 * base = (Ho − 1)·s − 2p + d·(k − 1) + 1 rows, and H − base ∈ [0, s) rows of x are missing when
 * (H + 2p − d(k−1) − 1) is not a multiple of s; those rows can still be reached by the last output
 * row (through the end padding), so they are restored by output padding.
 *
 * Fix: the missing count is computed per spatial axis (with that axis' kernel size). Previously it
 * used kh for both axes and only H, so a non-square input or kernel (e.g. x [.,.,8,7] or
 * [.,.,7,8] with k3 s2 p1) either got an oversized gradient (an internal error) or had its last
 * reached column replaced by zeros — a silently wrong gradient, caught by test/gradients.test.ts.
 * ConvTranspose has one output padding for both axes, so the larger count is used and the axis
 * that needed less is cropped: the extra positions lie past the end of x, in the zero padding.
 */
function convInputGrad(x: Tensor, w: Tensor, gy: Tensor, geometry: ConvGeometry): Tensor {
  const { stride, pad: p, dilation } = geometry;
  const spatialAxes = x.shape.slice(2).map((_, i) => i + 2);
  const missing = spatialAxes.map((axis) => x.shape[axis]! - ((gy.shape[axis]! - 1) * stride - 2 * p + dilation * (w.shape[axis]! - 1) + 1));
  const outputPadding = Math.max(...missing); // < s, as convTranspose2d requires
  const gx = convTransposeOf(gy, w, { stride, pad: p, dilation, outputPadding });
  return fitShape(gx, x.shape, 'Conv');
}

/**
 * The conv builders for the spatial rank of the operands: 1-D ([N, C, T]) or 2-D ([N, C, H, W]).
 * The rules above are written once for both, since every formula in them holds per spatial axis.
 */
function convOf(x: Tensor, w: Tensor, geometry: ConvGeometry): Tensor {
  return x.rank === 3 ? op.conv1d(x, w, geometry) : op.conv2d(x, w, geometry);
}

function convTransposeOf(x: Tensor, w: Tensor, geometry: op.ConvTransposeOptions): Tensor {
  return x.rank === 3 ? op.convTranspose1d(x, w, geometry) : op.convTranspose2d(x, w, geometry);
}

function filterGradOf(x: Tensor, gy: Tensor, kernel: Shape, geometry: ConvGeometry): Tensor {
  return x.rank === 3
    ? op.conv1dFilterGrad(x, gy, { kernel: kernel[0]!, ...geometry })
    : op.conv2dFilterGrad(x, gy, { kernel: [kernel[0]!, kernel[1]!], ...geometry });
}

/**
 * Crop or zero-pad spatial axes at the end so a gradient has exactly the input's shape. Cropping
 * drops positions past the end of the input, which only the adjoint's output has (the shared
 * output padding in convInputGrad); padding adds rows of x that no output depends on (zero grad).
 */
function fitShape(g: Tensor, shape: Shape, opName: string): Tensor {
  if (shapeEquals(g.shape, shape)) return g;
  if (g.rank !== shape.length) {
    throw new GraphError(opName, `internal: gradient ${g.toString()} does not match input [${shape.join(',')}]`);
  }
  let out = g;
  shape.forEach((d, i) => {
    if (out.shape[i]! > d) out = op.slice(out, i, 0, d);
  });
  return op.pad(out, shape.map((d, i) => [0, d - out.shape[i]!] as const));
}

export function vjp(node: Node, gy: Tensor): Grads {
  return floatOnly(node, rules[node.op](node, gy));
}

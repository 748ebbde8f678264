/**
 * Counted work of a graph: 2 FLOPs per multiply–add of every matrix product and convolution that
 * the given outputs depend on (elementwise ops, reductions and data movement are not counted;
 * in the reference training step they are a few percent of the products' work). The count is of
 * the mathematical operation, independent of the form a lowering picks for it.
 */
import { shapeSize, type Node, type Tensor } from './tensor.js';

function nodeFlops(n: Node): number {
  const out = n.outputs[0]!;
  const [a, b] = [n.inputs[0]!, n.inputs[1]!];
  switch (n.op) {
    case 'MatMul':
      return 2 * out.size * a.shape[a.rank - 1]!;
    case 'Conv': // out [N, Cout, Ho, Wo], w [Cout, Cin, kh, kw]
      return 2 * out.size * shapeSize(b.shape.slice(1));
    case 'ConvTranspose': // x [N, Cin, H, W], w [Cin, Cout, kh, kw]: every input value meets Cout·kh·kw weights
      return 2 * a.size * shapeSize(b.shape.slice(1));
    case 'ConvFilterGrad': // gy [N, Cout, Ho, Wo] meets Cin·kh·kw inputs per value
      return 2 * b.size * shapeSize(out.shape.slice(1));
    default:
      return 0;
  }
}

export function countFlops(outputs: readonly Tensor[]): number {
  const seen = new Set<Node>();
  const stack = outputs.map((t) => t.producer).filter((p): p is Node => p !== undefined);
  let flops = 0;
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    flops += nodeFlops(n);
    for (const x of n.inputs) if (x.producer && !seen.has(x.producer)) stack.push(x.producer);
  }
  return flops;
}

/**
 * Reverse-mode automatic differentiation over the primitive graph.
 *
 * `grad(loss, wrt)` appends the backward pass to the same graph and returns ∂loss/∂w for each `w`.
 * Gradients are accumulated in reverse creation order (a reverse topological order), flow only
 * through float32 tensors, and stop at `stopGradient` nodes — so the straight-through estimator
 * z_q = z_e + sg(e − z_e) passes ∂L/∂z_q to z_e unchanged and nothing to e (VQ-VAE eq. 3 context).
 */
import { add, expand, reshape } from './ops.js';
import { vjp } from './gradients.js';
import { formatShape, GraphError, shapeEquals, type Node, type Tensor } from './tensor.js';

export interface GradOptions {
  /** Upstream gradient for `loss` (default: ones, which requires a scalar loss). */
  seed?: Tensor;
}

/**
 * ∂loss/∂w for each w in `wrt`. A parameter that does not influence `loss` gets a zero tensor, so
 * optimizers can treat every parameter alike.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], options: GradOptions = {}): Tensor[] {
  const g = loss.graph;
  if (loss.dtype !== 'float32') throw new GraphError('grad', `loss must be float32, got ${loss.toString()}`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphError('grad', `${w.toString()} belongs to another graph than the loss`);
    if (w.dtype !== 'float32') {
      throw new GraphError('grad', `cannot differentiate with respect to ${w.toString()}: gradients only reach float32 tensors`);
    }
  }
  let seed = options.seed;
  if (!seed) {
    if (loss.size !== 1) {
      throw new GraphError('grad', `loss ${formatShape(loss.shape)} is not a scalar; reduce it first or pass a seed`);
    }
    seed = reshape(g.scalar(1), [...loss.shape]);
  } else if (!shapeEquals(seed.shape, loss.shape)) {
    throw new GraphError('grad', `seed ${formatShape(seed.shape)} must have the loss shape ${formatShape(loss.shape)}`);
  }

  // Only nodes on a path from some w to the loss need a backward rule.
  const needed = relevantNodes(loss, wrt);
  const grads = new Map<Tensor, Tensor>([[loss, seed]]);
  const nodes = g.nodes;
  const lossIndex = loss.producer ? nodes.indexOf(loss.producer) : -1;
  for (let i = lossIndex; i >= 0; i--) {
    const node = nodes[i]!;
    if (!needed.has(node)) continue;
    const out = node.outputs[0]!;
    const gy = grads.get(out);
    if (!gy) continue;
    const gxs = vjp(node, gy);
    node.inputs.forEach((x, k) => {
      const gx = gxs[k];
      if (!gx) return;
      if (!shapeEquals(gx.shape, x.shape)) {
        throw new GraphError(node.op, `internal: gradient ${formatShape(gx.shape)} does not match input ${x.toString()}`);
      }
      const prev = grads.get(x);
      grads.set(x, prev ? add(prev, gx) : gx);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}

function zerosLike(w: Tensor): Tensor {
  return expand(w.graph.scalar(0), [...w.shape]);
}

/** Nodes that lie on some path from a tensor in `wrt` to `loss`. */
function relevantNodes(loss: Tensor, wrt: readonly Tensor[]): Set<Node> {
  const fromW = new Set<Tensor>(wrt);
  const forward = new Set<Node>();
  for (const node of loss.graph.nodes) {
    if (node.op === 'StopGradient') continue;
    if (node.inputs.some((x) => fromW.has(x))) {
      forward.add(node);
      for (const o of node.outputs) fromW.add(o);
    }
  }
  // Walk back from the loss through the forward-reachable nodes.
  const result = new Set<Node>();
  const stack: Tensor[] = [loss];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = t.producer;
    if (p && forward.has(p)) {
      result.add(p);
      stack.push(...p.inputs);
    }
  }
  return result;
}

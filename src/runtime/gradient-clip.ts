/**
 * Global-norm gradient clipping (Pascanu et al., 2013): if ‖g‖ = √(Σ_i ‖g_i‖²) exceeds `maxNorm`,
 * every gradient is scaled by maxNorm / ‖g‖, preserving the direction of the full update.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';

/** Returns the clipped gradients and the global norm before clipping (a scalar tensor). */
export function clipByGlobalNorm(grads: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  if (grads.length === 0) throw new Error('clipByGlobalNorm: no gradients to clip');
  let sumSq: Tensor | undefined;
  for (const g of grads) {
    const s = op.reduceSum(op.mul(g, g));
    sumSq = sumSq ? op.add(sumSq, s) : s;
  }
  const norm = op.sqrt(sumSq!);
  // scale = min(1, maxNorm / norm); the 1e-6 guards a zero norm.
  const ratio = op.div(maxNorm, op.add(norm, 1e-6));
  const scale = op.where(op.less(ratio, 1), ratio, 1);
  return { grads: grads.map((g) => op.mul(g, scale)), norm };
}

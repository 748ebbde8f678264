/**
 * The rotation trick (Fifty et al., 2024, "Restructuring Vector Quantization with the Rotation
 * Trick", arXiv:2410.06424, §4, eq. 4–6): a gradient estimator for vector quantization that
 * replaces the straight-through copy.
 *
 * For an encoder output e (= z_e) and its chosen code q, with ê = e/‖e‖, q̂ = q/‖q‖:
 *
 *   r    = (ê + q̂) / ‖ê + q̂‖                      bisector of ê and q̂
 *   R    = I − 2 r rᵀ + 2 q̂ êᵀ                       the rotation taking ê to q̂ (Householder form)
 *   λ    = ‖q‖ / ‖e‖                                 rescaling
 *   q̃    = sg(λ R) · e                               forward value λ R e = q exactly
 *
 * Backward: ∂L/∂e = λ Rᵀ ∂L/∂q̃ = λ (g − 2 r (rᵀ g) + 2 ê (q̂ᵀ g)), g = ∂L/∂q̃ — the decoder's
 * gradient is rotated and scaled by how e relates to its code instead of being copied, so
 * points in the same Voronoi cell get different gradients depending on where they sit (the
 * paper's §4.2 argument for better codebook use). R is never materialized: R e costs two dot
 * products per row.
 *
 * Degenerate rows: when e or q is 0 the normalizations use ε and q̃ = q (up to ε); when ê = −q̂
 * exactly the bisector is undefined (a measure-zero case) and the ε keeps the output finite.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';

const EPS = 1e-12;

function rowNorm(x: Tensor): Tensor {
  return op.sqrt(op.add(op.reduceSum(op.mul(x, x), 1, true), EPS));
}

function rowDot(a: Tensor, b: Tensor): Tensor {
  return op.reduceSum(op.mul(a, b), 1, true);
}

/** q̃ = sg(λR)·e for rows e [M, d] and their codes q [M, d] (file comment); gradient reaches e only. */
export function rotateTo(e: Tensor, q: Tensor): Tensor {
  const es = op.stopGradient(e);
  const qs = op.stopGradient(q);
  const eNorm = rowNorm(es);
  const qNorm = rowNorm(qs);
  const eHat = op.div(es, eNorm);
  const qHat = op.div(qs, qNorm);
  const bisector = op.add(eHat, qHat);
  const r = op.div(bisector, rowNorm(bisector));
  const lambda = op.div(qNorm, eNorm);
  // λ (e − 2 r (r·e) + 2 q̂ (ê·e)): every factor but the explicit e is gradient-free.
  const rotated = op.add(op.sub(e, op.mul(op.mul(r, rowDot(r, e)), 2)), op.mul(op.mul(qHat, rowDot(eHat, e)), 2));
  return op.mul(rotated, lambda);
}

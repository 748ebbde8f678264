/**
 * Orthogonal regularization of a codebook (Shin et al., 2021, "Translation-equivariant Image
 * Quantizer for Bi-directional Image-Text Generation", arXiv:2112.00384, §3.2; the
 * `orthogonal_reg_weight` of vector-quantize-pytorch):
 *
 *   Ê      = rows of the codebook e [K, d], l2-normalized
 *   L_orth = ‖Ê Êᵀ − I_K‖²_F / K²
 *
 * the mean squared cosine similarity between distinct codes (the diagonal of Ê Êᵀ is 1 and
 * cancels). Pushing codes towards mutual orthogonality spreads them over the latent space, which
 * keeps more of them reachable. With K > d the minimum is not 0 (at most d vectors can be
 * orthogonal), so the term keeps pushing towards an even spread rather than reaching zero. It is
 * an O(K²·d) MatMul, affordable for K up to a few thousand.
 */
import * as op from '../graph/ops.js';
import type { Tensor } from '../graph/tensor.js';

/** ‖Ê Êᵀ − I‖²_F / K² for a codebook [K, d] (file comment). */
export function orthogonalLoss(codebook: Tensor): Tensor {
  const k = codebook.shape[0]!;
  const norm = op.sqrt(op.add(op.reduceSum(op.mul(codebook, codebook), 1, true), 1e-12));
  const unit = op.div(codebook, norm);
  const gram = op.matmul(unit, op.transpose(unit, [1, 0]));
  // ‖G − I‖²_F = ‖G‖²_F − 2·tr(G) + K with tr(G) = Σ_k ‖ê_k‖²: no K×K identity constant needed.
  const trace = op.reduceSum(op.mul(unit, unit));
  const frob = op.reduceSum(op.mul(gram, gram));
  return op.div(op.add(op.sub(frob, op.mul(trace, 2)), k), k * k);
}

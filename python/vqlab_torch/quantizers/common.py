"""What every quantizer shares (src/quantizers/quantizer.ts, nearest-code.ts, rotation-trick.ts,
orthogonal-regularization.ts): the output record, the nearest-code search with vqlab's score
and tie rule, the straight-through estimator, the rotation trick and the losses.

All arithmetic is float32, in the order vqlab's graph does it, so that the argmin of a score sees
the same values up to the rounding of the matrix products.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import torch
from torch import nn

#: Query rows per block of the nearest-code search (bounds the [rows, K] score block in memory).
SEARCH_ROWS = 4096


@dataclass
class QuantizerOutput:
    """A quantizer's result for z_e [M, d] (``QuantizerOutput`` of quantizer.ts)."""

    #: Forward value of the chosen codes, gradient by the quantizer's estimator, [M, d].
    quantized: torch.Tensor
    #: Chosen code per vector, int64 [M] ([M, D] for a residual quantizer of depth D).
    indices: torch.Tensor
    #: Weighted sum of the quantizer's loss terms (scalar).
    loss: torch.Tensor
    #: The unweighted terms, e.g. {"codebook", "commitment"} (scalars), for logging.
    terms: Dict[str, torch.Tensor] = field(default_factory=dict)
    #: How many of the M vectors chose each code, float32 [countsSize].
    counts: Optional[torch.Tensor] = None
    #: The vectors the codebook was searched with (gradient-free) [M, c], for host steps.
    search_inputs: Optional[torch.Tensor] = None


def nearest_code(z: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """k*(z_i) = argmin_k ‖z_i − e_k‖², ties → the lowest k (nearest-code.ts).

    ‖z_i‖² does not change the argmin, so the score minimised is the one vqlab's graph computes,
    one matrix product of the augmented operands

        s(z, k) = ‖e_k‖² − 2 z·e_k = [z, 1] · [−2e_k, ‖e_k‖²]ᵀ,

    and ``torch.argmin`` returns the first index attaining the minimum, as ONNX ArgMin does.
    """
    z = z.detach()
    e = codebook.detach()
    k = e.shape[0]
    table = torch.cat([(e * -2).t(), (e * e).sum(1).reshape(1, k)], 0)  # [d + 1, K]
    out = []
    for start in range(0, z.shape[0], SEARCH_ROWS):
        block = z[start : start + SEARCH_ROWS]
        queries = torch.cat([block, torch.ones(block.shape[0], 1, dtype=block.dtype, device=block.device)], 1)
        out.append(torch.argmin(queries @ table, 1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64, device=z.device)


def code_counts(indices: torch.Tensor, size: int) -> torch.Tensor:
    """Per-code counts of ``indices`` [M] over ``size`` codes, float32 [size]."""
    return torch.zeros(size, dtype=torch.float32, device=indices.device).index_add_(
        0, indices, torch.ones(indices.shape[0], dtype=torch.float32, device=indices.device))


def mean_squared_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(1/n) Σ (a − b)², the ‖·‖² of the VQ-VAE losses averaged over every element."""
    d = a - b
    return (d * d).mean()


def straight_through(z: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """z + sg(q − z): forward value q, gradient identity to z (VQ-VAE §3.1)."""
    return z + (q - z).detach()


def l2_normalize_rows(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """x / √(‖x‖² + ε) row by row; a zero row stays 0."""
    return x / torch.sqrt((x * x).sum(1, keepdim=True) + eps)


def _row_norm(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((x * x).sum(1, keepdim=True) + 1e-12)


def rotate_to(e: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """The rotation trick (Fifty et al. 2024, §4, eq. 4–6): q̃ = sg(λR)·e with

        ê = e/‖e‖,  q̂ = q/‖q‖,  r = (ê + q̂)/‖ê + q̂‖,  R = I − 2rrᵀ + 2q̂êᵀ,  λ = ‖q‖/‖e‖,

    whose forward value is q and whose gradient reaches e rotated and scaled by λRᵀ.
    """
    es, qs = e.detach(), q.detach()
    e_norm, q_norm = _row_norm(es), _row_norm(qs)
    e_hat, q_hat = es / e_norm, qs / q_norm
    bisector = e_hat + q_hat
    r = bisector / _row_norm(bisector)
    lam = q_norm / e_norm
    rotated = (e - (r * (r * e).sum(1, keepdim=True)) * 2) + (q_hat * (e_hat * e).sum(1, keepdim=True)) * 2
    return rotated * lam


def orthogonal_loss(codebook: torch.Tensor) -> torch.Tensor:
    """L_orth = ‖Ê Êᵀ − I‖²_F / K² for the l2-normalized rows Ê of a codebook [K, d]
    (Shin et al. 2021), as ‖G‖²_F − 2·tr(G) + K."""
    k = codebook.shape[0]
    unit = codebook / torch.sqrt((codebook * codebook).sum(1, keepdim=True) + 1e-12)
    gram = unit @ unit.t()
    trace = (unit * unit).sum()
    frob = (gram * gram).sum()
    return (frob - trace * 2 + k) / (k * k)


def quantize_against(z: torch.Tensor, codebook: torch.Tensor, *, beta: float, weight: float, size: int,
                     cosine: bool, rotation_trick: bool, orthogonal_weight: float) -> QuantizerOutput:
    """The VQ-VAE step against a codebook that takes gradient (VQ's e, SimVQ's C·W + b):

        k_i   = argmin_k ‖x_i − e_k‖²          (x, e l2-normalized first with ``cosine``)
        L_cb  = ‖sg(x) − e_k‖²,  L_com = ‖x − sg(e_k)‖²
        L     = weight · (L_cb + β·L_com [+ λ_orth·L_orth])
        out   = x + sg(e_k − x)                 (or the rotation trick)
    """
    x = l2_normalize_rows(z) if cosine else z
    e = l2_normalize_rows(codebook) if cosine else codebook
    indices = nearest_code(x, e)
    q = e[indices]
    codebook_loss = mean_squared_error(x.detach(), q)
    commitment = mean_squared_error(x, q.detach())
    inner = codebook_loss + commitment * beta
    terms = {"codebook": codebook_loss, "commitment": commitment}
    if orthogonal_weight > 0:
        terms["orthogonal"] = orthogonal_loss(codebook)
        inner = inner + terms["orthogonal"] * orthogonal_weight
    return QuantizerOutput(
        quantized=rotate_to(x, q) if rotation_trick else straight_through(x, q),
        indices=indices,
        loss=inner * weight,
        terms=terms,
        counts=code_counts(indices, size),
        search_inputs=x.detach(),
    )


def codebook_init(rows: int, width: int, init: str, scale: float) -> torch.Tensor:
    """A codebook [rows, width] as vqlab's ``init`` option draws it (vector-quantizer.ts,
    init/initializers.ts): 'uniform' U(±s), 'normal' N(0, s²), 'unit' each row a uniformly random
    direction of norm s (a standard normal row scaled to that norm; a zero row stays 0). Only the
    distribution is vqlab's, not its random numbers: a checkpoint's values replace these."""
    e = torch.empty(rows, width)
    if init == "uniform":
        return e.uniform_(-scale, scale)
    e.normal_(0, 1 if init == "unit" else scale)
    if init == "unit":
        norm = torch.sqrt((e * e).sum(1, keepdim=True))
        e = torch.where(norm > 0, e * (scale / norm), torch.zeros_like(e))
    return e


class VqlabLinear(nn.Module):
    """y = x·W + b with W [in, out] (layers/linear.ts), vqlab's layout, so names and shapes load
    as they are; initialized as nn.Linear, U(±1/√in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        bound = 1 / in_features ** 0.5
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y

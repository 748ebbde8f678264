"""VQ with an exponential-moving-average codebook (VQ-VAE appendix A.1; Sonnet's
VectorQuantizerEMA; src/quantizers/ema-vector-quantizer.ts). The codebook is not trained by
gradients; each training step, with n_i the vectors assigned to code i and Σ_j z_i,j their sum
(over the global batch under DDP):

    N_i ← γ·N_i + (1 − γ)·n_i,   m_i ← γ·m_i + (1 − γ)·Σ_j z_i,j
    Ñ_i = (N_i + ε) / (n + K·ε) · n,   n = Σ_i N_i
    e_i = m_i / Ñ_i

The search and the output use the codebook from before the update. Loss: weight·β·‖z_e − sg(e_k)‖².

Buffers: ``codebook`` e [K, d], ``ema_cluster_size`` N [K], ``ema_sum`` m [K, d]; with dead-code
replacement ``code_usage`` [K].
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..distributed import all_reduce_sum
from .common import QuantizerOutput, code_counts, codebook_init, mean_squared_error, nearest_code, rotate_to, straight_through
from .dead_codes import replace_dead_codes, replaces_dead_codes, track_usage
from .vq import RowReset


class EmaVectorQuantizer(nn.Module):
    kind = "ema"
    depth = 1

    def __init__(self, o: Dict[str, Any]) -> None:
        super().__init__()
        self.o = o
        self.codebook_size = int(o["codebookSize"])
        self.dim = int(o["dim"])
        self.counts_size = self.codebook_size
        e = codebook_init(self.codebook_size, self.dim, str(o["init"]), float(o["initScale"]))
        c = float(o["initialCount"])
        self.codebook: torch.Tensor
        self.ema_cluster_size: torch.Tensor
        self.ema_sum: torch.Tensor
        self.code_usage: Optional[torch.Tensor]
        self.register_buffer("codebook", e)
        self.register_buffer("ema_cluster_size", torch.full((self.codebook_size,), c))
        self.register_buffer("ema_sum", e * c)
        self.register_buffer("code_usage", torch.zeros(self.codebook_size) if replaces_dead_codes(o) else None)

    @property
    def needs_host_step(self) -> bool:
        return replaces_dead_codes(self.o)

    def no_decay(self) -> List[nn.Parameter]:
        return []

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        return self.codebook[indices]

    def search_space(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The vectors and codes the nearest-code search compares (agreement.py)."""
        return z, self.codebook

    def forward(self, z: torch.Tensor) -> QuantizerOutput:
        e = self.codebook
        k = self.codebook_size
        indices = nearest_code(z, e)
        q = e[indices]
        commitment = mean_squared_error(z, q.detach())
        counts = code_counts(indices, k)
        zs = z.detach()
        if self.training:
            with torch.no_grad():
                counts = all_reduce_sum(counts)
                batch_sum = all_reduce_sum(torch.zeros(k, self.dim, dtype=zs.dtype, device=zs.device).index_add_(0, indices, zs))
                decay = float(self.o["decay"])
                eps = float(self.o["epsilon"])
                next_n = self.ema_cluster_size * decay + counts * (1 - decay)
                next_m = self.ema_sum * decay + batch_sum * (1 - decay)
                n = next_n.sum()
                smoothed = (next_n + eps) / (n + k * eps) * n
                next_e = next_m / smoothed.reshape(k, 1)
                # e was read for q above; the in-place update is what vqlab's state update does after the step.
                self.ema_cluster_size.copy_(next_n)
                self.ema_sum.copy_(next_m)
                self.codebook.copy_(next_e)
                track_usage(self.code_usage, float(self.o["usageDecay"]), counts)
        return QuantizerOutput(
            quantized=rotate_to(z, q) if self.o["rotationTrick"] else straight_through(z, q),
            indices=indices,
            loss=commitment * (float(self.o["beta"]) * float(self.o["weight"])),
            terms={"commitment": commitment},
            counts=counts,
            search_inputs=zs,
        )

    def host_step(self, step: int, seed: int, out: QuantizerOutput, reset_rows: RowReset) -> int:
        """Dead-code replacement: a re-seeded code i gets e_i = m_i = v and N_i = 1."""
        if self.code_usage is None or out.search_inputs is None:
            return 0

        def write(codes: List[int], vectors: torch.Tensor) -> None:
            at = torch.tensor(codes, device=vectors.device)
            with torch.no_grad():
                self.codebook[at] = vectors
                self.ema_sum[at] = vectors
                self.ema_cluster_size[at] = 1.0

        return replace_dead_codes(self.o, self.code_usage, step, seed, out.search_inputs, out.counts, write)
